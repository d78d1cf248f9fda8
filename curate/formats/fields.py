"""Small helpers shared by the format parsers: typed field access with located errors."""

from __future__ import annotations

from typing import Any

from curate.io import BadRecord, Loc


def require(record: dict[str, Any], field: str, loc: Loc, kind: type | tuple[type, ...] = str) -> Any:
    """`record[field]`, which must exist and be of `kind`."""
    if field not in record or record[field] is None:
        raise BadRecord(loc, field, "missing required field", reason="missing_field", record=record)
    return check_type(record[field], field, loc, kind, record)


def optional(record: dict[str, Any], field: str, loc: Loc, kind: type | tuple[type, ...] = str,
             default: Any = None) -> Any:
    """`record[field]` if present and not null (checked against `kind`), else `default`."""
    if record.get(field) is None:
        return default
    return check_type(record[field], field, loc, kind, record)


def check_type(value: Any, field: str, loc: Loc, kind: type | tuple[type, ...], record: Any) -> Any:
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise BadRecord(loc, field, f"expected {names}, got {type(value).__name__}",
                        reason="invalid_field", record=record)
    return value


def extra_fields(record: dict[str, Any], known: set[str] | frozenset[str]) -> dict[str, Any]:
    """Columns a parser does not map; kept in `meta.extra_fields` so nothing is lost."""
    return {key: value for key, value in record.items() if key not in known}


def provenance(fmt: str, loc: Loc, **more: Any) -> dict[str, Any]:
    """`meta.source`: the input format and where the record came from."""
    return {"format": fmt, "file": loc.path, "line": loc.line, **more}


def record_id(record: dict[str, Any], loc: Loc, index: int) -> str:
    """The input's own `id` when it has one, else a stable `<file stem>-<0-based index>`."""
    if record.get("id") is not None:
        return str(record["id"])
    stem = loc.path.rsplit("/", 1)[-1].split(".", 1)[0]
    return f"{stem}-{index}"


def user(content: str) -> dict[str, str]:
    return {"role": "user", "content": content}


def assistant(content: str) -> dict[str, str]:
    return {"role": "assistant", "content": content}
