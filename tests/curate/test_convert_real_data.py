"""curate convert on the real public data in ../shared/data (skips when absent)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from curate.convert import ConvertOptions, convert_inputs
from curate.formats.hh import ASSISTANT
from curate.io import read_records


def convert(source: Path, out: Path, **options) -> tuple[list[dict], dict]:
    stats = convert_inputs([source], out, ConvertOptions(**options))
    assert stats.n_in == (stats.used if stats.used is not None else stats.n_out) + stats.rejected + stats.removed
    return list(read_records(out)), json.loads(out.with_suffix(".stats.json").read_text())


def raw_trees(shared_data: Path) -> list[dict]:
    return [json.loads(line)["prompt"] for line in open(shared_data / "oasst_en_100_trees.jsonl")]


def walk(node: dict, parent: dict | None = None):
    yield node, parent
    for reply in node.get("replies", []):
        yield from walk(reply, node)


@pytest.mark.parametrize("mode", [{}, {"oasst_mode": "all"}, {"to": "preference"}])
def test_oasst_both_exports_give_identical_records(shared_data: Path, tmp_path: Path, mode: dict):
    trees, _ = convert(shared_data / "oasst_en_100_trees.jsonl", tmp_path / "t.jsonl", **mode)
    messages, _ = convert(shared_data / "oasst_en_100_messages.jsonl", tmp_path / "m.jsonl", **mode)
    strip = [{k: v for k, v in r.items() if k != "meta"} for r in trees]
    assert strip == [{k: v for k, v in r.items() if k != "meta"} for r in messages]
    assert len(trees) > 0


def test_oasst_best_mode_gives_one_conversation_per_tree_with_a_reply(shared_data: Path, tmp_path: Path):
    records, stats = convert(shared_data / "oasst_en_100_trees.jsonl", tmp_path / "best.jsonl")
    with_reply = sum(any(n["role"] == "assistant" for n, _ in walk(root)) for root in raw_trees(shared_data))
    assert len(records) == with_reply
    assert stats["in"] == 100
    for record in records:
        assert record["messages"][-1]["role"] == "assistant"
        assert record["meta"]["ranks"][1] in (0, None)


def test_oasst_all_mode_gives_one_conversation_per_leaf(shared_data: Path, tmp_path: Path):
    records, _ = convert(shared_data / "oasst_en_100_trees.jsonl", tmp_path / "all.jsonl", oasst_mode="all")
    endings = set()
    for root in raw_trees(shared_data):
        for node, parent in walk(root):
            if not node.get("replies"):
                end = node if node["role"] == "assistant" else parent
                if end is not None:
                    endings.add(end["message_id"])
    assert len(records) == len(endings)
    assert {r["meta"]["message_ids"][-1] for r in records} == endings


def test_oasst_pairs_count_matches_ranked_sibling_groups(shared_data: Path, tmp_path: Path):
    expected_all = expected_extremes = 0
    for root in raw_trees(shared_data):
        for node, _ in walk(root):
            k = sum(1 for r in node.get("replies", []) if r.get("rank") is not None)
            expected_all += k * (k - 1) // 2
            expected_extremes += k >= 2
    pairs, _ = convert(shared_data / "oasst_en_100_trees.jsonl", tmp_path / "p.jsonl", to="preference")
    assert len(pairs) == expected_all
    assert all(p["meta"]["chosen_rank"] < p["meta"]["rejected_rank"] for p in pairs)
    extremes, _ = convert(shared_data / "oasst_en_100_trees.jsonl", tmp_path / "e.jsonl",
                          to="preference", pairs="extremes")
    assert len(extremes) == expected_extremes


def test_hh_all_pairs_convert_and_replies_are_the_text_after_the_last_marker(shared_data: Path,
                                                                            tmp_path: Path):
    source = shared_data / "hh_rlhf_harmless_base_test.jsonl.gz"
    raw = list(read_records(source))
    pairs, stats = convert(source, tmp_path / "hh.jsonl")

    def degenerate(original: dict) -> bool:  # an empty reply, or the same reply on both sides
        chosen, rejected = (original[side].rpartition(ASSISTANT)[2].strip()
                            for side in ("chosen", "rejected"))
        return not chosen or not rejected or chosen == rejected

    usable = [original for original in raw if not degenerate(original)]
    assert len(raw) == 2312 and 0 < len(raw) - len(usable) < 20
    assert len(pairs) == len(usable) and stats["removed"] == len(raw) - len(usable)
    assert stats["rejected"] == 0
    char_prefix_would_cut = 0
    for original, pair in zip(usable, pairs):
        for side in ("chosen", "rejected"):
            after_marker = original[side].rpartition(ASSISTANT)[2].removeprefix(" ")
            if pair["meta"].get("hh_prefix_mismatch"):
                assert pair[side][-1]["content"].endswith(after_marker)
            else:
                assert pair[side][-1]["content"] == after_marker
        common = os.path.commonprefix([original["chosen"], original["rejected"]])
        char_prefix_would_cut += len(common) > original["chosen"].rfind(ASSISTANT) + len(ASSISTANT) + 1
    assert sum(bool(p["meta"].get("hh_prefix_mismatch")) for p in pairs) < 10
    assert char_prefix_would_cut > 400  # the trap a character-level prefix falls into


@pytest.mark.parametrize(("name", "target"), [("alpaca_en_demo_1k.json", "alpaca"),
                                              ("dpo_en_demo_300.json", "sharegpt")])
def test_round_trips_are_lossless(shared_data: Path, tmp_path: Path, name: str, target: str):
    canonical, _ = convert(shared_data / name, tmp_path / "canonical.jsonl")
    back, _ = convert(tmp_path / "canonical.jsonl", tmp_path / "back.json", to=target)
    original = json.loads((shared_data / name).read_text())
    assert back == original
    assert len(canonical) == len(original)


def test_gsm8k_columns_become_conversations(shared_data: Path, tmp_path: Path):
    records, _ = convert(shared_data / "gsm8k_train.jsonl", tmp_path / "gsm.jsonl")
    assert len(records) == 7473
    assert records[0]["messages"][1]["content"].rstrip().split("#### ")[-1] == "72"
