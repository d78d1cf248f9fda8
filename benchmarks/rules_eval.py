"""Precision and recall of the instruction rules, toxicity and language on hand-labelled answers.

`benchmarks/data/rules_labels.jsonl` holds 323 real answers from ../shared/data (AlpacaEval
outputs of alpaca-7b and llama-2-7b-chat, the Alpaca demo set, OASST and HH-RLHF
harmless-base), each read and labelled by hand: for every rule whether the problem is
really there, the record's language, and a one-line justification. Lines point into the
shared files (`source`, `key`: an index, or an OASST message id); the texts are not copied.

Two splits. `tuning` (240 answers) was labelled first and the rules were then revised
against it, so its figures are optimistic. `heldout` (83 answers) was drawn afterwards from
the answers not in `tuning`, flagged by the revised rules, and labelled before looking at
the rules' output on it again: its precision is the honest one (two more fixes were made
after it was scored; see benchmarks/README.md for its figures before them).

Both samples are stratified: every rule's flagged answers were over-sampled beside answers
drawn at random from each source, so precision is measured on enough flagged answers;
recall is measured on the labelled positives, which the over-sampling favours.

Compared in the same run: each rule's precision and recall, toxicity at the sft-default
maximum (0.9) and at `--max-toxicity 0.5`, and `lang_mismatch` of `--lang en`.
Target: precision >= 0.9 for every instruction rule.

    python benchmarks/rules_eval.py
    python benchmarks/rules_eval.py --show truncated   # list the disagreements of one rule
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
LABELS = Path(__file__).parent / "data" / "rules_labels.jsonl"
sys.path.insert(0, str(ROOT))

from curate.filtering import FilterOptions, filter_records
from curate.scoring import ScoreOptions, score_records

INSTRUCTION_RULES = ("empty_answer", "placeholder", "truncated", "refusal", "ai_boilerplate",
                     "template_tokens", "missing_image", "figure_code", "api_error",
                     "broken_latex", "broken_markdown")


def _oasst_pairs() -> dict[str, tuple[str, str]]:
    pairs: dict[str, tuple[str, str]] = {}

    def walk(node: dict) -> None:
        for reply in node.get("replies") or []:
            if reply["role"] == "assistant":
                pairs[reply["message_id"]] = (node["text"], reply["text"])
            walk(reply)

    for line in (DATA / "oasst_en_100_messages.jsonl").read_text(encoding="utf-8").splitlines():
        walk(json.loads(line))
    return pairs


def _hh_pair(transcript: str) -> tuple[str, str]:
    """The last human turn and the last assistant reply (split on the last "Assistant:")."""
    cut = transcript.rfind("\n\nAssistant:")
    before = transcript[:cut]
    return before[before.rfind("\n\nHuman:") + 8:].strip(), transcript[cut + 12:].strip()


def load() -> list[dict]:
    """The labelled records: `{"prompt", "answer", "labels", "lang", "why", "ref"}`."""
    oasst = _oasst_pairs()
    with gzip.open(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "rt", encoding="utf-8") as f:
        hh = [json.loads(line)["chosen"] for line in f]
    files: dict[str, list] = {}
    records = []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        label = json.loads(line)
        source, key = label["source"], label["key"]
        if source.startswith("oasst"):
            prompt, answer = oasst[key]
        elif source.startswith("hh_rlhf"):
            prompt, answer = _hh_pair(hh[int(key)])
        else:
            rows = files.setdefault(source, json.loads((DATA / source).read_text(encoding="utf-8")))
            row = rows[int(key)]
            prompt = row["instruction"] + (f"\n\n{row['input']}" if row.get("input") else "")
            answer = row["output"]
        records.append({**label, "prompt": prompt, "answer": answer, "ref": f"{source}#{key}"})
    return records


def _row(name: str, predicted: list[bool], truth: list[bool]) -> tuple[str, int, int, int, str, str]:
    tp = sum(p and t for p, t in zip(predicted, truth))
    flagged, positives = sum(predicted), sum(truth)
    precision = f"{tp / flagged:.3f}" if flagged else "-"
    recall = f"{tp / positives:.3f}" if positives else "-"
    return name, positives, flagged, tp, precision, recall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", help="print the disagreements of this rule")
    parser.add_argument("--split", choices=("all", "tuning", "heldout"), default="all")
    args = parser.parse_args()
    labelled = [r for r in load() if args.split in ("all", r["split"])]
    records = [{"id": r["ref"], "messages": [{"role": "user", "content": r["prompt"]},
                                             {"role": "assistant", "content": r["answer"]}]}
               for r in labelled]
    scored = score_records(records, ScoreOptions(signals=["instruction", "toxicity", "language"]))
    rows, predictions = [], {}
    for rule in INSTRUCTION_RULES:
        predictions[rule] = [bool(s["scores"][rule]) for s in scored]
        rows.append(_row(rule, predictions[rule], [r["labels"][rule] for r in labelled]))
    toxic = [r["labels"]["toxic"] for r in labelled]
    for limit in (0.9, 0.5):
        name = f"toxicity > {limit}"
        predictions[name] = [s["scores"]["toxicity"] > limit for s in scored]
        rows.append(_row(name, predictions[name], toxic))
    kept = filter_records(scored, FilterOptions(lang=["en"]))
    mismatched = {line["record"]["id"] for line in kept.removed}
    predictions["lang_mismatch"] = [r["ref"] in mismatched for r in labelled]
    rows.append(_row("lang_mismatch (--lang en)", predictions["lang_mismatch"],
                     [r["lang"] != "en" for r in labelled]))
    print(f"{len(labelled)} hand-labelled answers ({LABELS.name}, split: {args.split})")
    print(f"{'rule':28} {'labelled':>8} {'flagged':>8} {'agree':>6} {'precision':>9} {'recall':>7}")
    for name, positives, flagged, tp, precision, recall in rows:
        print(f"{name:28} {positives:8d} {flagged:8d} {tp:6d} {precision:>9} {recall:>7}")
    low = [name for name, *_, precision, _ in rows if name in INSTRUCTION_RULES
           and precision != "-" and float(precision) < 0.9]
    print("instruction rules under 0.9 precision:", ", ".join(low) or "none")
    if args.show:
        truth_key = "toxic" if args.show.startswith("toxicity") else args.show
        for r, predicted in zip(labelled, predictions[args.show]):
            truth = r["lang"] != "en" if args.show == "lang_mismatch" else r["labels"][truth_key]
            if predicted != truth:
                kind = "false positive" if predicted else "missed"
                print(f"\n{kind}: {r['ref']} ({r['why']})\n  ...{r['answer'][-160:]!r}")


if __name__ == "__main__":
    main()
