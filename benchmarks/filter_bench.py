"""Web-rule filtering speed and agreement: prefkit vs datatrove, same documents, one run.

Runs the `web-gopher` + `c4` + `fineweb` presets (Gopher quality and repetition,
C4, FineWeb rules) and datatrove's GopherQualityFilter, GopherRepetitionFilter,
C4QualityFilter and FineWebQualityFilter on the same >= 30k real texts (every
prompt and answer in ../shared/data), one process each, one after the other.
Prints docs/s for both, the ratio, and the keep/drop agreement per rule and per
filter.

Per rule: a datatrove filter stops at its first failing rule and names it, so a
document counts as dropped by a rule when that rule is the first to fail in
datatrove's order, for datatrove and for prefkit alike (prefkit's removed lines
list every failing rule, in `reasons`).

    pip install datatrove spacy     # benchmark-only peers (the `bench` extra)
    python benchmarks/filter_bench.py
    python benchmarks/filter_bench.py --limit 2000
    python benchmarks/filter_bench.py --gopher-command

`--gopher-command` times the whole `curate filter --preset web-gopher` command (process
start, reading and writing JSON Lines included) on the AlpacaEval outputs (1,610 real
answers, repeated `--copies` times, 4 by default) against datatrove's GopherQualityFilter and
GopherRepetitionFilter in a LocalPipelineExecutor pipeline from JSON Lines to JSON Lines, each
a whole command timed as a child process (with `--workers 2`'s pool workers' CPU counted).

Offline: datatrove's English word tokenizer is `spacy.blank("en")` plus spaCy's
rule-based sentencizer; neither needs a model download (no `spacy download`, no
NLTK data), so the benchmark runs with no network.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from curate.filtering import FilterOptions, filter_records

PRESETS = ("web-gopher", "c4", "fineweb")

# Per datatrove filter, its rules in the order it checks them: (datatrove's reason, prefkit's).
RULES: dict[str, list[tuple[str, str]]] = {
    "gopher_quality": [
        ("gopher_short_doc", "words_below_min"),
        ("gopher_long_doc", "words_above_max"),
        ("gopher_below_avg_threshold", "mean_word_length_below_min"),
        ("gopher_above_avg_threshold", "mean_word_length_above_max"),
        ("gopher_too_many_hashes|gopher_too_many_ellipsis", "symbol_word_ratio_above_max"),
        ("gopher_too_many_bullets", "bullet_lines_above_max"),
        ("gopher_too_many_end_ellipsis", "ellipsis_lines_above_max"),
        ("gopher_below_alpha_threshold", "alpha_words_below_min"),
        ("gopher_enough_stop_words", "stop_words_below_min"),
    ],
    "gopher_repetition": [
        ("dup_para_frac", "dup_para_frac_above_max"),
        ("dup_para_char_frac", "dup_para_char_frac_above_max"),
        ("dup_line_frac", "dup_line_frac_above_max"),
        ("dup_line_char_frac", "dup_line_char_frac_above_max"),
        *((f"top_{n}_gram", f"top_{n}gram_char_frac_above_max") for n in (2, 3, 4)),
        *((f"duplicated_{n}_n_grams", f"dup_{n}gram_char_frac_above_max") for n in range(5, 11)),
    ],
    "c4": [
        ("lorem_ipsum", "c4_lorem_ipsum"),
        ("curly_bracket", "c4_curly_bracket"),
        ("too_few_sentences", "c4_sentences_below_min"),
    ],
    "fineweb": [
        ("line_punct_ratio", "line_punct_ratio_below_min"),
        ("short_line_ratio", "short_line_ratio_above_max"),
        ("char_dup_ratio", "char_dup_ratio_above_max"),
        ("list_ratio", "newline_ratio_above_max"),
    ],
}


def _hh_turns(transcript: str) -> list[str]:
    parts = transcript.replace("\n\nAssistant:", "\n\nHuman:").split("\n\nHuman:")
    return [part.strip() for part in parts if part.strip()]


def _oasst_texts(node: dict) -> list[str]:
    return [node["text"]] + [text for reply in node.get("replies", []) for text in _oasst_texts(reply)]


def _jsonl(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _json(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def corpus() -> list[str]:
    """Every prompt and answer text in ../shared/data (about 47k texts)."""
    texts: list[str] = []
    for record in _jsonl(DATA / "gsm8k_train.jsonl"):
        texts += [record["question"], record["answer"]]
    for record in _jsonl(DATA / "hh_rlhf_harmless_base_test.jsonl.gz"):
        texts += _hh_turns(record["chosen"]) + _hh_turns(record["rejected"])
    for record in _json(DATA / "alpaca_en_demo_1k.json"):
        texts += [record["instruction"] + ("\n\n" + record["input"] if record["input"] else ""),
                  record["output"]]
    for name in ("alpaca-7b_outputs.json", "llama-2-7b-chat-hf_outputs.json"):
        for record in _json(DATA / "alpaca_eval" / name):
            texts += [record["instruction"], record["output"]]
    for name in ("math500_test.jsonl", "aime24_test.jsonl"):
        for record in _jsonl(DATA / name):
            texts += [record["problem"], record.get("solution") or ""]
    for record in _jsonl(DATA / "oasst_en_100_trees.jsonl"):
        texts += _oasst_texts(record["prompt"])
    for record in _json(DATA / "dpo_en_demo_300.json"):
        texts += [turn["value"] for turn in record["conversations"]]
        texts += [record["chosen"]["value"], record["rejected"]["value"]]
    for record in _jsonl(DATA / "alpaca_seed_tasks.jsonl"):
        texts.append(record["instruction"])
        texts += [instance["output"] for instance in record["instances"]]
    return [text for text in texts if text.strip()]


def run_prefkit(texts: list[str]) -> tuple[tuple[float, float], list[set[str]]]:
    """Timing and, per document, every failing rule (empty when kept)."""
    options = FilterOptions(preset=list(PRESETS), field="text", report=False)
    records = [{"id": i, "text": text} for i, text in enumerate(texts)]
    filter_records([{"id": -1, "text": "Warm up."}], options)  # load the language model untimed
    started = _clock()
    result = filter_records(records, options)
    seconds = _elapsed(started)
    failing: list[set[str]] = [set() for _ in texts]
    for line in result.removed:
        failing[line["record"]["id"]] = set(line["reasons"])
    return seconds, failing


def run_datatrove(texts: list[str]) -> tuple[tuple[float, float], list[dict[str, str | None]]]:
    """Timing and, per document and filter, datatrove's reason for dropping it (None: kept)."""
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = {"gopher_quality": GopherQualityFilter(), "gopher_repetition": GopherRepetitionFilter(),
               "c4": C4QualityFilter(), "fineweb": FineWebQualityFilter()}
    filters["c4"].filter(Document(text="Warm up spaCy.", id="0"))  # load the tokenizer untimed
    started = _clock()
    reasons = []
    for i, text in enumerate(texts):
        row: dict[str, str | None] = {}
        for name, step in filters.items():
            result = step.filter(Document(text=text, id=str(i)))
            row[name] = None if result is True else result[1] if isinstance(result, tuple) else "?"
        reasons.append(row)
    return _elapsed(started), reasons


