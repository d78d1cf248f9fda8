"""Output sets: OUT and its sidecars appear together or not at all, never replace an input or
a file we did not write, and a killed run is finished or cleaned by the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.io import read_records

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()
ROWS = 400


def corpus(path: Path, rows: int = ROWS, *, tag: str = "") -> Path:
    """Texts with every tenth one a copy of the one before (so dedup removes some), plus a
    record the filter's word rule removes."""
    lines = []
    for i in range(rows):
        base = i - 1 if i % 10 == 9 else i
        lines.append({"id": f"{tag}{i}", "text": f"document {base} says {' '.join(['word'] * (3 + base % 7))} "
                      f"about topic number {base} of many"})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def curate(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFKIT_SPLIT_BYTES": "4000"}
    if fault:
        env["PREFKIT_FAULT"] = fault
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], capture_output=True,
                          text=True, env=env, check=False)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a folder, hidden ones included."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def visible(folder: Path) -> dict[str, bytes]:
    return {name: data for name, data in snapshot(folder).items()
            if not any(part.startswith(".") for part in Path(name).parts)}


@pytest.mark.parametrize("command", [["dedup", "--field", "text"],
                                     ["filter", "--min-words", "8", "--field", "text",
                                      "--no-report"]])
@pytest.mark.parametrize("fault", ["writing", "staged", "journal", "moved-0", "moved-1"])
def test_a_kill_at_any_phase_leaves_the_old_set_or_the_new_one(tmp_path: Path, command: list[str],
                                                               fault: str) -> None:
    source = corpus(tmp_path / "in.jsonl")
    out = tmp_path / "out.jsonl"
    first = curate(command[0], str(source), "-o", str(out), *command[1:], "--on-error", "skip")
    assert first.returncode == 0, first.stderr
    old = visible(tmp_path)
    corpus(tmp_path / "in.jsonl", ROWS - 50, tag="v2-")  # the input changes: a new set
    killed = curate(command[0], str(source), "-o", str(out), *command[1:], fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    after = visible(tmp_path)
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    if fault in ("writing", "staged"):  # before the journal: nothing of the new set is visible
        assert {k: v for k, v in after.items() if k != "in.jsonl"} == \
            {k: v for k, v in old.items() if k != "in.jsonl"}
    # Whatever is visible is one whole set: the stats name every file with its hash
    files = stats["output_set"]["files"]
    if fault.startswith("moved") or fault == "journal":
        assert list(tmp_path.glob(".out.jsonl.commit.json"))  # the commit is decided
    # The next run that touches OUT finishes an interrupted commit, then runs cleanly
    again = curate(command[0], str(source), "-o", str(out), *command[1:])
    assert again.returncode == 0, again.stderr
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    files = stats["output_set"]["files"]
    assert "rejects" not in files and not (tmp_path / "out.rejects.jsonl").exists()
    for entry in files.values():
        assert Path(entry["path"]).exists()
    kept = list(read_records(out))
    assert kept and all(r["id"].startswith("v2-") for r in kept)
    assert stats["in"] == ROWS - 50


def test_ctrl_c_commits_nothing_and_says_so(tmp_path: Path) -> None:
    source = corpus(tmp_path / "in.jsonl", 3000)
    out = tmp_path / "out.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFKIT_SPLIT_BYTES": "4000"}
    process = subprocess.Popen([sys.executable, "-m", "curate.cli", "score", str(source), "-o",
                                str(out), "--field", "text"], stderr=subprocess.PIPE, text=True,
                               env=env)
    import time

    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.jsonl.staging-*/parts")):
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "nothing was committed" in stderr and "Traceback" not in stderr
    assert not out.exists() and not (tmp_path / "out.stats.json").exists()
    assert not list(tmp_path.glob(".*"))


