"""Toxicity classifiers that run offline: accuracy on human labels, and speed.

Candidates that ship their model inside the package (so they work with no network):

* alt-profanity-check - a linear SVM over TF-IDF n-grams (prefkit's default);
* better-profanity    - its word list (the baseline): 1 when a listed word occurs, else 0.

Detoxify and Hugging Face toxicity models download their weights, so they are not
offline candidates here; `--toxicity-model PATH` runs any such model once it is on disk.

Labelled data:

1. tests/curate/fixtures/toxicity_labelled.jsonl - 20 clearly toxic, 20 benign sentences
   (some benign ones mention killing processes or cancer screening): ROC AUC.
2. HH-RLHF harmless-base test pairs (../shared/data): annotators chose the less harmful
   reply. Pairwise accuracy = how often the rejected reply scores higher (ties count half),
   over the pairs whose final replies differ. A hard task: most rejected replies are
   politely worded help with harmful requests, not insults.
3. OASST trees (../shared/data): the only per-message human flags in this export are emoji
   reactions (the `labels` field, which holds OASST's toxicity votes in the full dump, is
   null here). The 6 messages with a `red_flag` reaction are the positives: ROC AUC. Read
   it with care: those 6 were flagged for quality (one is "as an AI language model"
   boilerplate), none is toxic, so an AUC near 0.5 is the expected, honest result.

Speed: texts/s of each classifier, and of `score_records` with the default model (the
`toxicity` family as the CLI runs it), on the same 20,000 HH replies.

    pip install better-profanity   # the baseline (benchmark-only)
    python benchmarks/toxicity_eval.py
"""

from __future__ import annotations

import gzip
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
FIXTURE = ROOT / "tests" / "curate" / "fixtures" / "toxicity_labelled.jsonl"
sys.path.insert(0, str(ROOT))

from curate.scoring import ScoreOptions, score_records

Scorer = Callable[[list[str]], list[float]]


def profanity_check() -> Scorer:
    from profanity_check import predict_prob

    return lambda texts: [float(p) for p in predict_prob(texts)]


def word_list() -> Scorer:
    """better-profanity's 916-entry word list, matched as lowercase words and phrases.

    (better-profanity's own matcher expands leetspeak variants and runs at about 3 texts/s
    here, too slow to evaluate thousands of texts, so its list is matched directly.)"""
    from importlib.resources import files

    entries = files("better_profanity").joinpath("profanity_wordlist.txt").read_text().split("\n")
    words = {entry.strip().lower() for entry in entries if entry.strip() and " " not in entry}
    phrases = [entry.strip().lower() for entry in entries if " " in entry.strip()]
    token = re.compile(r"[a-z0-9']+")

    def score(texts: list[str]) -> list[float]:
        out = []
        for text in texts:
            lowered = text.lower()
            hit = not words.isdisjoint(token.findall(lowered)) or any(p in lowered for p in phrases)
            out.append(float(hit))
        return out

    return score


def _final_reply(transcript: str) -> str:
    return transcript[transcript.rfind("\n\nAssistant:") + len("\n\nAssistant:"):].strip()


def hh_pairs() -> list[tuple[str, str]]:
    """(chosen, rejected) final replies of the harmless-base test split, where they differ."""
    with gzip.open(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "rt", encoding="utf-8") as handle:
        pairs = [(_final_reply(r["chosen"]), _final_reply(r["rejected"]))
                 for r in map(json.loads, handle)]
    return [(chosen, rejected) for chosen, rejected in pairs if chosen != rejected]


def oasst_flags() -> tuple[list[str], list[int]]:
    texts, labels = [], []

    def walk(node: dict) -> None:
        texts.append(node["text"])
        labels.append(int("red_flag" in (node.get("emojis") or {})))
        for reply in node.get("replies", []):
            walk(reply)

    with open(DATA / "oasst_en_100_trees.jsonl", encoding="utf-8") as handle:
        for line in handle:
            walk(json.loads(line)["prompt"])
    return texts, labels


def fixture() -> tuple[list[str], list[int]]:
    with open(FIXTURE, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle]
    return [row["text"] for row in rows], [row["toxic"] for row in rows]


def pairwise_accuracy(scorer: Scorer, pairs: list[tuple[str, str]]) -> float:
    chosen = scorer([c for c, _ in pairs])
    rejected = scorer([r for _, r in pairs])
    wins = sum((r > c) + 0.5 * (r == c) for c, r in zip(chosen, rejected))
    return wins / len(pairs)


def texts_per_second(scorer: Scorer, texts: list[str]) -> float:
    started = time.perf_counter()
    scorer(texts)
    return len(texts) / (time.perf_counter() - started)


def main() -> None:
    from sklearn.metrics import roc_auc_score

    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs the shared real-data folder")
    candidates = {"alt-profanity-check (default)": profanity_check(),
                  "better-profanity word list": word_list()}
    fixture_texts, fixture_labels = fixture()
    pairs = hh_pairs()
    oasst_texts, oasst_labels = oasst_flags()
    replies = [text for pair in pairs for text in pair]
    speed_texts = (replies * (20_000 // len(replies) + 1))[:20_000]
    print(f"fixture: {len(fixture_texts)} sentences ({sum(fixture_labels)} toxic); "
          f"HH-RLHF harmless pairs: {len(pairs):,}; OASST messages: {len(oasst_texts):,} "
          f"({sum(oasst_labels)} red-flagged); speed on {len(speed_texts):,} HH replies")
    print(f"{'classifier':32s} {'fixture AUC':>11s} {'HH pairwise':>11s} {'OASST flag AUC':>14s} "
          f"{'texts/s':>9s}")
    speeds = {}
    for name, scorer in candidates.items():
        speeds[name] = texts_per_second(scorer, speed_texts)
        print(f"{name:32s} {roc_auc_score(fixture_labels, scorer(fixture_texts)):11.3f} "
              f"{pairwise_accuracy(scorer, pairs):11.3f} "
              f"{roc_auc_score(oasst_labels, scorer(oasst_texts)):14.3f} {speeds[name]:9,.0f}")
    records = [{"id": i, "text": text} for i, text in enumerate(speed_texts)]
    options = ScoreOptions(signals=["toxicity"], field="text")
    started = time.perf_counter()
    score_records(records, options)
    family = len(records) / (time.perf_counter() - started)
    default, baseline = speeds["alt-profanity-check (default)"], speeds["better-profanity word list"]
    print(f"prefkit score_records, toxicity family, default model: {family:,.0f} docs/s "
          f"({len(records):,} HH replies)")
    print(f"speed ratio alt-profanity-check / better-profanity word list: {default / baseline:.1f}x")


if __name__ == "__main__":
    main()
