"""curate.select.answers: final-answer extraction and comparison on real GSM8K and MATH formats."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from curate.select.answers import answers_match, extract_answer, last_boxed, normalize_answer


@pytest.mark.parametrize(("text", "expected"), [
    ("She sold 48/2 = <<48/2=24>>24 clips in May.\n#### 72", "72"),
    ("Total cost: $1,234.\n#### 1,234", "1,234"),
    ("The answer is $\\boxed{\\frac{1}{2}}$.", "\\frac{1}{2}"),
    ("So $x = \\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}.$",
     "\\left( 3, \\frac{\\pi}{2} \\right)"),
    ("First \\boxed{1}, then corrected: \\boxed{2}", "2"),
    ("\\fbox{7} is the answer", "7"),
    ("hence \\boxed 5$ done", "5"),
    ("It costs 3 dollars, so 0.5 is left.", "0.5"),
    ("We get -12 apples", "-12"),
    ("so x = -3.", "-3"),
    ("She has 10-2 = 8 left, then gives 5-3", "3"),  # a binary minus is not a sign
    ("The ratio is 3/4.", "3/4"),
    ("Total: 1,234,567 people", "1,234,567"),
    ("no digits at all", None),
])
def test_extract_answer_finds_gsm8k_boxed_and_last_number(text, expected):
    assert extract_answer(text) == expected


def test_last_boxed_keeps_nested_braces():
    assert last_boxed("$\\boxed{\\frac{\\sqrt{3}}{2}}$") == "\\frac{\\sqrt{3}}{2}"
    assert last_boxed("no box here") is None


@pytest.mark.parametrize(("predicted", "reference"), [
    ("1,234", "1234"),
    ("\\frac{1}{2}", "0.5"),
    ("0.5", "\\boxed{\\frac{1}{2}}"),
    ("\\dfrac12", "\\frac{1}{2}"),
    ("1/2", "\\frac{1}{2}"),
    ("-\\frac{3}{4}", "-0.75"),
    ("72", "72.0"),
    ("025", "25"),
    ("180^\\circ", "180"),
    ("x = 3", "3"),
    ("\\$18", "18"),
    ("10\\%", "10"),
    ("\\text{(B)}", "(B)"),
    ("\\left( 3, \\frac{\\pi}{2} \\right)", "(3,\\frac{\\pi}{2})"),
    ("\\frac{\\sqrt{3}}{2}", "\\frac{1}{2}\\sqrt{3}"),  # needs the symbolic fallback
    ("2x+x^2", "x^2+2x"),
    ("\\frac 1 2", "0.5"),
    ("3\\sqrt 2", "3\\sqrt{2}"),
    ("3/4", "\\boxed{0.75}"),
])
def test_equivalent_answers_match(predicted, reference):
    assert answers_match(predicted, reference)


@pytest.mark.parametrize(("predicted", "reference"), [
    ("72", "73"),
    ("0.33", "\\frac{1}{3}"),
    ("\\frac{1}{2}", "\\frac{1}{3}"),
    ("1234", "123"),
    (None, "5"),
    ("\\sqrt{2}", "\\sqrt{3}"),
])
def test_different_answers_do_not_match(predicted, reference):
    assert not answers_match(predicted, reference)


def test_normalize_answer_strips_latex_noise():
    assert normalize_answer("$\\left( 1, 2 \\right)$.") == "(1,2)"
    assert normalize_answer("\\tfrac{3}{4}") == "\\frac{3}{4}"
    assert normalize_answer("\\sqrt2") == "\\sqrt{2}"
    assert normalize_answer("$\\boxed{\\dfrac{1}{2}}$") == "\\frac{1}{2}"
    assert normalize_answer("\\frac 1 2") == "\\frac{1}{2}"


def test_every_gsm8k_solution_yields_its_final_answer(shared_data: Path):
    rows = [json.loads(line) for line in (shared_data / "gsm8k_train.jsonl").open()]
    for row in rows:
        final = row["answer"].rsplit("####", 1)[1].strip()
        assert extract_answer(row["answer"]) == final
        assert answers_match(extract_answer(row["answer"]), final.replace(",", ""))


def test_every_math500_solution_matches_its_answer_column(shared_data: Path):
    rows = [json.loads(line) for line in (shared_data / "math500_test.jsonl").open()]
    mismatched = [row["answer"] for row in rows
                  if not answers_match(extract_answer(row["solution"]), row["answer"])]
    assert mismatched == []
    # the next problem's answer is accepted only where the two answers are the same
    for row, other in itertools.pairwise(rows[:151]):
        if answers_match(extract_answer(row["solution"]), other["answer"]):
            assert answers_match(row["answer"], other["answer"])
