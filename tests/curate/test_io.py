"""curate.io: every input format, located errors, atomic and streaming writes."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest

from curate.io import (
    BadRecord,
    RecordWriter,
    Rejects,
    read_records,
    read_rows,
    sidecar,
    write_records,
)

RECORDS = [{"id": str(i), "text": f"record {i}", "meta": {"n": i}} for i in range(5)]


@pytest.mark.parametrize("name", ["a.jsonl", "a.jsonl.gz", "a.json", "a.parquet"])
def test_write_then_read_round_trips(tmp_path: Path, name: str):
    path = tmp_path / name
    assert write_records(path, RECORDS) == 5
    assert list(read_records(path)) == RECORDS


def test_jsonl_locations_skip_blank_lines_and_name_bad_lines(tmp_path: Path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n{oops\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(BadRecord, match=r"in\.jsonl:4: invalid JSON"):
        list(read_rows(path))
    rejects = Rejects("skip")
    rows = list(read_rows(path, rejects=rejects))
    assert [(loc.line, rec) for loc, rec in rows] == [(1, {"a": 1}), (3, {"a": 2})]
    assert [r["line"] for r in rejects.records] == [4, 5]
    assert rejects.records[0]["record"] == "{oops"
    assert rejects.by_reason == {"bad_json": 2}


def test_json_array_reports_true_line_numbers(tmp_path: Path):
    path = tmp_path / "in.json"
    path.write_text('[\n  {"a": 1},\n  {"a": 2,\n   "b": 3},\n  "text",\n  {"a": 4}\n]\n', encoding="utf-8")
    rejects = Rejects("skip")
    rows = list(read_rows(path, rejects=rejects))
    assert [loc.line for loc, _ in rows] == [2, 3, 6]
    assert rejects.records[0]["line"] == 5
    broken = tmp_path / "broken.json"
    broken.write_text('[\n {"a": 1},\n {"a": }\n]', encoding="utf-8")
    with pytest.raises(BadRecord, match=r"broken\.json:3"):
        list(read_rows(broken))


def test_empty_files_give_no_records(tmp_path: Path):
    for name, text in [("e.jsonl", ""), ("e.json", "[]"), ("f.json", "  \n")]:
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert list(read_rows(tmp_path / name)) == []


def test_saved_hf_dataset_dirs_and_splits(tmp_path: Path):
    import datasets

    datasets.Dataset.from_list(RECORDS).save_to_disk(str(tmp_path / "ds"))
    assert [r["id"] for r in read_records(tmp_path / "ds")] == ["0", "1", "2", "3", "4"]
    datasets.DatasetDict({"train": datasets.Dataset.from_list(RECORDS[:2]),
                          "test": datasets.Dataset.from_list(RECORDS[2:])}).save_to_disk(str(tmp_path / "dd"))
    assert len(list(read_records(tmp_path / "dd", split="test"))) == 3
    with pytest.raises(ValueError, match="no split 'dev'"):
        list(read_records(tmp_path / "dd", split="dev"))


def test_hub_ids_go_through_load_dataset(monkeypatch: pytest.MonkeyPatch):
    import datasets

    calls = []

    def fake_load_dataset(name, split, streaming):
        calls.append((name, split, streaming))
        return iter([{"text": "from the hub"}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    assert list(read_records("someorg/somedata", split="test")) == [{"text": "from the hub"}]
    assert calls == [("someorg/somedata", "test", True)]
    with pytest.raises(FileNotFoundError):
        list(read_records("missing/file.jsonl"))


def test_crash_leaves_no_partial_output(tmp_path: Path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    with pytest.raises(RuntimeError), RecordWriter(out) as writer:
        writer.write({"a": 1})
        raise RuntimeError("crash mid-write")
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_gzip_output_is_byte_identical_across_runs(tmp_path: Path):
    write_records(tmp_path / "a.jsonl.gz", RECORDS)
    write_records(tmp_path / "b.jsonl.gz", RECORDS)
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()).decode().count("\n") == 5


def test_reading_a_line_format_streams(tmp_path: Path):
    """Peak Python memory while reading stays far below the file size."""
    path = tmp_path / "big.jsonl"
    line = json.dumps({"text": "lorem ipsum " * 40}) + "\n"
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(line for _ in range(40_000))
    size = path.stat().st_size
    tracemalloc.start()
    count = sum(1 for _ in read_rows(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 40_000
    assert peak < size / 20, f"peak {peak:,} bytes while reading a {size:,}-byte file"


def test_sidecar_names():
    assert sidecar("d/out.jsonl", "stats.json") == Path("d/out.stats.json")
    assert sidecar("d/out.jsonl.gz", "removed.jsonl") == Path("d/out.removed.jsonl")
    assert sidecar("d/out.parquet", "rejects.jsonl") == Path("d/out.rejects.jsonl")
