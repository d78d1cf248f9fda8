"""Raw ShareGPT records (`conversations` of `from`/`value` turns, LLaMA-Factory's preference
variant with `chosen`/`rejected` turns) are read by every text view as their converted form
is, so dedup, filter and decontam work on them without a convert step (issue 16: dedup on
`dpo_en_demo_300.json` said `field 'all': missing`)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.io import read_records
from curate.views import text_view

VIEWS = ("prompt", "response", "all", "chosen", "rejected")


def _views(record: dict) -> dict[str, str | None]:
    out = {}
    for view in VIEWS:
        try:
            out[view] = text_view(record, view)
        except KeyError:
            out[view] = None
    return out


def test_raw_sharegpt_views_equal_the_converted_records_views(shared_data, tmp_path):
    source = shared_data / "dpo_en_demo_300.json"
    converted = tmp_path / "pairs.jsonl"
    result = CliRunner().invoke(app, ["convert", str(source), "-o", str(converted)])
    assert result.exit_code == 0, result.output
    raw = json.loads(source.read_text(encoding="utf-8"))
    pairs = list(read_records(str(converted)))
    assert len(raw) == len(pairs) == 300
    for before, after in zip(raw, pairs, strict=True):
        assert _views(before) == _views(after)


def test_views_of_a_hand_written_sharegpt_chat():
    record = {"system": "Be brief.", "conversations": [
        {"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello!"},
        {"from": "human", "value": "Capital of France?"}, {"from": "gpt", "value": "Paris."}]}
    assert text_view(record, "prompt") == "Hi\n\nCapital of France?"
    assert text_view(record, "response") == "Hello!\n\nParis."
    assert text_view(record, "all") == "Be brief.\n\nHi\n\nHello!\n\nCapital of France?\n\nParis."


def test_dedup_of_a_raw_sharegpt_preference_file_works(shared_data, tmp_path):
    out = tmp_path / "unique.jsonl"
    result = CliRunner().invoke(app, ["dedup", str(shared_data / "dpo_en_demo_300.json"),
                                      "-o", str(out), "--field", "all"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "unique.stats.json").read_text())
    assert stats["in"] == 300 and stats["out"] + stats["removed"] == 300


@pytest.mark.parametrize("field", ["prompt", "response"])
def test_dedup_finds_a_repeated_sharegpt_turn(tmp_path, field):
    rows = [{"conversations": [{"from": "human", "value": f"Question {i}, asked in full words."}],
             "chosen": {"from": "gpt", "value": f"Answer {i % 2}, given in full words here."},
             "rejected": {"from": "gpt", "value": "No."}} for i in range(3)]
    rows.append(json.loads(json.dumps(rows[0])))  # an exact copy of the first
    source = tmp_path / "dpo.json"
    source.write_text(json.dumps(rows))
    result = CliRunner().invoke(app, ["dedup", str(source), "-o", str(tmp_path / "u.jsonl"),
                                      "--field", field, "--method", "exact"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "u.stats.json").read_text())
    # prompts: only the copy repeats; answers: "Answer 0" is given to questions 0 and 2 too
    assert stats["removed"] == {"prompt": 1, "response": 2}[field]
