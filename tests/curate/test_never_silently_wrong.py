"""Results that used to look right and were wrong: options that match nothing, repeated ids,
chats stored as JSON text, repeated and unranked OASST trees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.io import read_records
from curate.samples import SAMPLES_DIR

runner = CliRunner()


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


@pytest.mark.parametrize("args", [
    ["filter", "--field", "nosuch", "--min-words", "1"],
    ["dedup", "--field", "nosuch"],
    ["score", "--field", "nosuch", "--signals", "counts"],
])
def test_a_field_no_record_has_is_an_error_not_an_empty_output(tmp_path: Path,
                                                               args: list[str]) -> None:
    source = SAMPLES_DIR / "chats.sharegpt.jsonl"
    converted = tmp_path / "c.jsonl"
    assert runner.invoke(app, ["convert", str(source), "-o", str(converted)]).exit_code == 0
    out = tmp_path / "o.jsonl"
    result = runner.invoke(app, [args[0], str(converted), "-o", str(out), *args[1:],
                                 "--on-error", "skip"])
    assert result.exit_code == 1
    assert "'nosuch' is in none of the 40 records (the records have: id, messages, meta)" \
        in result.output
    assert not out.exists() and not (tmp_path / "o.stats.json").exists()


def test_a_join_key_no_record_has_is_an_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pairs", str(SAMPLES_DIR / "model_a.jsonl"),
                                 str(SAMPLES_DIR / "model_b.jsonl"), "-o", str(tmp_path / "i.jsonl"),
                                 "--join-on", "meta.nosuch", "--on-error", "skip"])
    assert result.exit_code == 1 and "is in none of the 240 records" in result.output


@pytest.mark.parametrize("lang,message", [("english", "not a language code"),
                                          ("fr", "no record")])
def test_a_language_that_matches_nothing_is_an_error(tmp_path: Path, lang: str,
                                                     message: str) -> None:
    source = tmp_path / "c.jsonl"
    assert runner.invoke(app, ["convert", str(SAMPLES_DIR / "chats.sharegpt.jsonl"), "-o",
                               str(source)]).exit_code == 0
    result = runner.invoke(app, ["filter", str(source), "-o", str(tmp_path / "o.jsonl"),
                                 "--lang", lang])
    assert result.exit_code == 1 and message in result.output.lower(), result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_pt_matches_pt_br_in_either_case(tmp_path: Path) -> None:
    records = [{"id": i, "text": text, "scores": {}} for i, text in enumerate([
        "Olá, tudo bem? Eu gosto muito de programar em Python todos os dias.",
        "Hello there, this is an English sentence about programming every day."])]
    source = write(tmp_path / "in.jsonl", records)
    result = runner.invoke(app, ["filter", str(source), "-o", str(tmp_path / "o.jsonl"),
                                 "--field", "text", "--lang", "PT"])
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_records(tmp_path / "o.jsonl")] == [0]


def test_repeated_ids_are_warned_about(tmp_path: Path) -> None:
    records = [{"id": "a", "text": "one two three"}, {"id": "b", "text": "four five six"},
               {"id": "a", "text": "seven eight nine"}]
    source = write(tmp_path / "in.jsonl", records)
    result = runner.invoke(app, ["score", str(source), "-o", str(tmp_path / "o.jsonl"),
                                 "--field", "text", "--signals", "counts"])
    assert result.exit_code == 0
    assert f"1 input records repeat the id of an earlier record (first: {source}:3 repeats " \
        f"{source}:1)" in result.output
    assert json.loads((tmp_path / "o.stats.json").read_text())["duplicate_ids"] == 1


def test_a_chat_stored_as_json_text_is_read_as_a_chat(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    chat = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"}]
    pq.write_table(pa.table({"id": ["x"], "messages": [json.dumps(chat)]}),
                   tmp_path / "in.parquet")
    result = runner.invoke(app, ["score", str(tmp_path / "in.parquet"), "-o",
                                 str(tmp_path / "o.jsonl"), "--signals", "counts"])
    assert result.exit_code == 0, result.output
    [record] = read_records(tmp_path / "o.jsonl")
    assert record["messages"] == chat and record["scores"]["chars"] == 1  # "4", not the JSON


def oasst_tree(tree_id: str, ranked: bool = True, state: str = "ready_for_export") -> dict:
    replies = [{"message_id": f"{tree_id}-a{i}", "parent_id": f"{tree_id}-p", "role": "assistant",
                "text": f"answer {i} of {tree_id}", "lang": "en",
                "rank": i if ranked else None, "replies": []} for i in range(2)]
    return {"message_tree_id": tree_id, "tree_state": state,
            "prompt": {"message_id": f"{tree_id}-p", "role": "prompter", "lang": "en",
                       "text": f"question {tree_id}", "replies": replies}}


def test_oasst_repeats_unranked_and_states(tmp_path: Path) -> None:
    trees = [oasst_tree("t1"), oasst_tree("t2", ranked=False), oasst_tree("t1"),
             oasst_tree("t3", state="growing")]
    source = write(tmp_path / "trees.jsonl", trees)
    out = tmp_path / "sft.jsonl"
    result = runner.invoke(app, ["convert", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "sft.stats.json").read_text())
    assert stats["removed_by_reason"] == {"oasst_duplicate_tree": 1}
    assert stats["oasst_unranked"] == {"unranked_first": 1}
    assert [r["id"] for r in read_records(out)] == ["t1", "t2", "t3"]
    result = runner.invoke(app, ["convert", str(source), "-o", str(tmp_path / "b.jsonl"),
                                 "--unranked", "skip", "--tree-state", "ready_for_export"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "b.stats.json").read_text())
    assert stats["removed_by_reason"] == {"oasst_duplicate_tree": 1, "oasst_no_assistant_reply": 1,
                                          "oasst_tree_state": 1}
    assert [r["id"] for r in read_records(tmp_path / "b.jsonl")] == ["t1"]


def test_an_oasst_language_that_matches_no_tree_is_an_error(tmp_path: Path) -> None:
    trees = [oasst_tree(f"t{i}") for i in range(3)]
    for message in [trees[2]["prompt"], *trees[2]["prompt"]["replies"]]:
        message["lang"] = "zh"
    source = write(tmp_path / "trees.jsonl", trees)
    out = tmp_path / "sft.jsonl"
    result = runner.invoke(app, ["convert", str(source), "-o", str(out), "--lang", "de"])
    assert result.exit_code == 1, result.output
    assert "--lang de matched no tree; the trees' languages: en (2), zh (1)" in result.output
    assert not out.exists() and not list(tmp_path.glob("sft.*"))
    kept = runner.invoke(app, ["convert", str(source), "-o", str(out), "--lang", "zh"])
    assert kept.exit_code == 0, kept.output
    assert len(list(read_records(out))) == 1
    stats = json.loads((tmp_path / "sft.stats.json").read_text())
    assert stats["oasst_trees_removed_by_language"] == {"en": 2}
