"""Decontamination: planted eval problems are removed (even reformatted), the rest is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.decontam import DecontamOptions, decontam_records
from curate.filtering import FilterOptions, filter_records

UNRELATED = [
    {"id": "u1", "messages": [{"role": "user", "content": "Write a haiku about autumn leaves."},
                              {"role": "assistant", "content": "Red leaves drift and fall,\n"
                               "the maple lets go softly,\nwind carries them home."}]},
    {"id": "u2", "text": "A train leaves the station at noon travelling at sixty miles per hour "
                         "towards a city two hundred miles away; when does it arrive?"},
]


@pytest.fixture(scope="module")
def math500(shared_data) -> tuple[Path, list[dict]]:
    path = shared_data / "math500_test.jsonl"
    return path, [json.loads(line) for line in path.read_text().splitlines()]


def _chat(record_id: str, question: str, answer: str = "Let me think step by step.") -> dict:
    return {"id": record_id, "messages": [{"role": "user", "content": question},
                                          {"role": "assistant", "content": answer}]}


def _planted(problems: list[dict]) -> list[dict]:
    exact = problems[4]["problem"]
    reformatted = "  ".join(problems[9]["problem"].split()).upper().replace(",", " ,")
    return [_chat("exact", exact), _chat("reformatted", f"Please solve:\n\n{reformatted}\n"),
            *UNRELATED]


def test_planted_math500_problems_are_removed_and_the_rest_kept(math500):
    path, problems = math500
    result = decontam_records(_planted(problems), DecontamOptions(against=[str(path)]))
    assert [r["id"] for r in result.kept] == ["u1", "u2"]
    assert [line["record"]["id"] for line in result.removed] == ["exact", "reformatted"]
    assert all(line["reason"] == "eval_overlap" for line in result.removed)
    hit_items = {item["item"] for line in result.removed for item in line["eval_items"]}
    assert hit_items == {"line 5", "line 10"}
    assert [hit["item"] for hit in result.extra["hits"]] == ["line 5", "line 10"]
    assert result.extra["eval_items"] == {"math500_test.jsonl": 487}  # 13 are under 8 words
    assert result.extra["eval_items_skipped_short"] == 13


def test_a_copied_solution_is_found_when_solutions_are_indexed(math500):
    path, problems = math500
    record = _chat("answer-copy", "Solve this for me.", problems[30]["solution"])
    by_solution = DecontamOptions(against=[str(path)], eval_field="solution")
    assert len(decontam_records([record], by_solution).removed) == 1
    prompts_only = DecontamOptions(against=[str(path)], eval_field="solution", field="prompt")
    assert len(decontam_records([record], prompts_only).kept) == 1


def test_boilerplate_shared_by_many_eval_items_is_not_contamination(tmp_path):
    template = "Find m+n where m and n are relatively prime positive integers and the answer is"
    evals = tmp_path / "eval.jsonl"
    evals.write_text("\n".join(json.dumps({"id": f"q{i}", "problem": f"Problem {i} about "
                                           f"topic {i * 7}. {template} unique."})
                               for i in range(4)) + "\n")
    record = _chat("t", f"A new problem on a new topic. {template} asked.")
    assert len(decontam_records([record], DecontamOptions(against=[str(evals)])).kept) == 1
    strict = DecontamOptions(against=[str(evals)], boilerplate=10)
    assert len(decontam_records([record], strict).removed) == 1


def test_short_eval_items_are_matched_whole(tmp_path):
    evals = tmp_path / "eval.jsonl"
    evals.write_text(json.dumps({"question": "What is the integral of x squared dx?"}) + "\n"
                     + json.dumps({"question": "Compute 2+2."}) + "\n")
    records = [_chat("hit", "Quick one: what is the integral of x squared dx? Thanks"),
               _chat("miss", "What is the integral of x cubed dx?"),
               _chat("tiny", "Compute 2+2.")]
    result = decontam_records(records, DecontamOptions(against=[str(evals)]))
    assert [line["record"]["id"] for line in result.removed] == ["hit"]
    assert result.extra["eval_items_skipped_short"] == 1  # "Compute 2+2" has 3 words


def test_eval_overlap_is_also_a_score_to_filter_on(math500):
    path, problems = math500
    records = _planted(problems)
    options = FilterOptions(against=[str(path)], thresholds={"eval_overlap": {"max": 0}})
    result = filter_records(records, options)
    assert [line["record"]["id"] for line in result.removed] == ["exact", "reformatted"]
    assert result.removed[0]["reason"] == "eval_overlap_above_max"
    implied = filter_records(records, FilterOptions(against=[str(path)]))  # eval sets imply it
    assert [line["record"]["id"] for line in implied.removed] == ["exact", "reformatted"]


def test_cli_decontam_reports_the_eval_items_hit(tmp_path, math500, shared_data):
    path, problems = math500
    source = tmp_path / "train.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in _planted(problems)) + "\n")
    out = tmp_path / "clean.jsonl"
    result = CliRunner().invoke(app, ["decontam", str(source), "-o", str(out), "--against",
                                      str(path), "--against", str(shared_data / "aime24_test.jsonl")])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 2
    stats = json.loads((tmp_path / "clean.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"]) == (4, 2, 2)
    assert stats["eval_items"] == {"math500_test.jsonl": 487, "aime24_test.jsonl": 30}
    assert stats["eval_items_hit"] == {"math500_test.jsonl": 2}
    assert {hit["item"] for hit in stats["hits"]} == {"line 5", "line 10"}
    assert "decontam: in=4 out=2 removed=2" in result.output
    assert "math500_test.jsonl line 5 (1 records)" in result.output


def test_cli_unreadable_training_record_names_file_and_line(tmp_path, math500):
    path, _ = math500
    source = tmp_path / "train.jsonl"
    source.write_text(json.dumps(UNRELATED[0]) + "\n" + json.dumps({"id": "x", "n": 1}) + "\n")
    args = ["decontam", str(source), "-o", str(tmp_path / "o.jsonl"), "--against", str(path),
            "--field", "prompt"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1 and f"{source}:2: field 'prompt'" in result.output
    result = CliRunner().invoke(app, [*args, "--on-error", "skip"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "o.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["rejected"]) == (2, 1, 1)


def test_cli_missing_eval_file_is_an_error(tmp_path):
    source = tmp_path / "train.jsonl"
    source.write_text(json.dumps(UNRELATED[0]) + "\n")
    result = CliRunner().invoke(app, ["decontam", str(source), "-o", str(tmp_path / "o.jsonl"),
                                      "--against", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 1 and "missing.jsonl" in result.output


def test_cli_decontam_help_has_an_example():
    result = CliRunner().invoke(app, ["decontam", "--help"])
    assert result.exit_code == 0 and "Example: curate decontam" in result.output
