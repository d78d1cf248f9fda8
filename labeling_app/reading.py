"""`curate.io.read_rows` with bytes that are not UTF-8 reported as bad input.

`read_rows` decodes text files strictly, so one stray byte stops a whole import with a
bare codec error that names neither the file nor the line. Here a JSON Lines file is read
as bytes and decoded line by line: a line that is not UTF-8 becomes a `BadRecord` naming
its file and line (reason `bad_encoding`), which `--on-error skip` skips alone. Other
formats go to `read_rows`; a decode error there names the file and the first bad line.

(This belongs in `curate.io`; it lives here until that module has it.)
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from curate.io import BadRecord, Loc, Rejects, Row, read_rows
from curate.io.read import parse_json_line


def read_rows_checked(source: str | os.PathLike, *, rejects: Rejects,
                      split: str = "train") -> Iterator[Row]:
    path = Path(source)
    name = path.name.lower()
    if not path.is_file() or name.endswith(".parquet") or _first_byte(path) == b"[":
        try:
            yield from read_rows(source, rejects=rejects, split=split)
        except UnicodeDecodeError:
            raise first_decode_error(path) from None
        return
    with _open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            loc = Loc(str(path), number)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                rejects(_bad_encoding(loc, raw, exc))
                continue
            if number == 1:
                line = line.lstrip("\ufeff")
            if not line.strip():
                continue
            try:
                yield loc, parse_json_line(line, loc)
            except BadRecord as error:
                rejects(error)


def first_decode_error(path: Path) -> BadRecord:
    """The first line of `path` that is not UTF-8, as a `BadRecord`."""
    with _open(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return _bad_encoding(Loc(str(path), number), raw, exc)
    return BadRecord(Loc(str(path), 1), "<file>", "not valid UTF-8", reason="bad_encoding")


def _bad_encoding(loc: Loc, raw: bytes, exc: UnicodeDecodeError) -> BadRecord:
    return BadRecord(loc, "<line>", f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte "
                     f"{exc.start + 1} of the line); re-encode the file as UTF-8",
                     reason="bad_encoding", record=raw.decode("utf-8", "backslashreplace"))


def _open(path: Path) -> IO[bytes]:
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _first_byte(path: Path) -> bytes:
    with _open(path) as handle:
        start = handle.read(4096).lstrip().removeprefix(b"\xef\xbb\xbf").lstrip()
    return start[:1]
