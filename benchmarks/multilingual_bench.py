"""Near-duplicate detection in Chinese, Japanese and Spanish beside English: recall,
precision and speed per MB, one run.

Texts. OASST's non-English messages were not available offline here (../shared/data holds
its English sample only), so the messages are real technical prose from Debian's translated
manual pages, rendered with `man` and cut into messages of consecutive paragraphs (at least
120 words, or 200 characters in Chinese and Japanese, about the same content):

| language | Debian package | licence |
|---|---|---|
| zh | manpages-zh (zh_CN pages) | GFDL-1.2+ |
| ja | manpages-ja | the licences of the original pages (GPL, BSD, ...) |
| es | manpages-es | GPL-3+ and the original pages' licences |
| en | man-db's and the base system's pages (/usr/share/man/man1) | their own free licences |

    apt-get install manpages-zh manpages-ja manpages-es

Messages that already resemble another one (character 5-gram Jaccard >= 0.3, an independent
brute-force check) are dropped first, so every true duplicate is one we made. Each message
then gets five edited copies, one per edit: a one-character change, punctuation changes,
an added sentence, a removed sentence, and two clauses swapped.

Measured, per language:

* end to end: `dedup_records` at the default settings (threshold 0.8): recall is the share
  of the copies removed as duplicates of their own message (or of a sibling copy),
  precision the share of removals that were such copies; seconds per MB of text and the
  ratio to English (target: within 1.5x);
* per setting, exactly: the Jaccard of every message/copy pair and of every other pair,
  for the old word units (`shingle=word`, the peer: what dedup did before) and for
  character shingles of 3 to 8 characters. Recall at 0.8 is the share of true pairs at or
  above it; precision the share of pairs at or above it that are true.

    python benchmarks/multilingual_bench.py            # all four languages
    python benchmarks/multilingual_bench.py --limit 100
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curate.dedup import DedupOptions, dedup_records
from curate.dedup.verify import ShingleSets, jaccard
from curate.text.units import units

MAN = Path("/usr/share/man")
DIRS = {"en": MAN, "zh": MAN / "zh_CN", "ja": MAN / "ja", "es": MAN / "es"}
UNSPACED = {"zh", "ja"}
MIN_UNITS = {"en": 120, "es": 120, "zh": 200, "ja": 200}
THRESHOLD = 0.8
EDITS = ("one_char", "punctuation", "add_sentence", "remove_sentence", "swap_clauses")
_SENTENCE = re.compile(r"(?<=[。！？])|(?<=[.!?])\s+")
_CLAUSE = {True: re.compile(r"(?<=[，、；])"), False: re.compile(r"(?<=[,;])\s+")}
_PUNCT = {True: [("，", "、"), ("。", "！"), ("、", "，"), ("：", ":")],
          False: [(",", ";"), (". ", "! "), (":", " -"), ("(", "[")]}


def render(page: Path) -> str:
    out = subprocess.run(["man", "--nj", "--nh", "-E", "UTF-8", "-l", str(page)],
                         capture_output=True, text=True, env={**os.environ, "MANWIDTH": "5000"},
                         check=False)
    return out.stdout


def messages(lang: str, limit: int) -> list[str]:
    """Messages of consecutive paragraphs from the language's man pages (at most 2 a page)."""
    pages = sorted(p for section in ("man1", "man5", "man8") for p in (DIRS[lang] / section).glob("*.gz"))
    random.Random(0).shuffle(pages)
    found: list[str] = []
    for page in pages:
        paragraphs = [" ".join(block.split()) for block in re.split(r"\n\s*\n", render(page))]
        paragraphs = [p for p in paragraphs if len(p) > 40 and not p.startswith("-")]
        current: list[str] = []
        taken = 0
        for paragraph in paragraphs:
            current.append(paragraph)
            if len(units("\n".join(current))) >= MIN_UNITS[lang]:
                found.append("\n".join(current))
                current, taken = [], taken + 1
                if taken == 2:
                    break
        if len(found) >= limit * 2:
            break
    return distinct(found)[:limit]


def char_grams(text: str) -> set[str]:
    text = re.sub(r"\s+", " ", text.lower())
    return {text[i:i + 5] for i in range(len(text) - 4)}


def distinct(texts: list[str]) -> list[str]:
    """Texts with no earlier text at character 5-gram Jaccard >= 0.3."""
    kept: list[tuple[str, set[str]]] = []
    for text in texts:
        grams = char_grams(text)
        if all(len(grams & other) / len(grams | other) < 0.3 for _, other in kept):
            kept.append((text, grams))
    return [text for text, _ in kept]


