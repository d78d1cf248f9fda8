"""`curate run --engine ray` gives byte-identical output to the local engine."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curate.dedup import DedupOptions, run_dedup
from curate.dedup.on_ray import RAY
from curate.io import BadRecord, read_records
from curate.recipes import load_recipe, run_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray = pytest.importorskip("ray", reason="the Ray engine needs pip install '.[ray]'")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def data_files(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*.jsonl"))}


@pytest.mark.parametrize("recipe", ["web_text_cleaning.yaml", "sft_from_alpaca.yaml"])
def test_ray_and_local_engines_write_the_same_bytes(tmp_path: Path, recipe: str) -> None:
    local = run_recipe(load_recipe(RECIPES / recipe), tmp_path / "local", quiet=True)
    on_ray = run_recipe(load_recipe(RECIPES / recipe), tmp_path / "ray", engine="ray", quiet=True)
    assert [(r.n_in, r.n_out, r.removed, r.rejected) for r in on_ray] == \
        [(r.n_in, r.n_out, r.removed, r.rejected) for r in local]
    assert sum(r.removed for r in local) > 0
    assert data_files(tmp_path / "ray") == data_files(tmp_path / "local")


def planted_corpus(questions: list[str], seed: int = 0) -> list[dict]:
    """Real questions plus copies with a few words changed (true near-duplicates) and copies
    with many changed (not duplicates)."""
    rng = random.Random(seed)
    records = [{"text": q} for q in questions]
    for q in rng.sample(questions, 300):
        words = q.split()
        for rate in (0.03, 0.4):
            copy = [rng.choice(["alpha", "beta", "gamma"]) if rng.random() < rate else w
                    for w in words]
            records.append({"text": " ".join(copy)})
    rng.shuffle(records)
    return records


def test_ray_dedup_finds_the_same_clusters_on_real_text(shared_data: Path) -> None:
    questions = [r["question"] for r in read_records(shared_data / "gsm8k_train.jsonl")][:3000]
    records = planted_corpus(questions)
    options = DedupOptions(field="text", ngram=3)
    local = run_dedup(records, options)
    on_ray = run_dedup(records, options, backend=RAY)
    assert on_ray.result.kept == local.result.kept
    assert on_ray.result.removed == local.result.removed
    assert on_ray.clusters == local.clusters
    assert len(local.clusters) > 150  # many clusters: most planted 3% copies are caught


def test_ray_read_rejects_bad_lines_like_the_local_reader(tmp_path: Path) -> None:
    data = tmp_path / "docs.jsonl"
    data.write_text('{"text": "fine"}\n{"text": broken\n\n[1, 2]\n{"text": "also fine"}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("on_error: skip\nsteps:\n  - read: {path: docs.jsonl}\n")
    for engine in ("local", "ray"):
        [report] = run_recipe(load_recipe(recipe), tmp_path / engine, engine=engine, quiet=True)
        assert (report.n_in, report.n_out, report.rejected) == (4, 2, 2)
    assert data_files(tmp_path / "ray") == data_files(tmp_path / "local")
    rejects = [json.loads(line) for line in
               (tmp_path / "ray" / "01_read" / "out.rejects.jsonl").read_text().splitlines()]
    assert [(r["line"], r["reason"]) for r in rejects] == [(2, "bad_json"), (4, "bad_json")]
    recipe.write_text("steps:\n  - read: {path: docs.jsonl}\n")
    with pytest.raises(BadRecord, match=r"docs.jsonl:2: field '<line>'"):
        run_recipe(load_recipe(recipe), tmp_path / "raise", engine="ray", quiet=True)
