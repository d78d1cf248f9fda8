"""Dedup against brute force, with derived or hand-set LSH bands, and its progress phases."""

from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from curate.dedup import DedupOptions, normalise, run_dedup

WORDS = [f"w{i}" for i in range(4000)]


def grams(text: str, n: int = 5) -> set[str]:
    words = normalise(text).split()
    return {" ".join(words[i:i + n]) for i in range(max(len(words) - n + 1, 1))}


def edited(rng: random.Random, words: list[str], edits: int) -> str:
    """`edits` random substitutions, deletions or insertions."""
    words = list(words)
    for _ in range(edits):
        position = rng.randrange(len(words))
        kind = rng.random()
        if kind < 0.5:
            words[position] = rng.choice(WORDS)
        elif kind < 0.75:
            del words[position]
        else:
            words.insert(position, rng.choice(WORDS))
    return " ".join(words)


@pytest.fixture(scope="module")
def families() -> list[dict]:
    """60 families of a base text and 0..5 copies with 0..12 edits: Jaccard from 1 down to ~0.4."""
    rng = random.Random(21)
    records = []
    for _ in range(60):
        base = [rng.choice(WORDS) for _ in range(rng.randint(20, 120))]
        records.append({"text": " ".join(base)})
        records += [{"text": edited(rng, base, rng.randint(0, 12))} for _ in range(rng.randint(0, 5))]
    rng.shuffle(records)
    return records


def brute_force_components(texts: list[str], threshold: float) -> list[list[int]]:
    """Connected components (of two or more) over every pair with Jaccard >= threshold."""
    sets = [grams(t) for t in texts]
    parent = list(range(len(texts)))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for i, j in itertools.combinations(range(len(texts)), 2):
        if len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold:
            parent[max(find(i), find(j))] = min(find(i), find(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(texts)):
        groups.setdefault(find(i), []).append(i)
    return sorted(g for g in groups.values() if len(g) > 1)


@pytest.mark.parametrize("threshold", [0.6, 0.8])
def test_clusters_are_exactly_the_brute_force_components(families, threshold: float):
    texts = [r["text"] for r in families]
    expected = brute_force_components(texts, threshold)
    run = run_dedup(families, DedupOptions(field="text", threshold=threshold))
    assert sorted(c["members"] for c in run.clusters) == expected
    assert len(expected) > 20 and any(len(g) > 2 for g in expected)  # a corpus worth testing
    partial = [s for s in (line["similarity"] for line in run.result.removed) if s < 1]
    assert partial and min(partial) < threshold + 0.1  # pairs near the threshold were decided


def test_hand_set_bands_change_the_candidates_not_the_verified_result(families):
    default = run_dedup(families, DedupOptions(field="text"))
    assert (default.result.extra["bands"], default.result.extra["rows"]) == (25, 5)
    # one row per band: every pair sharing any MinHash value is a candidate; verification
    # rejects the false ones, so the result is the same with far more candidates
    wide = run_dedup(families, DedupOptions(field="text", bands=128, rows=1))
    assert (wide.result.extra["bands"], wide.result.extra["rows"]) == (128, 1)
    assert wide.result.extra["candidate_pairs"] > 2 * default.result.extra["candidate_pairs"]
    assert wide.result.removed == default.result.removed and wide.clusters == default.clusters
    # one band of all 128 rows: only identical signatures collide, so near copies stay
    narrow = run_dedup(families, DedupOptions(field="text", bands=1, rows=128))
    assert (narrow.result.extra["bands"], narrow.result.extra["rows"]) == (1, 128)
    narrow_similarities = [line["similarity"] for line in narrow.result.removed]
    assert narrow_similarities and all(s == 1.0 for s in narrow_similarities)
    assert len(narrow.result.removed) < len(default.result.removed)


def test_every_stage_reports_progress_in_a_log(families, tmp_path: Path):
    """Outside a terminal each stage prints plain progress lines (here on every update)."""
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in families))
    env = {**os.environ, "PREFKIT_PROGRESS_INTERVAL": "0", "PREFKIT_SPLIT_BYTES": "20000"}
    process = subprocess.run([sys.executable, "-m", "curate.cli", "dedup", str(source), "-o",
                              str(tmp_path / "out.jsonl"), "--field", "text"],
                             capture_output=True, text=True, env=env, check=False)
    assert process.returncode == 0, process.stderr
    lines = process.stderr.splitlines()
    for stage in ("sketch", "exact", "buckets", "sets", "verify", "survivors", "write"):
        assert any(line.startswith(f"[curate dedup] {stage} ") for line in lines), stage
    sketched = [line for line in lines if line.startswith("[curate dedup] sketch ")][-1]
    assert f"{len(families):,} records" in sketched  # every record read was counted
