"""Judgment files: prefkit's raw export, AlpacaEval annotations, Chatbot Arena battles."""

from __future__ import annotations

import json

import pytest

from curate.io import BadRecord, Rejects
from labeling_app import metrics
from labeling_app.judgments import load_judgments

ALPACA_JUDGE = "alpaca_eval/llama-2-7b-chat-hf_vs_davinci003_gpt4_annotations.json"


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_alpaca_eval_annotations_show_the_gpt4_judges_length_bias(shared_data):
    frame = load_judgments(shared_data / ALPACA_JUDGE)
    summary = metrics.summarize(frame)
    raw = json.loads((shared_data / ALPACA_JUDGE).read_text())
    assert summary["n_pairs"] == len(raw) == 805
    assert summary["winners"] == {"a": 230, "b": 574, "tie": 1}  # preference 1, 2, 0
    assert summary["p_left_wins"] is None and summary["agreement"] is None
    # The judge picks the longer answer far more often than chance ...
    assert summary["p_longer_wins"] > 0.65 and summary["p_longer_wins_ci"][0] > 0.6
    # ... and llama-2-7b-chat's raw win rate falls once length is controlled for.
    assert summary["win_rate"]["llama-2-7b-chat-hf"] > 0.7
    assert summary["lc_win_rate"]["llama-2-7b-chat-hf"] < 0.5


def test_arena_battles_know_model_a_is_on_the_left(tmp_path):
    turns = [{"role": "user", "content": "hi"}]
    rows = [{"question_id": f"q{i}", "model_a": "m1", "model_b": "m2", "judge": "arena_user",
             "winner": winner,
             "conversation_a": turns + [{"role": "assistant", "content": "x" * 100}],
             "conversation_b": turns + [{"role": "assistant", "content": "y" * 20}]}
            for i, winner in enumerate(["model_a", "model_a", "model_b", "tie (bothbad)"])]
    frame = load_judgments(_write_jsonl(tmp_path / "battles.jsonl", rows))
    assert frame["winner"].to_list() == ["a", "a", "b", "both_bad"]
    assert frame["len_a"].to_list() == [100] * 4 and frame["len_b"].to_list() == [20] * 4
    assert metrics.position_bias(frame)["p"] == pytest.approx(2 / 3)


def test_prefkit_csv_rows_with_strength_and_skips(tmp_path):
    path = tmp_path / "judgments.csv"
    path.write_text("item_id,user,choice,left,len_a,len_b,simulated\n"
                    "i1,u1,a_much,b,10,50,false\n"
                    "i1,u2,b,a,10,50,true\n"
                    "i2,u1,skip,a,10,50,false\n", encoding="utf-8")
    frame = load_judgments(path)
    assert frame.height == 2  # the skip is not a judgment
    assert frame["strength"].to_list() == [2.0, 1.0]
    assert frame["ordinal"].to_list() == [0, 3]
    assert frame["simulated"].to_list() == [False, True]


def test_bad_rows_name_file_line_and_field(tmp_path):
    path = _write_jsonl(tmp_path / "bad.jsonl", [
        {"instruction": "q", "output_1": "a", "output_2": "b", "preference": 1},
        {"instruction": "q", "output_1": "a", "output_2": "b", "preference": 7},
    ])
    with pytest.raises(BadRecord, match=r"bad.jsonl:2: field 'preference'"):
        load_judgments(path)
    rejects = Rejects("skip")
    frame = load_judgments(path, rejects=rejects)
    assert frame.height == 1 and rejects.by_reason == {"invalid_preference": 1}
    unknown = _write_jsonl(tmp_path / "unknown.jsonl", [{"foo": 1}])
    with pytest.raises(BadRecord, match="not a judgment"):
        load_judgments(unknown)
