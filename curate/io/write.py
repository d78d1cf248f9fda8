"""Write records atomically to jsonl, jsonl.gz, json or parquet.

Output goes to a temporary name in the same directory and is renamed into
place only when the writer closes without an error, so a crash never leaves a
half-written file under the final name.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Self

_DATA_SUFFIXES = (".jsonl.gz", ".json.gz", ".jsonl", ".json", ".parquet")
_UMASK = os.umask(0)
os.umask(_UMASK)


def dumps(record: Any) -> str:
    """One compact JSON line, UTF-8 kept readable, key order preserved (deterministic)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` on success."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent)
    os.close(handle)
    temp = Path(temp_name)
    temp.chmod(0o666 & ~_UMASK)  # mkstemp creates 0600; final files get the usual mode
    try:
        yield temp
        os.replace(temp, final)
    finally:
        temp.unlink(missing_ok=True)


class RecordWriter:
    """Streams records to `path`; the format follows the suffix. Use as a context manager."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.count = 0
        self._format = _format_of(self.path)
        self._atomic = atomic_path(self.path)
        self._buffer: list[dict[str, Any]] = []
        self._handle: IO[str] | None = None

    def __enter__(self) -> Self:
        temp = self._atomic.__enter__()
        if self._format == "jsonl.gz":
            # No file name and mtime=0 in the header: gzip output is byte-identical across runs.
            self._raw = open(temp, "wb")
            self._handle = io.TextIOWrapper(gzip.GzipFile(filename="", fileobj=self._raw, mode="wb",
                                                          mtime=0), encoding="utf-8")
        elif self._format == "jsonl":
            self._handle = open(temp, "w", encoding="utf-8")
        self._temp = temp
        return self

    def write(self, record: dict[str, Any]) -> None:
        self.count += 1
        if self._handle is not None:
            self._handle.write(dumps(record) + "\n")
        else:
            self._buffer.append(record)

    def write_all(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write(record)

    def __exit__(self, exc_type, exc, tb) -> bool | None:
        try:
            if self._handle is not None:
                self._handle.close()
                if self._format == "jsonl.gz":
                    self._raw.close()
            elif exc_type is None:
                self._write_buffered()
        except BaseException as error:
            self._atomic.__exit__(type(error), error, error.__traceback__)
            raise
        return self._atomic.__exit__(exc_type, exc, tb)

    def _write_buffered(self) -> None:
        if self._format == "json":
            with open(self._temp, "w", encoding="utf-8") as handle:
                json.dump(self._buffer, handle, ensure_ascii=False, indent=2, default=str)
                handle.write("\n")
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pa.Table.from_pylist(self._buffer)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise ValueError(f"{self.path}: records do not share one parquet schema ({exc}); "
                             "write .jsonl instead") from exc
        pq.write_table(table, self._temp)


def write_records(path: str | os.PathLike, records: Iterable[dict[str, Any]]) -> int:
    """Write all `records` to `path` atomically; return how many were written."""
    with RecordWriter(path) as writer:
        writer.write_all(records)
    return writer.count


def write_json(path: str | os.PathLike, value: Any) -> None:
    """Write one JSON document (stats, reports) atomically."""
    with atomic_path(path) as temp:
        temp.write_text(json.dumps(value, ensure_ascii=False, indent=2, default=str) + "\n",
                        encoding="utf-8")


def sidecar(path: str | os.PathLike, kind: str) -> Path:
    """`out.jsonl` + `stats.json` -> `out.stats.json` (the data suffix is replaced)."""
    path = Path(path)
    name = path.name
    for suffix in _DATA_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(f"{name}.{kind}")


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".jsonl.gz", ".json.gz")):
        return "jsonl.gz"
    if name.endswith(".jsonl"):
        return "jsonl"
    if name.endswith(".json"):
        return "json"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"{path}: unknown output format; use .jsonl, .jsonl.gz, .json or .parquet")
