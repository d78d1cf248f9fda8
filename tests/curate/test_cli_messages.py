"""Failures end in one clear line (issue 16): no pydantic dump with input values and URLs,
whichever command builds the options; a whole-model check names no `<record>` field."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field
from typer.testing import CliRunner

from curate.cli import app
from curate.cli_support import one_line

PYDANTIC_NOISE = ("errors.pydantic.dev", "input_value", "validation error for", "[type=")


def _error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


@pytest.fixture
def math(tmp_path):
    path = tmp_path / "math.jsonl"
    path.write_text("".join(json.dumps({"problem": f"What is {i} + {i}?", "solution": str(2 * i)})
                            + "\n" for i in range(5)))
    return path


def test_an_unknown_quality_preset_of_select_is_one_clear_line(math, tmp_path):
    result = CliRunner().invoke(app, ["select", str(math), "-o", str(tmp_path / "s.jsonl"),
                                      "-k", "2", "--quality-preset", "nosuch"])
    assert result.exit_code == 1
    lines = _error_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "unknown preset 'nosuch'" in lines[0] and "sft-default" in lines[0]
    assert not any(noise in lines[0] for noise in PYDANTIC_NOISE), lines[0]
    assert not (tmp_path / "s.jsonl").exists()


def test_an_unknown_filter_preset_names_no_record_field(math, tmp_path):
    result = CliRunner().invoke(app, ["filter", str(math), "-o", str(tmp_path / "f.jsonl"),
                                      "--preset", "nosuch"])
    assert result.exit_code == 1
    assert _error_lines(result) == [(
        "error: options: unknown preset 'nosuch'; bundled presets: c4, fineweb, reasoning, "
        "sft-default, web-gopher (or give a path to a YAML file)")]


class _Options(BaseModel):
    k: int = Field(ge=1)
    name: str


def test_any_validation_error_reaching_the_cli_is_one_line_with_its_field():
    with pytest.raises(ValueError) as caught:
        _Options(k=0)
    text = one_line(caught.value)
    assert text == "_Options: field 'k': Input should be greater than or equal to 1 " \
                   "(and 1 more errors)"
