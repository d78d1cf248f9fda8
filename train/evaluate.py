"""`train eval`: did training help? Three measures of one run or model.

* `--math FILE`: sample answers to problems with reference answers and check them with
  `curate select`'s answer checking (`curate.select.answers`), as `train grpo` rewards
  them: accuracy (mean over the K samples of each problem), pass@K, and the share of
  answers with no final answer at all.
* `--pairs FILE`: pairwise accuracy on preference pairs, beside the accuracy of "the
  longer answer wins" on the same pairs. A reward model (a sequence classifier) scores
  both answers; a causal LM is scored by DPO's implicit reward, `log pi(y|x) - log
  pi_ref(y|x)` (per token for `sigmoid_norm` and `ipo` runs; SimPO runs use the
  reference-free average log-prob), with the reference from `--ref` or the run's
  config.yaml.
* `--against RUN --judge RM --prompts FILE`: both models answer each prompt (same
  sampling), the judge reward model scores both answers; the win rate (ties half) and the
  length-controlled win rate (AlpacaEval's logistic length model, as `label report`
  computes it: `labeling_app.metrics.length_model`).

Writes OUTPUT/eval.json, eval.png, eval.html, and per-item results (math.jsonl,
pairs.jsonl, against.jsonl); OUTPUT defaults to RUN_DIR/eval for a run directory.
"""

from __future__ import annotations

import base64
import html
import json
import sys
from pathlib import Path
from typing import Any

from curate.io import Rejects, atomic_path, write_json, write_records
from curate.progress import progress
from curate.select.answers import answers_match, extract_answer
from train.data import length_baseline, load_pairs, load_prompts
from train.models import check_model_exists
from train.options import EvalOptions
from train.rundir import MARKER
from train.sampling import Sampler, source_name

EVAL_MARKER = ".prefkit-eval"


def run_eval(options: EvalOptions) -> dict[str, Any]:
    from train.runner import configure_libraries

    configure_libraries()
    source = check_model_exists(options.source)
    for name in ("against", "judge", "ref"):
        if getattr(options, name):
            check_model_exists(getattr(options, name), what=name)
    out = output_dir(options, source)
    result: dict[str, Any] = {"model": options.source,
                              "sampling": {key: getattr(options, key) for key in (
                                  "k", "temperature", "top_p", "max_new_tokens", "seed")}}
    details: dict[str, list[dict[str, Any]]] = {}
    for name, evaluate in (("math", eval_math), ("pairs", eval_pairs),
                           ("against", eval_against)):
        if getattr(options, name):
            result[name], details[name] = evaluate(source, options)
    # written only once every measure succeeded: a failure leaves nothing half done
    out.mkdir(parents=True, exist_ok=True)
    (out / EVAL_MARKER).touch()
    for name, rows in details.items():
        write_records(out / f"{name}.jsonl", rows)
    write_json(out / "eval.json", result)
    plot(result, out / "eval.png")
    write_html(result, out)
    print(summary_line(result, out), file=sys.stderr)
    return result


def output_dir(options: EvalOptions, source: str) -> Path:
    """`--output`, else RUN_DIR/eval for a run directory. A directory that holds anything
    but an earlier evaluation's files is refused: eval never overwrites what it did not
    write."""
    if options.output is not None:
        out = options.output
    elif (Path(source) / MARKER).is_file():
        out = Path(source) / "eval"
    else:
        raise ValueError(f"output: {options.source} is not a `train` run directory; pass "
                         "--output DIR for the results")
    if out.exists() and any(out.iterdir()) and not (out / EVAL_MARKER).exists():
        raise ValueError(f"{out}: exists and was not written by `train eval`; choose another "
                         "--output")
    return out


# -- math -----------------------------------------------------------------------------------

