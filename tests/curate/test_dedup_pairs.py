"""Dedup of preference pairs: two pairs are duplicates only when the prompt, the chosen and the
rejected answer all match; `--field` can name one of the three."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from curate.cli import app
from curate.dedup import DedupOptions, dedup_records
from curate.io import read_records

runner = CliRunner()


def pair(prompt: str, chosen: str, rejected: str, number: int) -> dict:
    return {"id": f"p{number}", "prompt": [{"role": "user", "content": prompt}],
            "chosen": [{"role": "assistant", "content": chosen}],
            "rejected": [{"role": "assistant", "content": rejected}]}


PROMPT = "Explain in a few sentences why the sky looks blue on a clear day at noon"
GOOD = "Sunlight scatters off air molecules and blue light scatters the most, so it reaches us"
BAD_1 = "Because the ocean reflects its colour up into the sky all the time everywhere"
BAD_2 = "The sky is blue because of a thin layer of blue dust high in the atmosphere"


def test_pairs_that_differ_in_the_rejected_answer_are_kept() -> None:
    records = [pair(PROMPT, GOOD, BAD_1, 0), pair(PROMPT, GOOD, BAD_2, 1),
               pair(PROMPT, GOOD, BAD_1, 2),  # the same three texts as p0
               pair(PROMPT, GOOD, BAD_1 + "!", 3)]  # the same but for punctuation
    result = dedup_records(records, DedupOptions())
    assert [r["id"] for r in result.kept] == ["p0", "p1"]
    assert {line["record"]["id"]: line["duplicate_of"] for line in result.removed} == \
        {"p2": "p0", "p3": "p0"}
    assert result.extra["compared"].startswith("prompt, chosen and rejected")
    by_chosen = dedup_records(records, DedupOptions(field="chosen"))
    assert [r["id"] for r in by_chosen.kept] == ["p0"]  # asked for: one text only


def test_real_oasst_pairs_are_not_collapsed(shared_data: Path, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    result = runner.invoke(app, ["convert", str(shared_data / "oasst_en_100_trees.jsonl"), "-o",
                                 str(pairs), "--to", "preference"])
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in read_records(pairs)}
    shared_chosen = len(records) - len({json.dumps([r["prompt"], r["chosen"]])
                                        for r in records.values()})
    assert shared_chosen > 300  # OASST ranks several replies: many pairs share prompt + chosen
    out = tmp_path / "unique.jsonl"
    result = runner.invoke(app, ["dedup", str(pairs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    removed = list(read_records(tmp_path / "unique.removed.jsonl"))
    assert len(removed) < 40  # was 354 when prompt + chosen alone decided
    for line in removed:  # every removal matches its survivor on all three texts (checked here
        mine, theirs = line["record"], records[line["duplicate_of"]]  # independently)
        for side in ("prompt", "chosen", "rejected"):
            assert jaccard(text(mine[side]), text(theirs[side])) >= 0.8, (line["record"]["id"], side)


def text(turns: list[dict]) -> str:
    return "\n\n".join(turn["content"] for turn in turns if turn["role"] in ("user", "assistant"))


def jaccard(a: str, b: str, n: int = 5) -> float:
    def grams(value: str) -> set[tuple[str, ...]]:
        words = re.findall(r"[^\W_]+", value.lower())
        return {tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1))}

    left, right = grams(a), grams(b)
    return len(left & right) / len(left | right)
