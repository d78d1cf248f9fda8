"""curate stats and curate schema."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from curate.cli import app
from schemas import Conversation

runner = CliRunner()


def test_stats_counts_roles_turns_lengths_and_languages(tmp_path: Path):
    answers = ["one", "two words", "three little words", "a b c d e f g h"]
    rows = [{"id": str(i), "messages": [{"role": "user", "content": "q" * (i + 1)},
                                        {"role": "assistant", "content": text}],
             "meta": {"lang": "en" if i else "de"}} for i, text in enumerate(answers)]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = runner.invoke(app, ["stats", str(source), "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["records"] == 4 and stats["kinds"] == {"conversation": 4}
    assert stats["roles"] == {"user": 4, "assistant": 4}
    words = [len(t.split()) for t in answers]
    assert stats["lengths"]["response_words"]["p50"] == float(np.percentile(words, 50))
    assert stats["lengths"]["response_words"]["max"] == 8
    assert stats["lengths"]["prompt_chars"]["min"] == 1
    assert stats["languages"] == {"en": 3, "de": 1}
    table = runner.invoke(app, ["stats", str(source)])
    assert table.exit_code == 0 and "response_words" in table.output


def test_stats_reads_raw_formats_and_reports_bad_input(tmp_path: Path):
    source = tmp_path / "alpaca.json"
    source.write_text(json.dumps([{"instruction": "a", "input": "", "output": "b"}, {"instruction": "c"}]))
    result = runner.invoke(app, ["stats", str(source), "--json"])
    assert result.exit_code == 1 and "alpaca.json:1: field 'output'" in result.output.replace("\n", "")
    result = runner.invoke(app, ["stats", str(source), "--json", "--on-error", "skip"])
    assert json.loads(result.output)["rejected"] == 1


def test_schema_prints_json_schema():
    result = runner.invoke(app, ["schema", "conversation"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema == Conversation.model_json_schema(by_alias=True)
    assert "messages" in schema["properties"]
    assert runner.invoke(app, ["schema", "nope"]).exit_code == 1
