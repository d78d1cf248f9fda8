"""Turn pydantic validation errors into a field path and a readable message."""

from __future__ import annotations

import re

from pydantic import ValidationError

# Model-level validators in this package phrase errors as "field.path: message".
_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.\[\]]*): (.+)$", re.DOTALL)


def field_path(loc: tuple) -> str:
    """`("messages", 2, "role")` -> `"messages[2].role"`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The field path and message of the first error, without pydantic's URL noise."""
    error = exc.errors(include_url=False)[0]
    message = error["msg"].removeprefix("Value error, ")
    path = field_path(tuple(error["loc"]))
    if not path and (match := _FIELD_PREFIX.match(message)):
        path, message = match.groups()
    return path or "<record>", message
