"""Reading and writing records: inputs of any shape, output sets committed as one unit,
and bad-input handling."""

from curate.io.errors import BadRecord, DamagedInput, Loc, OnError, Rejects
from curate.io.outputs import OutputError, OutputSet
from curate.io.read import Row, read_records, read_rows, read_split
from curate.io.sources import InputError, Split, looks_like_hub_id, plan_splits
from curate.io.write import (
    PartWriter,
    RecordWriter,
    atomic_path,
    dumps,
    sidecar,
    write_json,
    write_records,
)

__all__ = [
    "BadRecord",
    "DamagedInput",
    "InputError",
    "Loc",
    "OnError",
    "OutputError",
    "OutputSet",
    "PartWriter",
    "RecordWriter",
    "Rejects",
    "Row",
    "Split",
    "atomic_path",
    "dumps",
    "looks_like_hub_id",
    "plan_splits",
    "read_records",
    "read_rows",
    "read_split",
    "sidecar",
    "write_json",
    "write_records",
]