def first_failing(family: str, failing: set[str]) -> str | None:
    """prefkit's first failing rule of a datatrove filter, in datatrove's order (its reason)."""
    return next((theirs for theirs, ours in RULES[family] if ours in failing), None)


def their_rule(family: str, reason: str | None) -> str | None:
    """The RULES entry naming datatrove's `reason` (None: kept, or no rule of ours, e.g. "empty")."""
    return next((theirs for theirs, _ in RULES[family] if reason in theirs.split("|")), None)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(started: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time is what to compare on a shared
    machine, where other processes stretch the wall clock."""
    return time.perf_counter() - started[0], time.process_time() - started[1]


def report(texts: list[str], ours: list[set[str]], theirs: list[dict[str, str | None]]) -> float:
    """Print agreement per filter and per rule; return the lowest per-rule agreement."""
    total = len(texts)
    print("keep/drop agreement with datatrove (a rule drops a document when it is the first of its "
          "filter to fail):")
    print(f"  {'filter / rule (prefkit reason)':58s} {'agree':>8s} {'prefkit drops':>14s} "
          f"{'datatrove drops':>16s}")
    lowest = (1.0, "")
    for family, rules in RULES.items():
        firsts = [first_failing(family, failing) for failing in ours]
        their_firsts = [their_rule(family, row[family]) for row in theirs]
        dropped_theirs = [row[family] is not None for row in theirs]
        agree = sum((a is not None) == b for a, b in zip(firsts, dropped_theirs)) / total
        print(f"  {family:58s} {agree:8.2%} {sum(a is not None for a in firsts):14,d} "
              f"{sum(dropped_theirs):16,d}")
        for rule_theirs, rule_ours in rules:
            mine = [first == rule_theirs for first in firsts]
            other = [first == rule_theirs for first in their_firsts]
            rate = sum(a == b for a, b in zip(mine, other)) / total
            lowest = min(lowest, (rate, rule_ours))
            print(f"    {rule_ours:56s} {rate:8.2%} {sum(mine):14,d} {sum(other):16,d}")
    overall = sum(bool(failing) == any(row.values()) for failing, row in zip(ours, theirs)) / total
    print(f"  {'all four filters together':58s} {overall:8.2%}")
    print(f"lowest per-rule agreement: {lowest[0]:.2%} ({lowest[1]})")
    return lowest[0]


DATATROVE_PIPELINE = """
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

source, out, logs = sys.argv[1:]
LocalPipelineExecutor(pipeline=[JsonlReader(source), GopherQualityFilter(),
                                GopherRepetitionFilter(), JsonlWriter(out)],
                      tasks=1, workers=1, logging_dir=logs).run()
"""


def gopher_command(repeat: int = 4, peer: bool = True) -> None:
    """The whole `curate filter --preset web-gopher` command against datatrove's Gopher filters
    run the way datatrove documents it: a LocalPipelineExecutor pipeline from a JSON Lines
    reader through GopherQualityFilter and GopherRepetitionFilter to a JSON Lines writer.
    Both are whole commands, file to file, timed as child processes on the same input.
    Without `peer`, only prefkit with 1 and 2 workers (to measure the pool on a big input,
    where datatrove would take 10x as long)."""
    import tempfile

    texts = [record["output"] for name in ("alpaca-7b_outputs.json", "llama-2-7b-chat-hf_outputs.json")
             for record in _json(DATA / "alpaca_eval" / name)] * repeat
    megabytes = sum(len(text.encode()) for text in texts) / 1e6
    print(f"documents: {len(texts):,} AlpacaEval outputs ({repeat}x), "
          f"{sum(map(len, texts)) / len(texts):,.0f} characters on average, {megabytes:.1f} MB")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in" / "docs.jsonl"
        source.parent.mkdir()
        source.write_text("".join(json.dumps({"id": str(i), "text": text}) + "\n"
                                  for i, text in enumerate(texts)), encoding="utf-8")
        script = Path(folder) / "datatrove_gopher.py"
        script.write_text(DATATROVE_PIPELINE)
        runs = {
            "prefkit: curate filter --preset web-gopher": [
                sys.executable, "-m", "curate.cli", "filter", str(source), "-o",
                str(Path(folder) / "out.jsonl"), "--preset", "web-gopher", "--field", "text",
                "--no-report"],
            "prefkit: the same, --workers 2": [
                sys.executable, "-m", "curate.cli", "filter", str(source), "-o",
                str(Path(folder) / "out2.jsonl"), "--preset", "web-gopher", "--field", "text",
                "--no-report", "--workers", "2"],
            "datatrove: reader -> Gopher quality + repetition -> writer": [
                sys.executable, str(script), str(source.parent), str(Path(folder) / "dt"),
                str(Path(folder) / "logs")],
        }
        if not peer:
            runs.popitem()
        from timed_command import checkout_env, run

        env = checkout_env(ROOT)
        times = {}
        for label, command in runs.items():  # pool workers' CPU counted (see timed_command)
            timing = run(command, log=Path(folder) / "command.log", env=env)
            times[label] = (timing.wall, timing.cpu)
    print(f"{'':60s} {'docs/s (CPU)':>13s} {'MB/s (CPU)':>11s} {'docs/s (wall)':>14s}")
    for label, (wall, cpu) in times.items():
        print(f"{label:60s} {len(texts) / cpu:13,.0f} {megabytes / cpu:11.2f} "
              f"{len(texts) / wall:14,.0f}")
    ours, two = list(times.values())[:2]
    if peer:
        theirs = times[list(runs)[2]]
        print(f"speed ratio prefkit command / datatrove command: {theirs[1] / ours[1]:.1f}x "
              f"(CPU time), {theirs[0] / ours[0]:.1f}x (wall)")
    print(f"--workers 2 over 1: {ours[0] / two[0]:.2f}x (wall); machine load "
          f"{os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N texts")
    parser.add_argument("--gopher-command", action="store_true",
                        help="time the whole web-gopher filter command on AlpacaEval outputs")
    parser.add_argument("--copies", type=int, default=4,
                        help="--gopher-command: the AlpacaEval outputs this many times over")
    parser.add_argument("--no-peer", action="store_true",
                        help="--gopher-command: time prefkit with 1 and 2 workers only")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs the shared real-data folder")
    if args.gopher_command:
        gopher_command(args.copies, peer=not args.no_peer)
        return
    texts = corpus()[: args.limit]
    print(f"documents: {len(texts):,} (every prompt and answer in {DATA}), "
          f"{sum(map(len, texts)) / len(texts):,.0f} characters on average")
    (ours_wall, ours_cpu), ours = run_prefkit(texts)
    (theirs_wall, theirs_cpu), theirs = run_datatrove(texts)
    print(f"{'':40s} {'docs/s (CPU time)':>18s} {'docs/s (wall)':>14s}")
    print(f"{'prefkit web-gopher + c4 + fineweb':40s} {len(texts) / ours_cpu:>18,.0f} "
          f"{len(texts) / ours_wall:>14,.0f}")
    print(f"{'datatrove 4 filters (spaCy tokenizer)':40s} {len(texts) / theirs_cpu:>18,.0f} "
          f"{len(texts) / theirs_wall:>14,.0f}")
    print(f"speed ratio prefkit/datatrove: {theirs_cpu / ours_cpu:.1f}x (CPU time), "
          f"{theirs_wall / ours_wall:.1f}x (wall)")
    report(texts, ours, theirs)


if __name__ == "__main__":
    main()