def eval_math(source: str, options: EvalOptions) -> tuple[dict[str, Any], list[dict]]:
    data = load_prompts(options.math, Rejects(options.on_error), dedup=False,
                        prompt_field=options.prompt_field, template=options.prompt_template,
                        answer_field=options.answer_field, need_answers=True)
    sampler = Sampler(source, options)
    prompts = [sampler.prompt_ids(e.row["prompt"]) for e in data.examples]
    rows = []
    with progress("train eval", "math problems", len(prompts)) as advance:
        for example, sample in zip(data.examples, sampler.sample(prompts, advance), strict=True):
            answers = [extract_answer(text) for text in sample.texts]
            correct = [answers_match(answer, example.row["answer"]) for answer in answers]
            rows.append({"id": example.id, "reference": example.row["answer"],
                         "answers": answers, "correct": correct, "responses": sample.texts,
                         "truncated": sample.truncated})
    k = options.k
    return {"file": str(options.math), "n": len(rows), "k": k,
            "accuracy": sum(sum(r["correct"]) / k for r in rows) / len(rows),
            f"pass@{k}": sum(any(r["correct"]) for r in rows) / len(rows),
            "no_answer": sum(a is None for r in rows for a in r["answers"]) / (len(rows) * k),
            "truncated": sum(r["truncated"] for r in rows) / (len(rows) * k),
            "removed": len(data.removed), "rejected": len(data.rejects)}, rows


# -- pairs ----------------------------------------------------------------------------------

def eval_pairs(source: str, options: EvalOptions) -> tuple[dict[str, Any], list[dict]]:
    data = load_pairs(options.pairs, Rejects(options.on_error))
    examples = data.examples
    if is_reward_model(source):
        chosen, rejected = reward_scores(source, [e.row for e in examples], options.batch_size)
        scorer = "reward model"
    else:
        chosen, rejected, scorer = implicit_rewards(source, [e.row for e in examples], options)
    rows = [{"id": e.id, "chosen_score": c, "rejected_score": r,
             "correct": 1.0 if c > r else 0.5 if c == r else 0.0,
             "chosen_chars": e.answer_chars[0], "rejected_chars": e.answer_chars[1]}
            for e, c, r in zip(examples, chosen, rejected, strict=True)]
    return {"file": str(options.pairs), "n": len(rows), "scorer": scorer,
            "accuracy": sum(r["correct"] for r in rows) / len(rows),
            "length_baseline_accuracy": length_baseline(examples),
            "removed": len(data.removed),
            "removed_by_reason": _count(reason for _, reason in data.removed)}, rows


def is_reward_model(source: str) -> bool:
    from transformers import AutoConfig

    architectures = AutoConfig.from_pretrained(source).architectures or []
    return any(name.endswith("ForSequenceClassification") for name in architectures)


def reward_scores(source: str, rows: list[dict[str, Any]], batch_size: int,
                  sides: tuple[str, str] = ("chosen", "rejected")) -> tuple[list, list]:
    """The reward model's score of each side (messages), read at the end-of-turn token."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from train.models import load_tokenizer, pick_device
    from train.ppo import score_sequences
    from train.template import conversation_ids, end_of_turn_id, resolve_template

    device = pick_device()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(device.precision, torch.float32)
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=1, dtype=dtype).to(device.name).eval()
    tokenizer = load_tokenizer(source)
    if not tokenizer.chat_template:
        resolve_template(tokenizer, model_name=source)
    end = end_of_turn_id(tokenizer)
    scores: tuple[list, list] = ([], [])
    with torch.inference_mode(), progress("train eval", "scored pairs", len(rows)) as advance:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            for side, into in zip(sides, scores, strict=True):
                sequences = [conversation_ids(tokenizer, row["prompt"] + row[side], end)
                             for row in batch]
                into += score_sequences(model, sequences, tokenizer.pad_token_id,
                                        device.name).float().tolist()
            advance(len(batch))
    return scores


def implicit_rewards(source: str, rows: list[dict[str, Any]], options: EvalOptions
                     ) -> tuple[list, list, str]:
    """DPO's implicit reward margin of each side (its sign decides; beta only scales it)."""
    loss = _run_option(source, "loss") or "sigmoid"
    reference = None if loss == "simpo" else (options.ref or _reference_of(source))
    per_token = loss in ("simpo", "sigmoid_norm", "ipo")
    policy = _answer_logprobs(source, rows, options.batch_size)
    base = _answer_logprobs(reference, rows, options.batch_size) if reference else None
    sides: tuple[list, list] = ([], [])
    for index, pair in enumerate(policy):
        for side, into in enumerate(sides):
            total, count = pair[side]
            if base is not None:
                total -= base[index][side][0]
            into.append(total / max(1, count) if per_token else total)
    scorer = f"implicit reward ({loss}" + (f", reference {reference})" if reference else ")")
    return sides[0], sides[1], scorer


