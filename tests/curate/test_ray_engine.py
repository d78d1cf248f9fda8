"""The Ray engine on a real two-node Ray cluster started on this machine: tasks land on both
nodes, the output equals the local engine's byte for byte, and a worker killed mid-step
changes nothing (Ray retries its task)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curate.dedup import DedupOptions, run_dedup
from curate.engine import EngineOptions
from curate.io import BadRecord, read_records
from curate.recipes import load_recipe, run_recipe

RECIPES = Path(__file__).resolve().parents[2] / "recipes"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """Two Ray nodes (one CPU each) on this machine, as `ray start --head` plus
    `ray start --address=...` would make them."""
    import ray
    from ray.cluster_utils import Cluster

    kill_dir = tmp_path_factory.mktemp("kill")
    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1,
                                                          "include_dashboard": False})
    nodes.add_node(num_cpus=1)
    ray.init(address=nodes.address, log_to_driver=False,
             runtime_env={"env_vars": {"PREFKIT_SPLIT_BYTES": "2000"}})
    nodes.wait_for_nodes()
    yield {"cluster": nodes, "kill_dir": kill_dir}
    ray.shutdown()
    nodes.shutdown()


def data_files(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*"))
            if p.name.endswith((".jsonl", ".jsonl.zst", "_manifest.json"))}


def test_a_recipe_runs_on_both_nodes_and_writes_the_local_bytes(
        cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from curate import on_ray

    monkeypatch.setenv("PREFKIT_SPLIT_BYTES", "2000")  # several splits: tasks to spread
    recipe = load_recipe(RECIPES / "web_text_cleaning.yaml")  # read, score, filter, dedup, write
    local = run_recipe(recipe, tmp_path / "local", quiet=True)
    on_ray.NODES_SEEN.clear()
    remote = run_recipe(recipe, tmp_path / "ray", engine="ray", quiet=True)
    assert len(on_ray.NODES_SEEN) == 2  # both nodes ran tasks
    assert [(r.n_in, r.n_out, r.removed, r.rejected) for r in remote] == \
        [(r.n_in, r.n_out, r.removed, r.rejected) for r in local]
    assert sum(r.removed for r in local) > 0
    assert data_files(tmp_path / "ray") == data_files(tmp_path / "local")


def test_a_worker_killed_mid_step_changes_nothing(cluster, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    monkeypatch.setenv("PREFKIT_SPLIT_BYTES", "2000")
    recipe = load_recipe(RECIPES / "sft_from_alpaca.yaml")
    run_recipe(recipe, tmp_path / "local", quiet=True)
    kill_dir = cluster["kill_dir"]
    # every worker process Ray starts for this job gets the variable; the first task to run
    # kills its own worker (kill -9) once
    ray.shutdown()
    ray.init(address=cluster["cluster"].address, log_to_driver=False, runtime_env={
        "env_vars": {"PREFKIT_SPLIT_BYTES": "2000", "PREFKIT_KILL_ONE_WORKER": str(kill_dir)}})
    try:
        run_recipe(recipe, tmp_path / "ray", engine="ray", quiet=True)
    finally:
        ray.shutdown()
        ray.init(address=cluster["cluster"].address, log_to_driver=False,
                 runtime_env={"env_vars": {"PREFKIT_SPLIT_BYTES": "2000"}})
    assert (kill_dir / "killed").exists()  # a worker did die mid-step
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


def test_ray_dedup_finds_the_same_clusters_on_real_text(cluster, shared_data: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFKIT_SPLIT_BYTES", "100000")
    questions = [r["question"] for r in read_records(shared_data / "gsm8k_train.jsonl")][:3000]
    records = planted_corpus(questions)
    options = DedupOptions(field="text", ngram=3)
    local = run_dedup(records, options)
    remote = run_dedup(records, options, engine=EngineOptions(engine="ray"))
    assert remote.result.kept == local.result.kept
    assert remote.result.removed == local.result.removed
    assert remote.clusters == local.clusters
    assert len(local.clusters) > 150  # many clusters: most planted 3% copies are caught
    # Each band's keys split over 8 shuffle groups (as a corpus 8x GROUP_ROWS would be):
    # buckets never straddle groups, so the clusters stay the same.
    from curate import on_ray

    monkeypatch.setattr(on_ray, "GROUP_ROWS", len(records) // 8 + 1)
    split = run_dedup(records, options, engine=EngineOptions(engine="ray"))
    assert (split.result.kept, split.clusters) == (local.result.kept, local.clusters)
    import ray.data

    shuffle_input = ray.data.DataContext.get_current().shuffle_input_batch_bytes
    assert shuffle_input == on_ray.SHUFFLE_INPUT_BYTES == 64 << 20  # not Ray's 1 GiB


def test_ray_read_rejects_bad_lines_like_the_local_reader(cluster, tmp_path: Path) -> None:
    data = tmp_path / "docs.jsonl"
    data.write_text('{"text": "fine"}\n{"text": broken\n\n[1, 2]\n{"text": "also fine"}\n')
    recipe = tmp_path / "r.yaml"
    recipe.write_text("on_error: skip\nsteps:\n  - read: {path: docs.jsonl}\n"
                      "  - write: {path: out.jsonl}\n")
    for engine in ("local", "ray"):
        [read, _] = run_recipe(load_recipe(recipe), tmp_path / engine, engine=engine, quiet=True)
        assert (read.n_in, read.n_out, read.rejected) == (4, 2, 2)
    assert data_files(tmp_path / "ray") == data_files(tmp_path / "local")
    rejects = list(read_records(tmp_path / "ray" / "01_read" / "out.rejects"))
    assert [(r["line"], r["reason"]) for r in rejects] == [(2, "bad_json"), (4, "bad_json")]
    recipe.write_text("steps:\n  - read: {path: docs.jsonl}\n  - write: {path: out.jsonl}\n")
    with pytest.raises(BadRecord, match=r"docs.jsonl:2: invalid JSON"):
        run_recipe(load_recipe(recipe), tmp_path / "raise", engine="ray", quiet=True)
    assert json.loads((tmp_path / "ray" / "01_read" / "out.stats.json").read_text())["in"] == 4
