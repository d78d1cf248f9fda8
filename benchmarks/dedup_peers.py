"""The peers of dedup_bench.py: whole deduplication scripts from file to file, each written as
its library documents its fastest path, so that they do what `curate dedup` does.

    python benchmarks/dedup_peers.py datasketch IN.jsonl OUT.jsonl [--hashfunc xxh32]
    python benchmarks/dedup_peers.py rensa IN.jsonl OUT.jsonl

Each reads JSON Lines records with a ``text`` field, lower-cases the text and splits it into
words (runs of letters and digits), shingles it into word 5-grams, sketches every document
with 128 permutations, finds candidates with LSH at threshold 0.8, keeps the first record of
each group of near-duplicates and writes the kept records to OUT as JSON Lines. A candidate
counts only when the sketches' estimated Jaccard is >= 0.8: datasketch's `MinHashLSH.query`
documentation recommends that check, and rensa's `RMinHashDeduplicator` makes it.

* datasketch 2.0: ``MinHash.generator`` (its bulk path: one initialised MinHash copied per
  document, ``update_batch`` of the shingles) and ``MinHashLSH`` with its optimal bands for
  the threshold; query, then insert when nothing was found (keep the first). ``--hashfunc
  xxh32`` passes xxhash's 32-bit hash as ``hashfunc`` (the docs suggest a faster hash than
  the default SHA-1 for speed).
* rensa 0.5: ``RMinHash.digest_matrix_from_token_sets`` (one call for every document) and
  ``RMinHashLSH(...).query_duplicate_flags_matrix_one_shot`` (one call). Its flags mark every
  member of a colliding group, the first included, so keep-first runs over the flagged rows
  only: ``RMinHash.from_token_sets`` of those, then query-and-insert as above.

Only the standard library and the peer are imported: nothing of prefkit.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable

THRESHOLD, NUM_PERM, NGRAM = 0.8, 128, 5
WORD = re.compile(r"[^\W_]+")  # letters and digits, any script (str patterns are Unicode)


def shingles(text: str) -> set[str]:
    """Word 5-grams of the lower-cased text (a text of fewer words is one shingle)."""
    words = WORD.findall(text.lower())
    if len(words) < NGRAM:
        return {" ".join(words)}
    return {" ".join(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def read_records(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_records(path: str, records: Iterable[dict]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def keep_first(indices: Iterable[int], sketches: Iterable, lsh) -> set[int]:
    """Query-then-insert in input order: the removed indices. A document is removed when a
    kept one is an LSH candidate with estimated Jaccard >= THRESHOLD; else it is indexed."""
    kept, removed = {}, set()
    for i, sketch in zip(indices, sketches, strict=True):
        if any(sketch.jaccard(kept[j]) >= THRESHOLD for j in lsh.query(sketch)):
            removed.add(i)
        else:
            lsh.insert(i, sketch)
            kept[i] = sketch
    return removed


def datasketch_dedup(records: list[dict], hashfunc: str | None) -> set[int]:
    from datasketch import MinHash, MinHashLSH

    options = {"num_perm": NUM_PERM}
    if hashfunc == "xxh32":
        import xxhash

        options["hashfunc"] = xxhash.xxh32_intdigest
    shingled = ([s.encode("utf-8") for s in shingles(r["text"])] for r in records)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    return keep_first(range(len(records)), MinHash.generator(shingled, **options), lsh)


def rensa_dedup(records: list[dict]) -> set[int]:
    from rensa import RMinHash, RMinHashLSH

    token_sets = [list(shingles(r["text"])) for r in records]
    matrix = RMinHash.digest_matrix_from_token_sets(token_sets, num_perm=NUM_PERM, seed=42)
    lsh = RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM, num_bands=16)
    flags = lsh.query_duplicate_flags_matrix_one_shot(matrix)
    flagged = [i for i, flag in enumerate(flags) if flag]
    sketches = RMinHash.from_token_sets([token_sets[i] for i in flagged], num_perm=NUM_PERM,
                                        seed=42)
    return keep_first(flagged, sketches, RMinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM,
                                                     num_bands=16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("peer", choices=["datasketch", "rensa"])
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--hashfunc", choices=["xxh32"], help="datasketch: hash function")
    args = parser.parse_args()
    records = read_records(args.source)
    if args.peer == "datasketch":
        removed = datasketch_dedup(records, args.hashfunc)
    else:
        removed = rensa_dedup(records)
    write_records(args.out, (r for i, r in enumerate(records) if i not in removed))


if __name__ == "__main__":
    main()
