"""JSON text in and out, fast and strict.

orjson parses and serialises (3x and 3-5x faster than the standard library here, on chat
records); the standard library takes over only for what orjson refuses but JSON allows
(integers beyond 64 bits, `NaN` literals), so nothing valid is rejected. Each line is
decoded on its own: bad bytes, a lone surrogate or absurd nesting reject that line alone,
with a reason and the field it sits in.

Output is compact, keeps key order and UTF-8 as is: deterministic bytes for the same
records. `NaN` and infinities are not JSON and are written as `null`.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from curate.io.errors import BadRecord, Loc, describe_json_error

MAX_DEPTH = 200  # deeper JSON is rejected (reason too_deep): orjson writes at most ~250 levels
_BOM = b"\xef\xbb\xbf"
_DUMP_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(record: Any) -> str:
    """One compact JSON line (text)."""
    return dump_bytes(record).decode("utf-8")


def dump_bytes(record: Any) -> bytes:
    """One compact JSON line (UTF-8 bytes), without the newline."""
    try:
        return orjson.dumps(record, default=str, option=_DUMP_OPTIONS)
    except (TypeError, orjson.JSONEncodeError):
        # Integers beyond 64 bits, or strings holding lone surrogates (never read by us).
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        return text.encode("utf-8", "backslashreplace")


def strip_bom(line: bytes) -> bytes:
    return line[3:] if line.startswith(_BOM) else line


def raw_text(line: bytes | str) -> str:
    """A bad line as text for the rejects file: bytes that are not UTF-8 stay visible."""
    if isinstance(line, str):
        return line.rstrip("\r\n")
    return line.rstrip(b"\r\n").decode("utf-8", "backslashreplace")


def parse_json_line(line: bytes | str, loc: Loc) -> dict[str, Any]:
    """One JSON Lines record, or a `BadRecord` naming `loc` (and the field, where one is at
    fault): bad bytes (`bad_encoding`), bad JSON or not an object (`bad_json`), a lone
    surrogate (`bad_unicode`), nesting deeper than `MAX_DEPTH` (`too_deep`)."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        record = _parse_slowly(line, loc)
    else:
        opening = (b"[", b"{") if isinstance(line, bytes) else ("[", "{")
        if line.count(opening[0]) + line.count(opening[1]) > MAX_DEPTH:  # cheap pre-check
            problem = find_problem(record)
            if problem:
                field, message, reason = problem
                raise BadRecord(loc, field, message, reason=reason, record=None)
    if not isinstance(record, dict):
        raise BadRecord(loc, "<line>", f"expected a JSON object, got {_kind(record)}",
                        reason="bad_json", record=record)
    return record


def _parse_slowly(line: bytes | str, loc: Loc) -> Any:
    if isinstance(line, bytes):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = line[exc.start:exc.start + 1]
            raise BadRecord(loc, "<line>", f"invalid UTF-8 byte 0x{bad.hex()} at byte "
                            f"{exc.start + 1} of the line (the file is not UTF-8?)",
                            reason="bad_encoding", record=raw_text(line)) from None
    else:
        text = line
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadRecord(loc, "<line>", describe_json_error(exc), reason="bad_json",
                        record=raw_text(text)) from None
    except RecursionError:
        raise BadRecord(loc, "<line>", f"JSON nested deeper than {MAX_DEPTH:,} levels",
                        reason="too_deep", record=raw_text(text)[:1000]) from None
    problem = find_problem(record)
    if problem:
        field, message, reason = problem
        raise BadRecord(loc, field, message, reason=reason, record=raw_text(text))
    return record


def find_problem(value: Any) -> tuple[str, str, str] | None:
    """`(field, message, reason)` for the first string holding a lone surrogate, or for
    nesting beyond `MAX_DEPTH`; None when the value is clean. Walks iteratively."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            return (path.split(".")[0].split("[")[0] or "<record>",
                    (f"nested deeper than {MAX_DEPTH:,} levels (for very deep OASST threads, "
                     "use the flat message export)"), "too_deep")
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                code = ord(item[exc.start])
                return (path or "<record>", (f"lone surrogate U+{code:04X} at character "
                                             f"{exc.start + 1} (not valid Unicode)"), "bad_unicode")
        elif isinstance(item, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k), depth + 1)
                         for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]" if path else f"[{i}]", depth + 1)
                         for i, v in reversed(list(enumerate(item))))
    return None


def _kind(value: Any) -> str:
    return {list: "an array", str: "a string", int: "a number", float: "a number",
            bool: "a boolean", type(None): "null"}.get(type(value), type(value).__name__)
