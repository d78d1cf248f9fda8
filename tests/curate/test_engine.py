"""The sharded dataflow: several inputs (files, globs, shard directories) into one or more
output shards, for every command; the same bytes for any number of workers; input order."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from curate.io import read_records
from curate.samples import SAMPLES_DIR

REPO = Path(__file__).resolve().parents[2]


def curate(*args: str, split_bytes: int = 3000) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PREFKIT_SPLIT_BYTES": str(split_bytes)}
    return subprocess.run([sys.executable, "-m", "curate.cli", *args], capture_output=True,
                          text=True, env=env, check=False)


def ok(*args: str, **kwargs) -> subprocess.CompletedProcess:
    result = curate(*args, **kwargs)
    assert result.returncode == 0, result.stderr
    return result


def shard(records: list[dict], folder: Path, pieces: int, *, gz: bool = True) -> list[Path]:
    """Split records over `pieces` shard files (round robin keeps order within a shard)."""
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(records) // pieces)
    paths = []
    for number in range(pieces):
        chunk = records[number * size:(number + 1) * size]
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk)
        path = folder / f"part-{number}.jsonl{'.gz' if gz else ''}"
        if gz:
            with gzip.open(path, "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def chats(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    out = tmp_path_factory.mktemp("c") / "c.jsonl"
    ok("convert", str(SAMPLES_DIR / "instructions.alpaca.json"), "-o", str(out))
    return list(read_records(out))


def data(path: Path) -> list[dict]:
    return list(read_records(str(path)))


COMMANDS = {
    "convert": [],
    "score": ["--signals", "counts,gopher_quality"],
    "filter": ["--min-words", "3", "--no-report"],
    "decontam": ["--against", str(SAMPLES_DIR / "eval_set.jsonl"), "--ngram", "8"],
    "dedup": [],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_glob_and_a_directory_give_what_one_file_gives(chats, tmp_path: Path,
                                                         command: str) -> None:
    whole = tmp_path / "whole.jsonl"
    whole.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chats))
    shard(chats, tmp_path / "shards", 5)
    ok(command, str(whole), "-o", str(tmp_path / "one.jsonl"), *COMMANDS[command])
    ok(command, str(tmp_path / "shards" / "*.jsonl.gz"), "-o", str(tmp_path / "glob.jsonl"),
       *COMMANDS[command])
    ok(command, str(tmp_path / "shards"), "-o", f"{tmp_path / 'sharded'}/", *COMMANDS[command])
    one = data(tmp_path / "one.jsonl")
    assert one and data(tmp_path / "glob.jsonl") == one == data(tmp_path / "sharded")
    stats = [json.loads((tmp_path / f"{name}.stats.json").read_text())
             for name in ("one", "glob", "sharded")]
    assert len({(s["in"], s["out"], s["removed"]) for s in stats}) == 1
    manifest = json.loads((tmp_path / "sharded" / "_manifest.json").read_text())
    assert len(manifest["shards"]) > 1 and manifest["rows"] == len(one)
    if stats[0]["removed"]:
        assert len(data(tmp_path / "sharded.removed")) == stats[0]["removed"]


def test_select_and_pairs_read_shards_too(tmp_path: Path) -> None:
    math = [{"problem": f"Problem {i}: what is {i} plus {i + 2}?",
             "solution": f"Add them. The answer is $\\boxed{{{2 * i + 2}}}$.",
             "subject": ["a", "b", "c"][i % 3], "level": i % 5 + 1} for i in range(60)]
    shard(math, tmp_path / "math", 4)
    args = ["-k", "12", "--prompt-field", "problem", "--answer-field", "solution",
            "--domain-field", "subject", "-d", "column:level"]
    whole = tmp_path / "math.jsonl"
    whole.write_text("".join(json.dumps(r) + "\n" for r in math))
    ok("select", str(whole), "-o", str(tmp_path / "a.jsonl"), *args)
    ok("select", str(tmp_path / "math"), "-o", str(tmp_path / "b.jsonl"), *args)
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    prefs = data(SAMPLES_DIR / "prefs_seed.jsonl")
    shard(prefs, tmp_path / "prefs", 3, gz=False)
    ok("pairs", "--from-preference", str(SAMPLES_DIR / "prefs_seed.jsonl"), "-o",
       str(tmp_path / "p1.jsonl"))
    ok("pairs", "--from-preference", str(tmp_path / "prefs"), "-o", str(tmp_path / "p2.jsonl"))
    assert data(tmp_path / "p1.jsonl") == data(tmp_path / "p2.jsonl")


@pytest.mark.parametrize("command", ["filter", "dedup", "convert"])
def test_one_or_two_workers_write_the_same_bytes(chats, tmp_path: Path, command: str) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chats))
    for workers in ("1", "2"):
        ok(command, str(source), "-o", str(tmp_path / f"w{workers}.jsonl"),
           *COMMANDS[command], "--workers", workers, split_bytes=5000)
    for suffix in (".jsonl", ".removed.jsonl"):
        assert (tmp_path / f"w1{suffix}").read_bytes() == (tmp_path / f"w2{suffix}").read_bytes()


def test_per_record_output_keeps_the_input_order(chats, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chats))
    ok("filter", str(source), "-o", f"{tmp_path / 'out'}/", "--min-words", "3",
       "--no-report", "--workers", "2")
    order = {r["id"]: i for i, r in enumerate(chats)}
    kept = [order[r["id"]] for r in data(tmp_path / "out")]
    assert kept == sorted(kept) and len(kept) > 300


def test_shards_and_shard_size(chats, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in chats))
    ok("convert", str(source), "-o", str(tmp_path / "n"), "--shards", "4")
    manifest = json.loads((tmp_path / "n" / "_manifest.json").read_text())
    rows = [s["rows"] for s in manifest["shards"]]
    assert len(rows) == 4 and max(rows) - min(rows) <= 1 and sum(rows) == len(chats)
    ok("convert", str(source), "-o", str(tmp_path / "s"), "--shard-size", "50")
    manifest = json.loads((tmp_path / "s" / "_manifest.json").read_text())
    assert all(s["rows"] <= 50 for s in manifest["shards"])
    assert data(tmp_path / "s") == data(tmp_path / "n") == data(source)
    parquet = tmp_path / "pq.parquet"
    ok("convert", str(source), "-o", f"{parquet}/", "--shards", "2")
    assert [p.suffix for p in sorted(parquet.glob("part-*"))] == [".parquet", ".parquet"]
    assert len(data(parquet)) == len(chats)


def test_errors_name_the_shard_file_and_line(chats, tmp_path: Path) -> None:
    paths = shard(chats, tmp_path / "shards", 3, gz=False)
    lines = paths[2].read_text().splitlines()
    lines[4] = '{"messages": [oops'
    paths[2].write_text("\n".join(lines) + "\n")
    result = curate("filter", str(tmp_path / "shards"), "-o", str(tmp_path / "o.jsonl"),
                    "--min-words", "3")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"{paths[2]}:5: invalid JSON" in result.stderr
    assert not (tmp_path / "o.jsonl").exists()


def test_a_large_file_is_split_with_exact_line_numbers(tmp_path: Path) -> None:
    rows = [{"question": f"question {i}?", "answer": f"row {i} " + "x" * (i % 50)}
            for i in range(2000)]
    source = tmp_path / "big.jsonl"
    text = "".join(json.dumps(r) + "\n" for r in rows)
    lines = text.splitlines()
    lines[1733] = "not json"
    source.write_text("\n".join(lines) + "\n")
    result = curate("convert", str(source), "-o", str(tmp_path / "o.jsonl"), "--on-error",
                    "skip", split_bytes=2000)
    assert result.returncode == 0, result.stderr
    [reject] = data(tmp_path / "o.rejects.jsonl")
    assert reject["line"] == 1734 and reject["reason"] == "bad_json"
    converted = data(tmp_path / "o.jsonl")
    assert len(converted) == 1999
    assert converted[1800]["meta"]["source"]["line"] == 1802
