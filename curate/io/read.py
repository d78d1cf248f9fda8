"""Read records from any split: JSON Lines (plain, gzip, zstd), JSON arrays, parquet, saved
Hugging Face datasets and hub ids.

Every reader yields `(Loc, dict)` pairs and never raises for one bad record: a line with
bad bytes, bad JSON, a lone surrogate or absurd nesting goes to `rejects` alone (which
raises in `raise` mode). A stream that breaks part way (a truncated or corrupt `.gz`, a
JSON array with a syntax error) keeps every record before the damage and reports the rest
as one `DamagedInput` naming the file and line. Memory does not grow with the file, except
for JSON arrays, which are read whole (use JSON Lines or parquet for big data).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

from curate.io.codecs import StreamDamage, open_binary
from curate.io.errors import BadRecord, DamagedInput, Loc, Rejects, describe_json_error
from curate.io.jsonl import MAX_DEPTH, find_problem, parse_json_line, strip_bom
from curate.io.sources import InputError, Split, plan_splits

Row = tuple[Loc, dict[str, Any]]
_CHAT_FIELDS = ("messages", "prompt", "chosen", "rejected", "conversations", "completion")


def read_rows(source: str | os.PathLike | list[str], *, rejects: Rejects | None = None,
              split: str = "train") -> Iterator[Row]:
    """Yield `(Loc, record)` for every record of every input `source` names (a file, a glob,
    a directory of shards, a saved or hub dataset, or a list of them)."""
    rejects = Rejects("raise") if rejects is None else rejects
    specs = [str(s) for s in source] if isinstance(source, list) else [str(source)]
    for part in plan_splits(specs, split=split):
        yield from read_split(part, rejects)


def read_records(source: str | os.PathLike | list[str], **kwargs: Any) -> Iterator[dict[str, Any]]:
    """`read_rows` without locations."""
    for _, record in read_rows(source, **kwargs):
        yield record


def read_split(split: Split, rejects: Rejects) -> Iterator[Row]:
    """The records of one split, in order."""
    readers = {"lines": _read_lines, "json": _read_json, "parquet": _read_parquet,
               "hf_disk": _read_hf_disk, "hub": _read_hub}
    for loc, record in readers[split.kind](split, rejects):
        yield loc, parse_embedded_json(record)


def parse_embedded_json(record: dict[str, Any]) -> dict[str, Any]:
    """A chat field stored as a JSON string (common in parquet: `messages` as text) becomes
    the list it holds, when that list is a list of messages (objects); otherwise it stays."""
    for key in _CHAT_FIELDS:
        value = record.get(key)
        if isinstance(value, str) and value[:1] == "[" and value.rstrip()[-1:] == "]":
            try:
                parsed = json.loads(value)
            except (json.JSONDecodeError, RecursionError):
                continue
            if isinstance(parsed, list) and parsed and all(isinstance(m, dict) for m in parsed):
                record = {**record, key: parsed}
    return record


def _read_lines(split: Split, rejects: Rejects) -> Iterator[Row]:
    number = split.first_line - 1
    try:
        with open_binary(split.path) as handle:
            if split.start:
                handle.seek(split.start)
            position = split.start
            for raw in handle:
                if split.stop is not None and position >= split.stop:
                    break
                position += len(raw)
                number += 1
                if number == 1:
                    raw = strip_bom(raw)
                if not raw.strip():
                    continue
                loc = Loc(split.path, number)
                try:
                    record = parse_json_line(raw, loc)
                except BadRecord as error:
                    rejects(error)
                    continue
                yield loc, record
    except StreamDamage as exc:
        rejects(DamagedInput(Loc(split.path, number + 1),
                             f"{exc}: kept the {number - split.first_line + 1:,} lines before "
                             "the damage, the rest of the file is unreadable"))
    except OSError as exc:
        raise InputError(f"{split.path}: cannot read ({exc.strerror or exc})") from None


def _read_json(split: Split, rejects: Rejects) -> Iterator[Row]:
    """A `.json` file: a JSON array of records, or JSON Lines under a .json name."""
    try:
        with open_binary(split.path) as handle:
            data = handle.read()
    except StreamDamage as exc:
        raise InputError(f"{split.path}: {exc}") from None
    data = strip_bom(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DamagedInput(Loc(split.path, line), f"invalid UTF-8 byte "
                           f"0x{data[exc.start:exc.start + 1].hex()} (the file is not UTF-8?)") \
            from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        yield from _read_json_array(text, split.path, rejects)
    elif stripped.startswith("{") and not _first_line_is_object(stripped):
        raise InputError(f"{split.path}: holds one JSON object, not records; expected a JSON "
                         "array of records ([{...}, {...}]) or JSON Lines (one object per line)")
    elif stripped:
        yield from _read_lines(Split(split.path, "lines"), rejects)  # JSON Lines named .json


def _first_line_is_object(text: str) -> bool:
    first = text.split("\n", 1)[0]
    try:
        return isinstance(json.loads(first), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


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
    element = -1
    while position < length:
        line += text.count("\n", scanned, position)
        scanned = position
        element += 1
        loc = Loc(name, line, element)
        try:
            record, end = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            # Past a syntax error inside an array there is no safe resynchronisation point.
            rejects(DamagedInput(Loc(name, exc.lineno), f"{describe_json_error(exc)}: the "
                                 "array cannot be read past this point"))
            return
        except RecursionError:
            rejects(DamagedInput(loc, f"an element nested deeper than {MAX_DEPTH:,} levels: "
                                 "the array cannot be read past this point"))
            return
        problem = find_problem(record) if isinstance(record, dict) else None
        if not isinstance(record, dict):
            rejects(BadRecord(loc, "<element>", f"expected a JSON object, got "
                              f"{type(record).__name__}", reason="bad_json", record=record))
        elif problem:
            field, message, reason = problem
            rejects(BadRecord(loc, field, message, reason=reason, record=None))
        else:
            yield loc, record
        position = skip_space(end)
        if position < length and text[position] == ",":
            position = skip_space(position + 1)
        elif position < length and text[position] == "]":
            return
        else:
            where = Loc(name, line + text.count("\n", scanned, position))
            rejects(DamagedInput(where, "invalid JSON array (expected ',' or ']'): the array "
                                 "cannot be read past this point"))
            return
    rejects(DamagedInput(Loc(name, line), "invalid JSON array (missing ']'): truncated?"))


def _read_parquet(split: Split, rejects: Rejects) -> Iterator[Row]:
    import pyarrow.parquet as pq

    number = split.first_line - 1
    try:
        parquet = pq.ParquetFile(split.path)
        groups = list(range(split.start, split.stop if split.stop is not None
                            else parquet.metadata.num_row_groups))
        for batch in parquet.iter_batches(batch_size=4096, row_groups=groups):
            for record in batch.to_pylist():
                number += 1
                yield Loc(split.path, number), record
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
        rejects(DamagedInput(Loc(split.path, number + 1), f"unreadable parquet data ({exc})"))


def _read_hf_disk(split: Split, rejects: Rejects) -> Iterator[Row]:
    import datasets

    dataset = datasets.load_from_disk(split.path)
    if isinstance(dataset, datasets.DatasetDict):
        dataset = dataset[split.split]
    stop = len(dataset) if split.stop is None else split.stop
    for number, record in enumerate(dataset.select(range(split.start, stop)),
                                    start=split.first_line):
        yield Loc(f"{split.path}[{split.split}]", number), record


def _read_hub(split: Split, rejects: Rejects) -> Iterator[Row]:
    import datasets

    try:
        dataset = datasets.load_dataset(split.path, split=split.split, streaming=True)
        for number, record in enumerate(dataset, start=1):
            yield Loc(split.name, number), record
    except Exception as exc:  # the hub client raises many types; all mean "not readable"
        offline = os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get(
            "HF_DATASETS_OFFLINE") == "1"
        hint = " (offline: HF_HUB_OFFLINE=1)" if offline else ""
        raise InputError(f"{split.path}: no such file or directory, and not readable as a "
                         f"Hugging Face hub dataset{hint}: {str(exc).splitlines()[0][:200]}") \
            from None


def undecodable_line(path: str | os.PathLike) -> BadRecord:
    """The first line of a text file (a CSV, say) that is not UTF-8, as a `BadRecord`."""
    number = 0
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                return BadRecord(Loc(str(path), number), "<line>", f"invalid UTF-8 byte "
                                 f"0x{raw[exc.start:exc.start + 1].hex()} at byte {exc.start + 1} "
                                 "of the line (the file is not UTF-8?)", reason="bad_encoding")
    return BadRecord(Loc(str(path), max(number, 1)), "<file>", "not valid UTF-8",
                     reason="bad_encoding")
