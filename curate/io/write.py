"""Write records: one file atomically (`RecordWriter`), or one part of a sharded output
(`PartWriter`, what engine tasks write).

Formats follow the suffix: `.jsonl`, `.jsonl.gz`, `.jsonl.zst`, `.json` (an array) and
`.parquet`. Compressed JSON Lines are written a block at a time, each block an
independent gzip member or zstd frame, so parts join byte for byte. Every writer counts
rows and bytes and hashes what it wrote (xxh3-128) for the manifest.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import xxhash

from curate.io.codecs import compress_block, compression_of
from curate.io.jsonl import dump_bytes, dumps

__all__ = ["FORMATS", "PartWriter", "RecordWriter", "atomic_path", "dumps", "format_of",
           "sidecar", "write_json", "write_records"]

FORMATS = ("jsonl", "jsonl.gz", "jsonl.zst", "json", "parquet")
_SUFFIXES = (".jsonl.gz", ".jsonl.zst", ".json.gz", ".jsonl", ".json", ".parquet", ".ndjson")
_BLOCK_BYTES = 1 << 22  # compress about 4 MB at a time
_UMASK = os.umask(0)
os.umask(_UMASK)


def format_of(path: str | Path) -> str:
    name = str(path).lower().rstrip("/")
    if name.endswith((".jsonl.gz", ".json.gz", ".ndjson.gz")):
        return "jsonl.gz"
    if name.endswith((".jsonl.zst", ".json.zst")):
        return "jsonl.zst"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"{path}: unknown output format; use .jsonl, .jsonl.gz, .jsonl.zst, .json "
                     "or .parquet (or a directory, ending in /, for a sharded output)")


@contextmanager
def atomic_path(path: str | os.PathLike, *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` on success."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(handle)
    temp = Path(temp_name)
    temp.chmod(mode if mode is not None else 0o666 & ~_UMASK)  # mkstemp makes 0600
    try:
        yield temp
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


class PartWriter:
    """Writes records to `path` (not atomically: parts live in a staging directory).

    JSON Lines formats stream; parquet buffers the part (bounded by the task's size).
    """

    def __init__(self, path: str | Path, fmt: str) -> None:
        if fmt == "json":
            raise ValueError("parts are never .json arrays (the merge writes the array)")
        self.path, self.format = Path(path), fmt
        self.rows = 0
        self.bytes = 0
        self._digest = xxhash.xxh3_128()
        self._compression = compression_of(f"x.{fmt}")
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._records: list[dict[str, Any]] = []
        self._handle = None if fmt == "parquet" else open(self.path, "wb")

    def write(self, record: dict[str, Any]) -> None:
        self.rows += 1
        if self._handle is None:
            self._records.append(record)
            return
        line = dump_bytes(record) + b"\n"
        self._pending.append(line)
        self._pending_size += len(line)
        if self._pending_size >= _BLOCK_BYTES:
            self.flush()

    def write_all(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def flush(self) -> None:
        if self._handle is None or not self._pending:
            return
        block = compress_block(b"".join(self._pending), self._compression)
        self._pending, self._pending_size = [], 0
        self._handle.write(block)
        self._digest.update(block)
        self.bytes += len(block)

    def close(self) -> dict[str, Any]:
        """Finish the part; its manifest entry (name, rows, bytes, hash)."""
        if self._handle is not None:
            self.flush()
            self._handle.close()
        else:
            write_parquet(self.path, self._records)
            self._records = []
            data = self.path.read_bytes()
            self.bytes = len(data)
            self._digest.update(data)
        from curate.io.outputs import fault

        fault("writing")
        return {"name": self.path.name, "rows": self.rows, "bytes": self.bytes,
                "xxh3_128": self._digest.hexdigest()}

    def abort(self) -> None:
        if self._handle is not None:
            self._handle.close()


def write_parquet(path: Path, records: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pa.Table.from_pylist(records)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise ValueError(f"{path}: records do not share one parquet schema ({exc}); "
                         "write .jsonl instead") from None
    pq.write_table(table, path)


class RecordWriter:
    """Streams records to one file, atomically; the format follows the suffix."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.format = format_of(self.path)
        self._atomic = atomic_path(self.path)
        self._buffer: list[dict[str, Any]] = []
        self._part: PartWriter | None = None

    @property
    def count(self) -> int:
        return self._part.rows if self._part is not None else len(self._buffer)

    def __enter__(self) -> Self:
        self._temp = self._atomic.__enter__()
        if self.format not in ("json", "parquet"):
            self._part = PartWriter(self._temp, self.format)
        return self

    def write(self, record: dict[str, Any]) -> None:
        if self._part is not None:
            self._part.write(record)
        else:
            self._buffer.append(record)

    def write_all(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        try:
            if exc_type is None:
                if self._part is not None:
                    self._part.close()
                elif self.format == "json":
                    write_json_array(self._temp, self._buffer)
                else:
                    write_parquet(self._temp, self._buffer)
            elif self._part is not None:
                self._part.abort()
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        return self._atomic.__exit__(exc_type, exc, tb)


def write_json_array(path: Path, records: Iterable[dict[str, Any]]) -> None:
    """A JSON array, two-space indented (as `json.dump(..., indent=2)` writes it), streamed."""
    with open(path, "w", encoding="utf-8") as handle:
        first = True
        for record in records:
            text = json.dumps(record, ensure_ascii=False, indent=2, default=str)
            handle.write(("[\n  " if first else ",\n  ") + text.replace("\n", "\n  "))
            first = False
        handle.write("[]\n" if first else "\n]\n")


def write_records(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> int:
    """Write all `records` to `path` atomically; return how many were written."""
    with RecordWriter(path) as writer:
        writer.write_all(records)
    return writer.count


def write_json(path: str | os.PathLike, value: Any, *, mode: int | None = None) -> None:
    """Write one JSON document (stats, reports) atomically."""
    with atomic_path(path, mode=mode) as temp:
        temp.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n",
                        encoding="utf-8")


def sidecar(path: str | os.PathLike, kind: str) -> Path:
    """`out.jsonl` + `stats.json` -> `out.stats.json`; `out/` + `removed` -> `out.removed`."""
    path = Path(path)
    name = path.name
    for suffix in _SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(f"{name}.{kind}")