def edit(text: str, kind: str, unspaced: bool, donor: str, rng: random.Random) -> str:
    sentences = [s for s in _SENTENCE.split(text) if s]
    joiner = "" if unspaced else " "
    if kind == "one_char":
        letters = [i for i, c in enumerate(text) if c.isalpha()]
        i = rng.choice(letters)
        pool = [c for c in donor if c.isalpha() and c != text[i]] if unspaced else \
            [c for c in "abcdefghijklmnopqrstuvwxyz" if c != text[i].lower()]
        return text[:i] + rng.choice(pool) + text[i + 1:]
    if kind == "punctuation":
        for old, new in _PUNCT[unspaced]:
            text = text.replace(old, new, 2)
        return text
    if kind == "add_sentence":
        extra = rng.choice([s for s in _SENTENCE.split(donor) if s.strip()] or [donor[:60]])
        at = rng.randrange(1, len(sentences) + 1)
        return joiner.join(sentences[:at] + [extra.strip()] + sentences[at:])
    if kind == "remove_sentence":
        if len(sentences) < 3:
            return text[: len(text) * 9 // 10]  # no sentence to spare: the last tenth goes
        at = rng.randrange(1, len(sentences))
        return joiner.join(sentences[:at] + sentences[at + 1:])
    clauses = [c for c in _CLAUSE[unspaced].split(text) if c]
    if len(clauses) < 2:
        clauses = sentences
    if len(clauses) < 2:
        return text
    at = rng.randrange(len(clauses) - 1)
    clauses[at], clauses[at + 1] = clauses[at + 1], clauses[at]
    return ("" if unspaced else " ").join(clauses)


def corpus(lang: str, limit: int) -> tuple[list[str], list[int]]:
    """Messages and their edited copies; `family[i]` is the message a text comes from."""
    base = messages(lang, limit)
    rng = random.Random(1)
    texts, family = list(base), list(range(len(base)))
    for number, text in enumerate(base):
        donor = base[(number + 1) % len(base)]
        for kind in EDITS:
            texts.append(edit(text, kind, lang in UNSPACED, donor, rng))
            family.append(number)
    return texts, family


def end_to_end(texts: list[str], family: list[int]) -> dict[str, float]:
    records = [{"id": i, "text": text} for i, text in enumerate(texts)]
    start = time.perf_counter()
    result = dedup_records(records, DedupOptions(field="text"))
    seconds = time.perf_counter() - start
    removed = result.removed
    found = {line["record"]["id"] for line in removed
             if family[line["record"]["id"]] == family[line["duplicate_of"]]}
    copies = len(texts) - len(set(family))
    megabytes = sum(len(t.encode()) for t in texts) / 1e6
    base = len(set(family))
    by_edit = {kind: sum(base + number * len(EDITS) + k in found for number in range(base)) / base
               for k, kind in enumerate(EDITS)}
    return {"recall": len(found) / copies,
            "precision": len(found) / len(removed) if removed else 1.0, "by_edit": by_edit,
            "seconds": seconds, "mb": megabytes, "s_per_mb": seconds / megabytes}


def pair_sweep(texts: list[str], family: list[int], settings: dict[str, dict]) -> dict[str, tuple]:
    """Exact Jaccard of all pairs under each setting: (recall, precision) at THRESHOLD."""
    n = len(texts)
    a, b = np.triu_indices(n, 1)
    fam = np.asarray(family)
    base = len(set(family))
    true = fam[a] == fam[b]
    source_pair = true & (a < base)  # a message and one of its copies
    out = {}
    for name, matching in settings.items():
        sets = ShingleSets()
        sets.add(texts, **matching)
        similar = jaccard(sets, a, sets, b) >= THRESHOLD
        recall = (similar & source_pair).sum() / source_pair.sum()
        out[name] = (recall, (similar & true).sum() / similar.sum() if similar.sum() else 1.0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=200, help="messages per language")
    parser.add_argument("--langs", default="en,zh,ja,es")
    parser.add_argument("--no-sweep", action="store_true", help="end to end only (faster)")
    args = parser.parse_args()
    settings = {"word (before)": {"ngram": 5, "fold_digits": False, "shingle": "word"}}
    for size in (3, 4, 5, 6, 8):
        settings[f"char {size}"] = {"ngram": 5, "fold_digits": False, "shingle": "auto",
                                    "char_ngram": size}
    rows = {}
    for lang in args.langs.split(","):
        texts, family = corpus(lang, args.limit)
        e2e = min((end_to_end(texts, family) for _ in range(3)), key=lambda r: r["seconds"])
        sweep = {} if args.no_sweep else pair_sweep(texts, family, settings)
        rows[lang] = (len(set(family)), len(texts), e2e, sweep)
    english = rows.get("en", (0, 0, {"s_per_mb": float("nan")}))[2]["s_per_mb"]
    print(f"machine load (1 min): {os.getloadavg()[0]:.2f}")
    print("\nEnd to end, default settings (dedup_records, threshold 0.8, best of 3 runs):")
    print(f"{'lang':5} {'msgs':>5} {'texts':>6} {'MB':>6} {'recall':>7} {'precision':>9} "
          f"{'s/MB':>6} {'vs en':>6}  recall by edit")
    for lang, (base, total, e2e, _) in rows.items():
        print(f"{lang:5} {base:5d} {total:6d} {e2e['mb']:6.2f} {e2e['recall']:7.3f} "
              f"{e2e['precision']:9.3f} {e2e['s_per_mb']:6.2f} {e2e['s_per_mb'] / english:5.2f}x  "
              + " ".join(f"{kind} {value:.2f}" for kind, value in e2e["by_edit"].items()))
    if args.no_sweep:
        return
    print("\nExact Jaccard of all pairs: recall (message/copy pairs) / precision (all pairs) at "
          "0.8 per shingle setting\n(char N: N characters per shingle in scripts without spaces; "
          "words elsewhere):")
    print(f"{'lang':5} " + " ".join(f"{name:>15}" for name in settings))
    for lang, (*_, sweep) in rows.items():
        print(f"{lang:5} " + " ".join(f"{r:6.3f} / {p:5.3f}" for r, p in sweep.values()))


if __name__ == "__main__":
    main()
