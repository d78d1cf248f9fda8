"""Acceptance on MATH-500: subject as domain, level as difficulty, k=140, through the CLI."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.select import SelectOptions, select_records
from curate.select.report import entropy_share

K = 140
ARGS = ["-k", str(K), "--prompt-field", "problem", "--answer-field", "solution",
        "--domain-field", "subject", "-d", "column:level"]


def _select(source: Path, out: Path, *extra: str) -> None:
    result = CliRunner().invoke(app, ["select", str(source), "-o", str(out), *ARGS, *extra])
    assert result.exit_code == 0, result.output


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture(scope="module")
def math500(shared_data: Path) -> Path:
    return shared_data / "math500_test.jsonl"


@pytest.fixture(scope="module")
def selected(math500: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seed0") / "s.jsonl"
    _select(math500, out, "--seed", "0")
    return out


def test_domain_entropy_is_at_least_98_percent_of_its_maximum(selected: Path):
    counts = Counter(record["subject"] for record in _lines(selected))
    entropy = -sum(c / K * math.log(c / K) for c in counts.values())
    assert len(counts) == 7
    assert entropy / math.log(7) >= 0.98
    stats = json.loads(selected.with_name("s.stats.json").read_text())
    assert stats["report"]["selection"]["domain_entropy_share"] == pytest.approx(
        entropy / math.log(7), abs=1e-5)


def test_entropy_and_level_targets_hold_for_every_seed(math500: Path):
    """Not just seed 0: ten seeds, each against a random sample drawn with the same seed."""
    rows = _lines(math500)
    options = SelectOptions(k=K, prompt_field="problem", answer_field="solution",
                            domain_field="subject", difficulty=["column:level"], report=False)
    for seed in range(10):
        chosen = select_records(rows, options.model_copy(update={"seed": seed})).kept
        counts = Counter(record["subject"] for record in chosen)
        assert entropy_share(counts, 7) >= 0.98, (seed, counts)
        random_mean = sum(r["level"] for r in random.Random(seed).sample(rows, K)) / K
        assert sum(r["level"] for r in chosen) / K > random_mean + 0.5, seed


def test_mean_level_beats_a_seeded_random_sample(selected: Path, math500: Path):
    chosen = _lines(selected)
    rows = _lines(math500)
    random_mean = sum(r["level"] for r in random.Random(0).sample(rows, K)) / K
    chosen_mean = sum(r["level"] for r in chosen) / K
    assert chosen_mean > random_mean + 0.5
    report = json.loads(selected.with_name("s.stats.json").read_text())["report"]
    assert report["selection"]["signals"]["column:level"]["mean"] == pytest.approx(chosen_mean,
                                                                                   abs=1e-4)
    assert report["selection"]["signals"]["column:level"]["mean"] > \
        report["random"]["signals"]["column:level"]["mean"]


def test_same_seed_same_output_and_another_seed_another(selected: Path, math500: Path,
                                                        tmp_path: Path):
    _select(math500, tmp_path / "again.jsonl", "--seed", "0")
    _select(math500, tmp_path / "other.jsonl", "--seed", "1")
    assert (tmp_path / "again.jsonl").read_bytes() == selected.read_bytes()
    assert (tmp_path / "again.removed.jsonl").read_bytes() == \
        selected.with_name("s.removed.jsonl").read_bytes()
    assert (tmp_path / "other.jsonl").read_bytes() != selected.read_bytes()
    ours = {r["problem"] for r in _lines(selected)}
    theirs = {r["problem"] for r in _lines(tmp_path / "other.jsonl")}
    assert ours != theirs


def test_every_record_is_selected_or_removed_once_with_stage_and_reason(selected: Path,
                                                                        math500: Path):
    rows = _lines(math500)
    chosen = _lines(selected)
    removed = _lines(selected.with_name("s.removed.jsonl"))
    stats = json.loads(selected.with_name("s.stats.json").read_text())
    assert stats["in"] == len(rows) == len(chosen) + len(removed)
    assert (stats["out"], stats["removed"]) == (len(chosen), len(removed))
    originals = Counter(json.dumps(r, sort_keys=True) for r in rows)
    outcomes = Counter(json.dumps({k: v for k, v in r.items() if k != "meta"}, sort_keys=True)
                       for r in chosen)
    outcomes.update(json.dumps(line["record"], sort_keys=True) for line in removed)
    assert outcomes == originals
    by_stage = Counter((line["stage"], line["reason"]) for line in removed)
    assert by_stage[("quality", "figure_code")] > 0  # MATH-500's [asy] figures
    assert set(by_stage) <= {("quality", "figure_code"), ("quality", "broken_latex"),
                             ("quality", "broken_markdown"), ("diversity", "not_sampled")}
    assert not any("[asy]" in r["problem"] + r["solution"] for r in chosen)
    assert [r["meta"]["select"]["order"] for r in chosen] == list(range(K))
    assert all(r["meta"]["select"]["domain"] == r["subject"] for r in chosen)
    assert all(r["meta"]["select"]["signals"]["column:level"] == r["level"] for r in chosen)


def test_report_compares_the_selection_with_a_random_sample(selected: Path):
    markdown = selected.with_name("s.select_report.md").read_text()
    page = selected.with_name("s.select_report.html").read_text()
    report = json.loads(selected.with_name("s.stats.json").read_text())["report"]
    for text in (markdown, page):
        for heading in ("Domains", "domain entropy", "Difficulty score", "signal column:level",
                        "mean solution length", "near-duplicate questions left", "Funnel"):
            assert heading in text
    assert "| Geometry |" in markdown
    assert report["random"]["size"] == report["selection"]["size"] == K
    assert report["random"]["domain_entropy_share"] < report["selection"]["domain_entropy_share"]
    assert report["selection"]["near_duplicates"] == 0
    assert report["selection"]["mean_length"] > 0
