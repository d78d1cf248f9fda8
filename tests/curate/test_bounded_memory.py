"""Memory does not grow with the input: peak RSS of dedup and of a recipe on 400k documents
stays within 1.3x of the same on 50k (each run in its own process, measured by the OS)."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SMALL, LARGE = 50_000, 400_000
RECIPE = """
name: memory
steps:
  - read: {path: %s}
  - score: {field: text, signals: [counts]}
  - filter: {field: text, min_words: 16, report: false}
  - dedup: {field: text}
  - write: {path: out.jsonl.zst}
"""


def corpus(path: Path, count: int, seed: int) -> Path:
    """Short documents; one in ten a copy of an earlier one with one word changed."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(5000)]
    bases: list[list[str]] = []
    with open(path, "w") as handle:
        for _ in range(count):
            if bases and rng.random() < 0.1:
                words = list(rng.choice(bases))
                words[rng.randrange(len(words))] = rng.choice(vocabulary)
            else:
                words = [rng.choice(vocabulary) for _ in range(rng.randint(15, 40))]
                if len(bases) < 2000:
                    bases.append(words)
            handle.write(json.dumps({"text": " ".join(words)}) + "\n")
    return path


def peak_rss_kb(*args: str) -> int:
    """Peak resident memory of one `curate` process (its own; it starts no workers here)."""
    probe = ("import resource, subprocess, sys; "
             "code = subprocess.run(sys.argv[1:]).returncode; "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)")
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFKIT_SPLIT_BYTES": str(8 << 20)}
    result = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "curate.cli",
                             *args], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return int(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    folder = tmp_path_factory.mktemp("memory")
    return {count: corpus(folder / f"docs-{count}.jsonl", count, count) for count in (SMALL, LARGE)}


def test_dedup_memory_does_not_grow_with_the_input(inputs, tmp_path: Path) -> None:
    small, large = (peak_rss_kb("dedup", str(inputs[n]), "-o", str(tmp_path / f"{n}.jsonl.zst"),
                                "--field", "text") for n in (SMALL, LARGE))
    assert large < 1.3 * small, (small, large)
    stats = json.loads((tmp_path / f"{LARGE}.stats.json").read_text())
    assert stats["removed"] > LARGE // 100  # the planted copies were found


def test_recipe_memory_does_not_grow_with_the_input(inputs, tmp_path: Path) -> None:
    peaks = []
    for count in (SMALL, LARGE):
        recipe = tmp_path / f"r{count}.yaml"
        recipe.write_text(RECIPE % inputs[count])
        peaks.append(peak_rss_kb("run", str(recipe), "-o", str(tmp_path / f"run{count}")))
    small, large = peaks
    assert large < 1.3 * small, (small, large)
    report = json.loads((tmp_path / f"run{LARGE}" / "run.json").read_text())
    assert [step["step"] for step in report["steps"]] == ["read", "score", "filter", "dedup",
                                                          "write"]
    assert report["steps"][0]["n_in"] == LARGE