def _answer_logprobs(source: str, rows: list[dict[str, Any]], batch_size: int
                     ) -> list[tuple[tuple[float, int], tuple[float, int]]]:
    import torch
    from transformers import AutoModelForCausalLM

    from train.dpo import measure
    from train.logprobs import sequence_logprobs
    from train.models import load_tokenizer, pick_device
    from train.template import resolve_template

    device = pick_device()
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(device.precision, torch.float32)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype).to(device.name).eval()
    tokenizer = load_tokenizer(source)
    if not tokenizer.chat_template:
        resolve_template(tokenizer, model_name=source)
    sequences, starts = [], []
    for row in rows:
        tokens = measure(tokenizer, row).row
        prompt = tokens["prompt_ids"]
        for side in ("chosen_ids", "rejected_ids"):
            sequences.append(prompt + tokens[side])
            starts.append(len(prompt))
    with progress("train eval", f"log-probs under {source_name(source)}", len(sequences)):
        scores = sequence_logprobs(model, sequences, starts, pad_id=tokenizer.pad_token_id,
                                   batch_size=batch_size)
    return [(scores[2 * i], scores[2 * i + 1]) for i in range(len(rows))]


def _run_option(source: str, name: str) -> Any:
    import yaml

    config = Path(source) / "config.yaml"
    if not config.is_file():
        return None
    return (yaml.safe_load(config.read_text(encoding="utf-8")).get("options") or {}).get(name)


def _reference_of(source: str) -> str:
    """A DPO run's reference: the model it started from (its tiny base model for `tiny`)."""
    start = _run_option(source, "model")
    if start == "tiny":
        return str(Path(source) / "base_model")
    if start is None:
        raise ValueError(f"ref: {source} is not a `train dpo` run directory, so its reference "
                         "model is unknown; pass --ref MODEL")
    return check_model_exists(start, what="reference model")


# -- against ----------------------------------------------------------------------------------

def eval_against(source: str, options: EvalOptions) -> tuple[dict[str, Any], list[dict]]:
    import polars as pl

    from labeling_app.metrics import length_model

    data = load_prompts(options.prompts, Rejects(options.on_error), dedup=False,
                        prompt_field=options.prompt_field, template=options.prompt_template)
    names = (source_name(options.source), source_name(options.against))
    if names[0] == names[1]:
        names = (options.source, options.against)
    answers = [_answers(model, options, data.examples)
               for model in (source, check_model_exists(options.against))]
    pairs = [{"prompt": e.row["prompt"], "a": [{"role": "assistant", "content": a}],
              "b": [{"role": "assistant", "content": b}]}
             for e, a, b in zip(data.examples, *answers, strict=True)]
    score_a, score_b = reward_scores(options.judge, pairs, options.batch_size, ("a", "b"))
    rows = []
    for example, a, b, sa, sb in zip(data.examples, *answers, score_a, score_b, strict=True):
        winner = "a" if sa > sb else "b" if sb > sa else "tie"
        rows.append({"id": example.id, "winner": winner, "score_a": sa, "score_b": sb,
                     "len_a": len(a), "len_b": len(b), "source_a": names[0],
                     "source_b": names[1], "response_a": a, "response_b": b})
    frame = pl.DataFrame([{k: row[k] for k in ("winner", "len_a", "len_b", "source_a",
                                                "source_b")} for row in rows])
    controlled = length_model(frame)
    wins = {"a": 1.0, "tie": 0.5, "b": 0.0}
    return {"against": options.against, "judge": options.judge, "prompts": str(options.prompts),
            "n": len(rows), "win_rate": sum(wins[r["winner"]] for r in rows) / len(rows),
            "lc_win_rate": controlled["lc_win_rate"].get(names[0]),
            "length_coef": controlled["length_coef"],
            "ties": sum(r["winner"] == "tie" for r in rows),
            "mean_chars": {names[0]: sum(r["len_a"] for r in rows) / len(rows),
                           names[1]: sum(r["len_b"] for r in rows) / len(rows)}}, rows


