"""`StepOutput` (the output set of small steps such as `label export`) writes OUT in the format
its name says: a `.jsonl` OUT was once a zstd stream under a `.jsonl` name."""

from __future__ import annotations

import gzip
import json

import pytest

from curate.io import read_records
from curate.step import StepOutput

RECORDS = [{"id": f"r{i}", "text": f"record {i}"} for i in range(3)]


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.json", "out.parquet"])
def test_step_output_writes_the_format_its_name_says(tmp_path, name):
    out = tmp_path / name
    with StepOutput("export", out, quiet=True) as step:
        step.n_in = len(RECORDS) + 1
        for record in RECORDS:
            step.keep(record)
        step.remove({"id": "gone"}, "too_short")
    raw = out.read_bytes()
    if name == "out.jsonl":  # plain text, one JSON object a line, readable with `head`
        assert [json.loads(line) for line in raw.decode("utf-8").splitlines()] == RECORDS
    elif name == "out.jsonl.gz":
        assert [json.loads(line) for line in gzip.decompress(raw).splitlines()] == RECORDS
    elif name == "out.json":
        assert json.loads(raw) == RECORDS
    else:
        assert raw[:4] == b"PAR1"
    assert list(read_records(str(out))) == RECORDS
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"]) == (4, 3, 1)