@pytest.mark.parametrize("case", ["same", "sidecar", "clusters", "inside"])
def test_an_output_that_is_an_input_is_refused(tmp_path: Path, case: str) -> None:
    source = corpus(tmp_path / "x.jsonl")
    if case == "sidecar":  # an input named like the sidecar of the output
        args = ["dedup", str(corpus(tmp_path / "y.removed.jsonl")), "-o", str(tmp_path / "y.jsonl")]
    else:
        args = {"same": ["dedup", str(source), "-o", str(source)],
                "clusters": ["dedup", str(source), "-o", str(tmp_path / "u.jsonl"), "--clusters",
                             str(source)],
                "inside": ["dedup", str(tmp_path), "-o", str(tmp_path / "u.jsonl")]}[case]
    before = snapshot(tmp_path)
    result = runner.invoke(app, [*args, "--field", "text"])
    assert result.exit_code == 1
    assert ("is also an input" in result.output or "holds the input" in result.output
            or "lies in the input directory" in result.output), result.output
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before  # nothing written, nothing replaced


def test_two_outputs_with_one_path_are_refused(tmp_path: Path) -> None:
    source = corpus(tmp_path / "x.jsonl")
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, ["dedup", str(source), "-o", str(out), "--field", "text",
                                 "--clusters", str(tmp_path / "o.removed.jsonl")])
    assert result.exit_code == 1 and "named twice" in result.output
    assert not out.exists()


def test_a_file_we_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    source = corpus(tmp_path / "x.jsonl")
    mine = tmp_path / "notes.jsonl"
    mine.write_text('{"my": "own data"}\n')
    result = runner.invoke(app, ["filter", str(source), "-o", str(mine), "--min-words", "3",
                                 "--field", "text"])
    assert result.exit_code == 1 and "did not write" in result.output
    assert mine.read_text() == '{"my": "own data"}\n'
    shards = tmp_path / "shards"
    shards.mkdir()
    (shards / "keep.txt").write_text("mine")
    result = runner.invoke(app, ["filter", str(source), "-o", f"{shards}/", "--min-words", "3",
                                 "--field", "text"])
    assert result.exit_code == 1 and "did not write" in result.output
    assert (shards / "keep.txt").read_text() == "mine"


def test_a_rerun_replaces_its_own_set_and_drops_its_stale_sidecars(tmp_path: Path) -> None:
    source = corpus(tmp_path / "x.jsonl")
    out = tmp_path / "o.jsonl"
    assert runner.invoke(app, ["dedup", str(source), "-o", str(out), "--field", "text",
                               "--on-error", "skip"]).exit_code == 0
    assert (tmp_path / "o.rejects.jsonl").exists()
    (tmp_path / "unrelated.txt").write_text("not ours")
    assert runner.invoke(app, ["dedup", str(source), "-o", str(out), "--field", "text"]).exit_code == 0
    assert not (tmp_path / "o.rejects.jsonl").exists()  # ours, from the last set: removed
    assert (tmp_path / "unrelated.txt").read_text() == "not ours"


def test_a_sharded_output_has_a_manifest_and_sharded_sidecars(tmp_path: Path) -> None:
    source = corpus(tmp_path / "x.jsonl")
    result = curate("dedup", str(source), "-o", f"{tmp_path / 'out'}/", "--field", "text",
                    "--on-error", "skip")
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    shards = [tmp_path / "out" / s["name"] for s in manifest["shards"]]
    assert len(shards) > 1 and manifest["format"] == "jsonl.gz"
    assert sum(s["rows"] for s in manifest["shards"]) == manifest["rows"]
    assert all(path.stat().st_size == s["bytes"] for path, s in zip(shards, manifest["shards"]))
    removed = tmp_path / "out.removed"
    assert (removed / "_manifest.json").exists()
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert stats["out"] == manifest["rows"] == len(list(read_records(tmp_path / "out")))
    assert stats["removed"] == len(list(read_records(removed))) > 0
    # a truncated shard is caught when the dataset is read again
    with open(shards[0], "r+b") as handle:
        handle.truncate(10)
    result = curate("stats", str(tmp_path / "out"))
    assert result.returncode == 1 and "truncated" in result.stderr
