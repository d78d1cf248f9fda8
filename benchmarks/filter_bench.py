"""Web-rule filtering speed and agreement: prefkit vs datatrove, same documents, one run.

Runs the `web-gopher` + `c4` + `fineweb` presets (Gopher quality and repetition,
C4, FineWeb rules) and datatrove's GopherQualityFilter, GopherRepetitionFilter,
C4QualityFilter and FineWebQualityFilter on the same >= 30k real texts (every
prompt and answer in ../shared/data), then prints docs/s for both, the ratio,
and for each rule family the share of documents where the two agree on keep/drop.

    python benchmarks/filter_bench.py            # all documents
    python benchmarks/filter_bench.py --limit 2000

datatrove (and spaCy, its English word tokenizer) are benchmark-only peers:
`pip install datatrove spacy`. spaCy's blank English pipeline needs no download.
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
from curate.presets import load_preset

PRESETS = ("web-gopher", "c4", "fineweb")
GOPHER_QUALITY = {"words", "mean_word_length", "symbol_word_ratio", "bullet_lines",
                  "ellipsis_lines", "alpha_words", "stop_words"}


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
    """Every prompt and answer text in ../shared/data (about 40k texts)."""
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


def family_of_rule(score: str) -> str:
    """Which datatrove filter a score's rule corresponds to."""
    if score in GOPHER_QUALITY:
        return "gopher_quality"
    if score.startswith(("dup_", "top_")):
        return "gopher_repetition"
    return "c4" if score.startswith("c4_") else "fineweb"


def run_prefkit(texts: list[str]) -> tuple[tuple[float, float], list[dict[str, bool]]]:
    options = FilterOptions(preset=list(PRESETS), field="text", report=False)
    records = [{"id": i, "text": text} for i, text in enumerate(texts)]
    started = _clock()
    result = filter_records(records, options)
    seconds = _elapsed(started)
    drops = [dict.fromkeys(("gopher_quality", "gopher_repetition", "c4", "fineweb"), False)
             for _ in texts]
    for line in result.removed:
        for reason in line["reasons"]:
            score = reason.removesuffix("_below_min").removesuffix("_above_max")
            drops[line["record"]["id"]][family_of_rule(score)] = True
    return seconds, drops


def run_datatrove(texts: list[str]) -> tuple[tuple[float, float], list[dict[str, bool]]]:
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
    drops = []
    for i, text in enumerate(texts):
        dropped = {}
        for name, step in filters.items():
            result = step.filter(Document(text=text, id=str(i)))
            dropped[name] = result is not True and not (isinstance(result, tuple) and result[0])
        drops.append(dropped)
    return _elapsed(started), drops


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _elapsed(started: tuple[float, float]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time is what to compare on a shared
    machine, where other processes stretch the wall clock."""
    return time.perf_counter() - started[0], time.process_time() - started[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N texts")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs the shared real-data folder")
    for preset in PRESETS:
        load_preset(preset)
    texts = corpus()[: args.limit]
    print(f"documents: {len(texts):,} (all prompts and answers in {DATA}), "
          f"{sum(map(len, texts)) / len(texts):,.0f} characters on average")
    (ours_wall, ours_cpu), ours = run_prefkit(texts)
    (theirs_wall, theirs_cpu), theirs = run_datatrove(texts)
    print(f"{'':34s} {'docs/s (CPU time)':>18s} {'docs/s (wall)':>14s}")
    print(f"{'prefkit web-gopher + c4 + fineweb':34s} {len(texts) / ours_cpu:>18,.0f} "
          f"{len(texts) / ours_wall:>14,.0f}")
    print(f"{'datatrove 4 filters (spaCy)':34s} {len(texts) / theirs_cpu:>18,.0f} "
          f"{len(texts) / theirs_wall:>14,.0f}")
    print(f"speed ratio prefkit/datatrove: {theirs_cpu / ours_cpu:.1f}x (CPU time), "
          f"{theirs_wall / ours_wall:.1f}x (wall)")
    print("keep/drop agreement with datatrove, per rule family:")
    for family in ours[0]:
        agree = sum(a[family] == b[family] for a, b in zip(ours, theirs)) / len(texts)
        dropped_ours = sum(a[family] for a in ours) / len(texts)
        dropped_theirs = sum(b[family] for b in theirs) / len(texts)
        print(f"  {family:18s} {agree:7.2%}   (drops: prefkit {dropped_ours:6.2%}, "
              f"datatrove {dropped_theirs:6.2%})")
    overall = sum(any(a.values()) == any(b.values()) for a, b in zip(ours, theirs)) / len(texts)
    print(f"  {'all four combined':18s} {overall:7.2%}")


if __name__ == "__main__":
    main()
