"""Language codes: what counts as one, and how a requested code matches the data's.

Codes are BCP 47 / ISO 639 (`en`, `zh`, `pt-BR`, `yue`), compared without regard to case
or to `-`/`_` (`pt-br`, `pt_BR` and `pt-BR` are one code). A code without a region matches
every region of its language: `pt` matches `pt`, `pt-BR` and `pt-PT`. A code with a region
matches only that region (a detector that reports bare `pt` cannot say which one it is).
Language names (`english`, `Chinese`) are refused with the code to use, so a typo never
removes every record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

_CODE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_NAMES: dict[str, str] = json.loads(
    Path(__file__).with_name("language_names.json").read_text(encoding="utf-8"))


def canonical(code: str) -> str:
    """`code` lowercased with `_` as `-` (the form codes are compared in)."""
    return code.strip().lower().replace("_", "-")


def parse_code(value: str) -> str:
    """A requested language code, checked; raises `ValueError` for a name or a typo."""
    code = canonical(str(value))
    if _CODE.match(code):
        return code
    hint = _NAMES.get(code)
    suggestion = f"; did you mean {hint!r}?" if hint else ""
    raise ValueError(f"{value!r} is not a language code (use ISO 639 codes such as en, zh, "
                     f"pt or pt-BR){suggestion}")


def language_matches(wanted: str, code: str | None) -> bool:
    """True when the data's `code` is the requested language `wanted` (or a region of it)."""
    if code is None:
        return False
    wanted, code = canonical(wanted), canonical(code)
    return code == wanted or code.startswith(wanted + "-")


def matches_any(wanted: Iterable[str], code: str | None) -> bool:
    return any(language_matches(one, code) for one in wanted)


def unmatched(wanted: Iterable[str], seen: Mapping[str, int]) -> list[str]:
    """The requested codes that match none of the languages seen."""
    return [one for one in wanted if not any(language_matches(one, code) for code in seen)]


def describe_seen(seen: Mapping[str, int], limit: int = 10) -> str:
    """"en (120), zh (30), ..." for an error message."""
    top = sorted(seen.items(), key=lambda item: (-item[1], item[0]))[:limit]
    more = f", and {len(seen) - limit} more" if len(seen) > limit else ""
    return ", ".join(f"{code} ({count})" for code, count in top) + more if top else "none"


def no_match_message(wanted: Iterable[str], seen: Mapping[str, int]) -> str | None:
    """The error for requested languages that match no record, or `None` when all match."""
    missing = unmatched(wanted, seen)
    if not missing:
        return None
    return (f"lang: {', '.join(missing)} matches no record; the data's languages are "
            f"{describe_seen(seen)}")
