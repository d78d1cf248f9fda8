"""curate convert on crafted inputs: formats, OASST rules, bad input, accounting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.convert import ConvertOptions, convert_inputs
from curate.io import BadRecord, read_records
from curate.options import OptionsError

runner = CliRunner()


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def stats_of(out: Path) -> dict:
    return json.loads(out.with_name(out.name.split(".")[0] + ".stats.json").read_text())


def node(mid: str, role: str, text: str, replies=(), **fields) -> dict:
    return {"message_id": mid, "role": role, "text": text, "lang": "en", "replies": list(replies), **fields}


def tree() -> dict:
    """Root q; ranked answers a0 (best), a1, a2 (deleted), a3 (review failed), a4 (synthetic);
    a0 has a follow-up q2 with answers b0, b1."""
    follow_up = node("q2", "prompter", "and then?", [
        node("b0", "assistant", "then this", rank=0), node("b1", "assistant", "then that", rank=1)])
    return {"message_tree_id": "T", "prompt": node("q", "prompter", "question?", [
        node("a0", "assistant", "best", [follow_up], rank=0),
        node("a1", "assistant", "good", rank=1),
        node("a2", "assistant", "gone", rank=2, deleted=True),
        node("a3", "assistant", "bad", rank=3, review_result=False),
        node("a4", "assistant", "machine", rank=4, synthetic=True)])}


def test_oasst_drops_deleted_and_review_failed_and_optionally_synthetic(tmp_path: Path):
    source = write_jsonl(tmp_path / "t.jsonl", [tree()])
    convert_inputs([source], tmp_path / "p.jsonl", ConvertOptions(to="preference"))
    pairs = {(p["meta"]["chosen_id"], p["meta"]["rejected_id"]) for p in read_records(tmp_path / "p.jsonl")}
    assert pairs == {("a0", "a1"), ("a0", "a4"), ("a1", "a4"), ("b0", "b1")}
    stats = convert_inputs([source], tmp_path / "p2.jsonl", ConvertOptions(to="preference", drop_synthetic=True))
    assert stats.n_out == 2
    assert stats.model_extra["oasst_nodes_dropped"] == {"deleted": 1, "review_failed": 1, "synthetic": 1}
    follow_up_pair = next(p for p in read_records(tmp_path / "p2.jsonl") if p["meta"]["chosen_id"] == "b0")
    assert [m["content"] for m in follow_up_pair["prompt"]] == ["question?", "best", "and then?"]


def test_oasst_sft_modes_and_language_filter(tmp_path: Path):
    source = write_jsonl(tmp_path / "t.jsonl", [tree()])
    convert_inputs([source], tmp_path / "best.jsonl", ConvertOptions())
    [best] = list(read_records(tmp_path / "best.jsonl"))
    assert [m["content"] for m in best["messages"]] == ["question?", "best", "and then?", "then this"]
    convert_inputs([source], tmp_path / "all.jsonl", ConvertOptions(oasst_mode="all"))
    assert sorted(r["meta"]["message_ids"][-1] for r in read_records(tmp_path / "all.jsonl")) == \
        ["a1", "a4", "b0", "b1"]
    german = {"message_tree_id": "D", "prompt": {**node("dq", "prompter", "Frage?", [
        {**node("da", "assistant", "Antwort", rank=0), "lang": "de"}]), "lang": "de"}}
    source = write_jsonl(tmp_path / "two.jsonl", [tree(), german])
    stats = convert_inputs([source], tmp_path / "de.jsonl", ConvertOptions(lang=["en"]))
    assert stats.removed_by_reason == {"oasst_lang": 1}
    [removed] = list(read_records(tmp_path / "de.removed.jsonl"))
    assert removed["reason"] == "oasst_lang" and removed["record"]["message_tree_id"] == "D"
    with pytest.raises(OptionsError, match=r"--lang fr matched no tree; .*: de \(1\), en \(1\)"):
        convert_inputs([source], tmp_path / "fr.jsonl", ConvertOptions(lang=["fr"]))
    assert not (tmp_path / "fr.jsonl").exists()


def flat_rows() -> list[dict]:
    return [
        {"message_id": "r", "parent_id": None, "role": "prompter", "text": "hi", "message_tree_id": "r"},
        {"message_id": "a", "parent_id": "r", "role": "assistant", "text": "hello", "rank": 0},
        {"message_id": "b", "parent_id": "r", "role": "assistant", "text": "hey", "rank": 1},
    ]


def test_flat_message_export_is_grouped_into_trees(tmp_path: Path):
    source = write_jsonl(tmp_path / "flat.jsonl", flat_rows())
    stats = convert_inputs([source], tmp_path / "p.jsonl", ConvertOptions(to="preference"))
    assert (stats.n_in, stats.used, stats.n_out) == (3, 3, 1)
    [pair] = list(read_records(tmp_path / "p.jsonl"))
    assert pair["chosen"][0]["content"] == "hello"


def test_dangling_parent_and_cycles_are_reported_not_looped_on(tmp_path: Path):
    rows = flat_rows() + [
        {"message_id": "x", "parent_id": "nowhere", "role": "assistant", "text": "lost"},
        {"message_id": "c1", "parent_id": "c2", "role": "assistant", "text": "loop"},
        {"message_id": "c2", "parent_id": "c1", "role": "prompter", "text": "loop"},
    ]
    source = write_jsonl(tmp_path / "flat.jsonl", rows)
    with pytest.raises(BadRecord, match=r"flat\.jsonl:4: field 'parent_id': dangling parent_id 'nowhere'"):
        convert_inputs([source], tmp_path / "o.jsonl", ConvertOptions())
    stats = convert_inputs([source], tmp_path / "o.jsonl", ConvertOptions(), on_error="skip")
    assert stats.rejected_by_reason == {"oasst_cycle": 2, "oasst_dangling_parent": 1}
    assert stats.n_in == 6 and stats.used == 3
    nested = tree()
    nested["prompt"]["replies"][1]["parent_id"] = "someone-else"
    source = write_jsonl(tmp_path / "nested.jsonl", [nested])
    with pytest.raises(BadRecord, match=r"prompt\.replies\[1\]\.parent_id"):
        convert_inputs([source], tmp_path / "o.jsonl", ConvertOptions())


def test_every_output_format(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"id": "c1", "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "2+2?"},
                                  {"role": "assistant", "content": "4"}, {"role": "user", "content": "3+3?"},
                                  {"role": "assistant", "content": "6"}]}])
    expected = {
        "messages": {"id": "c1"},
        "prompt-completion": {"completion": [{"role": "assistant", "content": "6"}]},
        "alpaca": {"instruction": "3+3?", "input": "", "output": "6", "system": "be brief",
                   "history": [["2+2?", "4"]]},
        "sharegpt": {"conversations": [{"from": "system", "value": "be brief"}, {"from": "human", "value": "2+2?"},
                                       {"from": "gpt", "value": "4"}, {"from": "human", "value": "3+3?"},
                                       {"from": "gpt", "value": "6"}]},
    }
    for target, subset in expected.items():
        out = tmp_path / f"{target}.jsonl"
        convert_inputs([source], out, ConvertOptions(to=target))
        [record] = list(read_records(out))
        assert subset.items() <= record.items(), target
    with pytest.raises(BadRecord, match="no rejected answer"):
        convert_inputs([source], tmp_path / "x.jsonl", ConvertOptions(to="preference"))


def test_preference_shapes_explicit_implicit_and_strings(tmp_path: Path):
    u, a, b = ({"role": "user", "content": "q"}, {"role": "assistant", "content": "good"},
               {"role": "assistant", "content": "bad"})
    source = write_jsonl(tmp_path / "in.jsonl", [
        {"chosen": [u, a], "rejected": [u, b]},
        {"prompt": "q", "chosen": "good", "rejected": "bad"},
        {"prompt": [u], "chosen": [a], "rejected": [b]},
    ])
    convert_inputs([source], tmp_path / "out.jsonl", ConvertOptions())
    records = list(read_records(tmp_path / "out.jsonl"))
    assert [(r["prompt"], r["chosen"], r["rejected"]) for r in records] == [([u], [a], [b])] * 3
    convert_inputs([tmp_path / "out.jsonl"], tmp_path / "alpaca.json", ConvertOptions(to="alpaca"))
    assert json.loads((tmp_path / "alpaca.json").read_text())[0] == {
        "instruction": "q", "input": "", "chosen": "good", "rejected": "bad"}


def test_cli_bad_input_names_file_line_and_field(tmp_path: Path):
    cases = [
        ([{"instruction": "a", "output": "b"}, "{not json"], "bad.jsonl:2: invalid JSON"),
        ([{"instruction": "a", "output": "b"}, {"instruction": "c"}], "bad.jsonl:2: field 'output'"),
        ([{"messages": [{"role": "user", "content": "a"}, {"role": "robot", "content": "b"}]}],
         "bad.jsonl:1: field 'messages[1].role'"),
    ]
    for rows, message in cases:
        source = write_jsonl(tmp_path / "bad.jsonl", rows)
        result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "out.jsonl")])
        assert result.exit_code == 1
        assert message in result.output
        assert not (tmp_path / "out.jsonl").exists()


def test_cli_skip_mode_writes_rejects_and_counts_add_up(tmp_path: Path):
    rows = [{"instruction": "a", "output": "b"}, "{not json", {"instruction": "c"},
            {"instruction": "d", "input": "e", "output": "f"}, "[]"]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["convert", str(source), "-o", str(out), "--on-error", "skip"])
    assert result.exit_code == 0, result.output
    stats = stats_of(out)
    assert (stats["in"], stats["out"], stats["rejected"]) == (5, 2, 3)
    assert stats["rejected_by_reason"] == {"bad_json": 2, "missing_field": 1}
    rejects = list(read_records(tmp_path / "out.rejects.jsonl"))
    assert [r["line"] for r in rejects] == [2, 5, 3] or sorted(r["line"] for r in rejects) == [2, 3, 5]
    assert any(r["record"] == {"instruction": "c"} for r in rejects)


def test_cli_empty_input_warns_and_writes_empty_output(tmp_path: Path):
    source = tmp_path / "empty.jsonl"
    source.write_text("")
    result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 0
    assert "warning" in result.output and "no records" in result.output
    assert (tmp_path / "out.jsonl").read_text() == ""
    assert stats_of(tmp_path / "out.jsonl")["in"] == 0


def test_config_file_is_validated_and_flags_override_it(tmp_path: Path):
    source = write_jsonl(tmp_path / "t.jsonl", [tree()])
    config = tmp_path / "convert.yaml"
    config.write_text("to: preference\npairs: extremes\n")
    out = tmp_path / "o.jsonl"
    assert runner.invoke(app, ["convert", str(source), "-o", str(out), "--config", str(config)]).exit_code == 0
    assert len(list(read_records(out))) == 2
    result = runner.invoke(app, ["convert", str(source), "-o", str(out), "--config", str(config),
                                 "--pairs", "all"])
    assert result.exit_code == 0 and len(list(read_records(out))) == 4
    config.write_text("to: preference\npairs: sometimes\n")
    result = runner.invoke(app, ["convert", str(source), "-o", str(out), "--config", str(config)])
    assert result.exit_code == 1
    assert "convert.yaml: field 'pairs'" in result.output


def test_parquet_and_gzip_outputs_read_back(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", [{"instruction": f"q{i}", "input": "", "output": "a"}
                                                 for i in range(3)])
    for name in ("o.parquet", "o.jsonl.gz"):
        convert_inputs([source], tmp_path / name, ConvertOptions())
        assert [r["id"] for r in read_records(tmp_path / name)] == ["in-0", "in-1", "in-2"]
