"""Plain columns: a prompt column and a response column (GSM8K `question`/`answer`,
MATH `problem`/`solution`, or any pair named with `--prompt-field`/`--response-field`)."""

from __future__ import annotations

from typing import Any

from curate.formats.fields import assistant, extra_fields, provenance, record_id, require, user
from curate.io import Loc

DETECTED_PAIRS = (("question", "answer"), ("problem", "solution"), ("query", "response"))


def detect_fields(record: dict[str, Any]) -> tuple[str, str] | None:
    return next((pair for pair in DETECTED_PAIRS if set(pair) <= record.keys()), None)


def parse(record: dict[str, Any], loc: Loc, index: int, prompt_field: str,
          response_field: str) -> dict[str, Any]:
    prompt, response = require(record, prompt_field, loc), require(record, response_field, loc)
    meta: dict[str, Any] = {"source": provenance("columns", loc, had_id="id" in record,
                                                 prompt_field=prompt_field,
                                                 response_field=response_field)}
    if extras := extra_fields(record, {"id", prompt_field, response_field}):
        meta["extra_fields"] = extras
    return {"id": record_id(record, loc, index), "messages": [user(prompt), assistant(response)],
            "meta": meta}
