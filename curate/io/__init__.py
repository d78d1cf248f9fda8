"""Reading and writing records: streaming readers, atomic writers, bad-input handling."""

from curate.io.errors import BadRecord, Loc, OnError, Rejects
from curate.io.read import Row, looks_like_hub_id, read_records, read_rows
from curate.io.write import RecordWriter, atomic_path, dumps, sidecar, write_json, write_records

__all__ = [
    "BadRecord",
    "Loc",
    "OnError",
    "RecordWriter",
    "Rejects",
    "Row",
    "atomic_path",
    "dumps",
    "looks_like_hub_id",
    "read_records",
    "read_rows",
    "sidecar",
    "write_json",
    "write_records",
]
