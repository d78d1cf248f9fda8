"""Read records from jsonl, jsonl.gz, json arrays, parquet, saved HF datasets or a hub id.

Every reader yields `(Loc, dict)` pairs. Line formats and parquet stream, so
memory does not grow with the file; a JSON array is decoded one element at a
time from the file's text, so its line numbers are exact too.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curate.io.errors import BadRecord, Loc, Rejects, describe_json_error

Row = tuple[Loc, dict[str, Any]]

_HF_DISK_MARKERS = ("dataset_info.json", "state.json", "dataset_dict.json")


def read_rows(source: str | os.PathLike, *, rejects: Rejects | None = None,
              split: str = "train") -> Iterator[Row]:
    """Yield `(Loc, record)` for every record of `source`.

    A malformed record goes to `rejects` (which raises by default).
    """
    rejects = Rejects("raise") if rejects is None else rejects
    path = Path(source)
    if path.is_dir():
        if not any((path / marker).exists() for marker in _HF_DISK_MARKERS):
            raise FileNotFoundError(f"{path}: a directory, but not a saved Hugging Face dataset")
        yield from _read_hf_disk(path, split)
    elif path.exists():
        name = path.name.lower()
        if name.endswith(".parquet"):
            yield from _read_parquet(path)
        elif name.endswith(".gz"):
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                yield from _read_text(handle, str(path), rejects)
        else:
            with open(path, encoding="utf-8") as handle:
                yield from _read_text(handle, str(path), rejects)
    elif looks_like_hub_id(str(source)):
        yield from _read_hub(str(source), split)
    else:
        raise FileNotFoundError(f"{source}: no such file or directory")


def read_records(source: str | os.PathLike, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """`read_rows` without locations."""
    for _, record in read_rows(source, **kwargs):
        yield record


def _read_text(handle: io.TextIOBase, name: str, rejects: Rejects) -> Iterator[Row]:
    first = _first_char(handle)
    if first == "[":
        yield from _read_json_array(handle.read(), name, rejects)
    else:
        yield from _read_jsonl(handle, name, rejects)


def _first_char(handle: io.TextIOBase) -> str:
    """Peek at the first non-space character (the handle is rewound)."""
    while chunk := handle.read(4096):
        stripped = chunk.lstrip().lstrip("\ufeff")
        if stripped:
            handle.seek(0)
            return stripped[0]
    handle.seek(0)
    return ""


def _read_jsonl(handle: io.TextIOBase, name: str, rejects: Rejects) -> Iterator[Row]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        loc = Loc(name, number)
        try:
            yield loc, parse_json_line(line, loc)
        except BadRecord as error:
            rejects(error)


def parse_json_line(line: str, loc: Loc) -> dict[str, Any]:
    """One JSON Lines record; a `BadRecord` (reason `bad_json`) names `loc` when it is not
    a JSON object."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadRecord(loc, "<line>", describe_json_error(exc), reason="bad_json",
                        record=line.rstrip("\n")) from None
    if not isinstance(record, dict):
        raise BadRecord(loc, "<line>", f"expected a JSON object, got {type(record).__name__}",
                        reason="bad_json", record=record)
    return record


def _read_json_array(text: str, name: str, rejects: Rejects) -> Iterator[Row]:
    """Decode `[obj, obj, ...]` element by element, tracking line numbers."""
    decoder = json.JSONDecoder()
    start = text.index("[")
    position, line, scanned, length = start + 1, 1 + text.count("\n", 0, start), start, len(text)

    def skip_space(pos: int) -> int:
        while pos < length and text[pos] in " \t\r\n":
            pos += 1
        return pos

    position = skip_space(position)
    if position < length and text[position] == "]":
        return
    while position < length:
        line += text.count("\n", scanned, position)
        scanned = position
        loc = Loc(name, line)
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            # Past a syntax error inside an array there is no safe resynchronisation point.
            raise BadRecord(loc, "<file>", describe_json_error(exc), reason="bad_json") from exc
        if isinstance(record, dict):
            yield loc, record
        else:
            rejects(BadRecord(loc, "<element>", f"expected a JSON object, got {type(record).__name__}",
                              reason="bad_json", record=record))
        position = skip_space(end)
        if position < length and text[position] == ",":
            position = skip_space(position + 1)
        elif position < length and text[position] == "]":
            return
        else:
            raise BadRecord(Loc(name, line + text.count("\n", scanned, position)), "<file>",
                            "invalid JSON array (expected ',' or ']')", reason="bad_json")
    raise BadRecord(Loc(name, line), "<file>", "invalid JSON array (missing ']')", reason="bad_json")


def _read_parquet(path: Path) -> Iterator[Row]:
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for record in batch.to_pylist():
            number += 1
            yield Loc(str(path), number), record


def _read_hf_disk(path: Path, split: str) -> Iterator[Row]:
    import datasets

    dataset = datasets.load_from_disk(str(path))
    if isinstance(dataset, datasets.DatasetDict):
        if split not in dataset:
            raise ValueError(f"{path}: no split {split!r}; available: {', '.join(dataset)}")
        dataset = dataset[split]
    for number, record in enumerate(dataset, start=1):
        yield Loc(f"{path}[{split}]", number), record


def _read_hub(name: str, split: str) -> Iterator[Row]:
    import datasets

    for number, record in enumerate(datasets.load_dataset(name, split=split, streaming=True), start=1):
        yield Loc(f"hf://{name}[{split}]", number), record


def looks_like_hub_id(source: str) -> bool:
    parts = source.split("/")
    return len(parts) in (1, 2) and all(parts) and not source.startswith((".", "~")) \
        and Path(source).suffix not in (".json", ".jsonl", ".gz", ".parquet")