def _answers(model: str, options: EvalOptions, examples: list[Any]) -> list[str]:
    """One answer per prompt (the first of K), the model unloaded afterwards."""
    sampler = Sampler(model, options)
    prompts = [sampler.prompt_ids(e.row["prompt"]) for e in examples]
    with progress("train eval", f"answers of {source_name(model)}", len(prompts)) as advance:
        texts = [sample.texts[0] for sample in sampler.sample(prompts, advance)]
    del sampler
    return texts


# -- report -----------------------------------------------------------------------------------

def summary_line(result: dict[str, Any], out: Path) -> str:
    parts = []
    if "math" in result:
        math = result["math"]
        parts.append(f"math accuracy {math['accuracy']:.3f} (n={math['n']}, k={math['k']})")
    if "pairs" in result:
        pairs = result["pairs"]
        baseline = pairs["length_baseline_accuracy"]
        parts.append(f"pair accuracy {pairs['accuracy']:.3f} vs longer-wins "
                     f"{baseline:.3f} (n={pairs['n']})")
    if "against" in result:
        against = result["against"]
        controlled = against["lc_win_rate"]
        parts.append(f"win rate {against['win_rate']:.3f} vs {against['against']}"
                     + (f" (length-controlled {controlled:.3f})" if controlled is not None
                        else ""))
    return f"train eval {result['model']}: {', '.join(parts)} -> {out}"


def bars(result: dict[str, Any]) -> list[tuple[str, float, str]]:
    """(label, value, group) of each headline figure."""
    shown = []
    if "math" in result:
        shown.append(("math accuracy", result["math"]["accuracy"], "model"))
    if "pairs" in result:
        shown += [("pair accuracy", result["pairs"]["accuracy"], "model"),
                  ("longer answer wins", result["pairs"]["length_baseline_accuracy"] or 0.0,
                   "baseline")]
    if "against" in result:
        shown.append(("win rate", result["against"]["win_rate"], "model"))
        if result["against"]["lc_win_rate"] is not None:
            shown.append(("length-controlled win rate", result["against"]["lc_win_rate"],
                          "model"))
    return shown


def plot(result: dict[str, Any], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shown = bars(result)
    figure = Figure(figsize=(1.6 + 1.4 * len(shown), 3.4))
    FigureCanvasAgg(figure)
    axis = figure.subplots()
    colours = {"model": "#3b6ea5", "baseline": "#b0b0b0"}
    axis.bar([label for label, _, _ in shown], [value for _, value, _ in shown],
             color=[colours[group] for _, _, group in shown])
    for index, (_, value, _) in enumerate(shown):
        axis.text(index, value + 0.02, f"{value:.2f}", ha="center")
    axis.set_ylim(0, 1.1)
    if "pairs" in result or "against" in result:  # chance for pairs and win rates
        axis.axhline(0.5, color="#888888", linewidth=0.8, linestyle=":")
    axis.set_title(f"train eval: {source_name(result['model'])}")
    axis.tick_params(axis="x", labelsize=8, rotation=15)
    figure.tight_layout()
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=100)


def write_html(result: dict[str, Any], out: Path) -> None:
    image = base64.b64encode((out / "eval.png").read_bytes()).decode()
    rows = "".join(f"<tr><td>{html.escape(label)}</td><td>{value:.3f}</td></tr>"
                   for label, value, _ in bars(result))
    page = (f"<!doctype html><meta charset='utf-8'><title>train eval</title>"
            f"<style>body{{font-family:sans-serif;margin:2em}}td{{padding:2px 12px}}</style>"
            f"<h1>train eval: {html.escape(result['model'])}</h1>"
            f"<table>{rows}</table><img alt='figures' src='data:image/png;base64,{image}'>"
            f"<h2>Details</h2><pre>{html.escape(json.dumps(result, indent=2))}</pre>")
    with atomic_path(out / "eval.html") as temp:
        temp.write_text(page, encoding="utf-8")


def _count(reasons: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for reason in reasons:
        counts[reason] = counts.get(reason, 0) + 1
    return counts
