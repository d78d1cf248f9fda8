"""The seed set: records that are always selected (s1 seeded its pool with AIME and GPQA).

A rule is `FIELD=VALUE` (the field's text equals VALUE) or `FIELD~REGEX` (the regular
expression matches somewhere in it). FIELD is a column or a dotted path (`meta.source`).
A record is in the seed set when any rule matches; a record without the field does not match.
Seed-set records still pass through the quality stage; they are exempt from `drop_solved`,
come first in the selection and count towards k.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from curate.views import text_view

Rule = Callable[[dict[str, Any]], bool]


def parse_rule(rule: str) -> Rule:
    """A predicate for one rule; ValueError when it is not `FIELD=VALUE` or `FIELD~REGEX`."""
    match = re.fullmatch(r"\s*([\w.\-]+)\s*([=~])(.*)", rule, flags=re.DOTALL)
    if not match:
        raise ValueError(f"seed-set rule {rule!r}: expected FIELD=VALUE or FIELD~REGEX")
    field, operator, value = match.groups()
    if operator == "=":
        return lambda record: _field(record, field) == value
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise ValueError(f"seed-set rule {rule!r}: invalid regular expression ({exc})") from None
    return lambda record: (text := _field(record, field)) is not None and bool(pattern.search(text))


def seed_mask(records: list[dict[str, Any]], rules: list[str]) -> list[bool]:
    """Which records any of `rules` matches."""
    predicates = [parse_rule(rule) for rule in rules]
    return [any(predicate(record) for predicate in predicates) for record in records]


def _field(record: dict[str, Any], field: str) -> str | None:
    try:
        return text_view(record, field)
    except KeyError:
        return None
