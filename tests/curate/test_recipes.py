"""`curate run`: the example recipes, validation before work, resume, kill-and-resume."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from curate import steps as record_steps
from curate.cli import app
from curate.io import read_records
from curate.options import OptionsError
from curate.recipes import load_recipe, run_recipe
from curate.recipes import steps as recipe_steps
from curate.samples import SAMPLES_DIR

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
runner = CliRunner()


def run(recipe: str | Path, out: Path, *extra: str) -> None:
    result = runner.invoke(app, ["run", str(RECIPES / recipe), "-o", str(out), *extra])
    assert result.exit_code == 0, result.output


def records(path: Path) -> list[dict]:
    return list(read_records(path))


def stats(step_dir: Path) -> dict:
    return json.loads((step_dir / "out.stats.json").read_text())


def removed_reasons(step_dir: Path) -> Counter:
    return Counter(line["reason"] for line in records(step_dir / "out.removed"))


def statuses(out: Path) -> list[str]:
    return [step["status"] for step in json.loads((out / "run.json").read_text())["steps"]]


def test_every_step_accounts_for_its_records(tmp_path: Path) -> None:
    run("sft_from_alpaca.yaml", tmp_path)
    for step_dir in sorted(p for p in tmp_path.iterdir() if p.is_dir()):
        s = stats(step_dir)
        assert s["in"] == (s["used"] if s["used"] is not None else s["out"]) + s["removed"] + \
            s["rejected"], step_dir.name
        if (step_dir / "out.removed").exists() or s["removed"]:
            assert len(records(step_dir / "out.removed")) == s["removed"]


def test_sft_from_alpaca_removes_the_injected_duplicates_and_contamination(tmp_path: Path) -> None:
    run("sft_from_alpaca.yaml", tmp_path)
    injected = {int(i): kind for i, kind in
                json.loads((SAMPLES_DIR / "injections.json").read_text()).items()}

    def kinds(step: str) -> Counter:
        lines = records(tmp_path / step / "out.removed")
        return Counter(injected.get(int(line["record"]["id"].removeprefix("instructions-")),
                                    "clean") for line in lines)

    assert kinds("03_dedup") == {"exact_duplicate": 20, "near_duplicate": 20}
    assert kinds("04_decontam") == {"contamination": 6}
    filtered = kinds("05_filter")
    for kind in ("empty", "placeholder", "refusal", "template_tokens", "non_english"):
        assert filtered[kind] == Counter(injected.values())[kind], kind
    kept = records(tmp_path / "05_filter" / "out")  # max_toxicity: 0.5 from the recipe
    toxic = [line for line in records(tmp_path / "05_filter" / "out.removed")
             if line["reason"] == "toxicity_above_max"]
    assert toxic and min(line["value"] for line in toxic) > 0.5
    assert max(r["scores"]["toxicity"] for r in kept) <= 0.5
    final = records(tmp_path / "sft.jsonl")
    assert final == records(tmp_path / "05_filter" / "out")
    assert all(m["role"] in ("user", "assistant") for r in final for m in r["messages"])


def test_oasst_recipe_makes_both_outputs(tmp_path: Path) -> None:
    run("oasst_to_sft_and_prefs.yaml", tmp_path)
    trees = records(SAMPLES_DIR / "oasst_trees.jsonl")
    assert len(records(tmp_path / "sft.jsonl")) == len(trees)
    prefs = records(tmp_path / "prefs.jsonl")
    assert prefs and all({"prompt", "chosen", "rejected"} <= set(pair) for pair in prefs)
    assert stats(tmp_path / "06_convert")["out"] == len(prefs)


def test_web_recipe_keeps_every_clean_document_and_nothing_else(tmp_path: Path) -> None:
    run("web_text_cleaning.yaml", tmp_path)
    kept = records(tmp_path / "clean_docs.jsonl")
    docs = records(SAMPLES_DIR / "web_docs.jsonl")
    assert sorted(d["id"] for d in kept) == sorted(d["id"] for d in docs
                                                   if d["meta"]["kind"] == "clean")
    dedup_removed = records(tmp_path / "04_dedup" / "out.removed")
    assert Counter(line["record"]["meta"]["kind"] for line in dedup_removed) == \
        {"exact_duplicate": 3, "near_duplicate": 3}


def math_fixture(path: Path, count: int = 60) -> Path:
    subjects = ["Algebra", "Geometry", "Number Theory", "Precalculus"]
    rows = [{"problem": f"Problem {i}: compute {i} times {i + 3} for the {subjects[i % 4]} set.",
             "solution": "We multiply. " * (1 + i % 7) + f"The answer is $\\boxed{{{i * (i + 3)}}}$.",
             "answer": str(i * (i + 3)), "subject": subjects[i % 4], "level": 1 + i % 5}
            for i in range(count)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def math_sets(data: Path, evals: Path) -> list[str]:
    """The recipe's own comment's `--set`s for MATH-style data (problem, solution, subject,
    level), read from the recipe so that the comment stays true."""
    comment = (RECIPES / "s1_math_selection.yaml").read_text()
    sets = re.findall(r"--set (\S+)", comment[comment.index("On MATH-500"):])
    assert len(sets) == 10, sets
    sets = [s.replace("math500_test.jsonl", str(data)).replace("aime24_test.jsonl", str(evals))
            for s in sets]
    return [arg for s in sets for arg in ("--set", s)]


def test_s1_recipe_on_the_built_in_sample(tmp_path: Path) -> None:
    run("s1_math_selection.yaml", tmp_path)
    selected = records(tmp_path / "s1_selection.jsonl")
    assert len(selected) == 16
    # the sample problems that the sample instructions copy (injections.json: contamination),
    # found by whitespace-normalised containment, and those sharing any 13 words in a row
    # (lower-cased, punctuation dropped) with an instruction: decontamination's definition
    def norm(text: str) -> str:
        return " ".join(text.split())

    def grams(text: str) -> set[tuple[str, ...]]:
        words = re.findall(r"\w+", text.lower())
        return {tuple(words[i:i + 13]) for i in range(len(words) - 12)}

    injections = json.loads((SAMPLES_DIR / "injections.json").read_text())
    alpaca = json.loads((SAMPLES_DIR / "instructions.alpaca.json").read_text())
    copies = [norm(alpaca[int(i)]["instruction"] + " " + alpaca[int(i)]["input"])
              for i, kind in injections.items() if kind == "contamination"]
    problems = [r["question"] for r in records(SAMPLES_DIR / "eval_set.jsonl")]
    copied = {q for q in problems if any(norm(q) in copy for copy in copies)}
    assert len(copied) == 6
    prompt_grams = set().union(*(grams(r["instruction"] + "\n" + r["input"]) for r in alpaca))
    overlapping = {q for q in problems if grams(q) & prompt_grams}
    removed = {r["record"]["question"] for r in records(tmp_path / "02_decontam" / "out.removed")}
    assert copied < overlapping and removed == overlapping
    assert not {r["question"] for r in selected} & removed


def test_s1_recipe_on_a_small_fixture(tmp_path: Path) -> None:
    data = math_fixture(tmp_path / "math.jsonl")
    evals = tmp_path / "eval.jsonl"
    evals.write_text(json.dumps({"problem": "A completely unrelated eval question about the "
                                 "number of diagonals of a regular polygon with ten sides."}) + "\n")
    out = tmp_path / "run"
    run("s1_math_selection.yaml", out, *math_sets(data, evals), "--set", "select.k=20")
    selected = records(out / "s1_selection.jsonl")
    assert len(selected) == 20
    assert Counter(r["subject"] for r in selected) == {s: 5 for s in
                                                       ("Algebra", "Geometry", "Number Theory",
                                                        "Precalculus")}
    assert (out / "04_select" / "out.select_report.html").exists()
    s = stats(out / "04_select")
    assert s["in"] == s["out"] + s["removed"]


def test_s1_recipe_on_math500(shared_data: Path, tmp_path: Path) -> None:
    run("s1_math_selection.yaml", tmp_path, *math_sets(shared_data / "math500_test.jsonl",
                                                        shared_data / "aime24_test.jsonl"))
    selected = records(tmp_path / "s1_selection.jsonl")
    assert len(selected) == 140
    shares = np.array(list(Counter(r["subject"] for r in selected).values())) / 140
    assert len(shares) == 7 and -(shares * np.log(shares)).sum() / np.log(7) >= 0.98
    math500 = records(shared_data / "math500_test.jsonl")
    assert sum(r["level"] for r in selected) / 140 > sum(r["level"] for r in math500) / 500


def test_sft_recipe_on_real_alpaca(shared_data: Path, tmp_path: Path) -> None:
    run("sft_from_alpaca.yaml", tmp_path, "--set",
        f"read.path={shared_data / 'alpaca_en_demo_1k.json'}")
    first = stats(tmp_path / "01_read")
    assert first["in"] == 999
    assert len(records(tmp_path / "sft.jsonl")) == stats(tmp_path / "05_filter")["out"] > 800


def test_unknown_steps_bad_options_and_missing_files_fail_before_any_work(tmp_path: Path) -> None:
    cases = {
        "unknown step 'dedupe'": "steps:\n  - read: {path: x.jsonl}\n  - dedupe: {}\n",
        "step 2 (filter): field 'max_toxicity'":
            "steps:\n  - read: {path: x.jsonl}\n  - filter: {max_toxicity: 7}\n",
        "step 2 (decontam): field 'against': no such file missing.jsonl":
            "steps:\n  - read: {path: x.jsonl}\n  - decontam: {against: [missing.jsonl]}\n",
        "put a 'write' step before it":
            "steps:\n  - read: {path: x.jsonl}\n  - read: {path: x.jsonl}\n",
    }
    (tmp_path / "x.jsonl").write_text('{"text": "hello"}\n')
    for expected, text in cases.items():
        recipe = tmp_path / "r.yaml"
        recipe.write_text(text)
        out = tmp_path / "out"
        result = runner.invoke(app, ["run", str(recipe), "-o", str(out)])
        assert result.exit_code == 1 and expected in result.output, (expected, result.output)
        assert not out.exists()


def test_set_overrides_name_a_step_and_a_field(tmp_path: Path) -> None:
    hh = SAMPLES_DIR / "hh.jsonl"
    recipe = load_recipe(RECIPES / "demo.yaml", ["filter.max_toxicity=0.2", f"07_read.path={hh}"])
    assert recipe.steps[4].options.max_toxicity == 0.2
    assert recipe.steps[6].options.path == [str(SAMPLES_DIR / "hh.jsonl")]
    with pytest.raises(OptionsError, match="2 steps named 'read'"):
        load_recipe(RECIPES / "demo.yaml", ["read.path=x.jsonl"])


def counting(monkeypatch: pytest.MonkeyPatch, step: str, calls: Counter) -> None:
    """Count the runs of a step: a global step's driver calls, a record step's first batch
    of each run (the recipes here fit in one batch)."""
    if step in record_steps.STEPS:
        spec = record_steps.STEPS[step]

        def counted_batch(*args):
            calls[step] += 1
            return spec.apply(*args)

        monkeypatch.setitem(record_steps.STEPS, step, replace(spec, apply=counted_batch))
        return
    spec = recipe_steps.STEP_TYPES[step]
    driver = spec.run

    def counted(*args, **kwargs):
        calls[step] += 1
        return driver(*args, **kwargs)

    monkeypatch.setitem(recipe_steps.STEP_TYPES, step, replace(spec, run=counted))


def test_resume_after_a_threshold_change_reruns_only_the_filter_and_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: Counter = Counter()
    for step in ("convert", "dedup", "filter"):
        counting(monkeypatch, step, calls)
    recipe = RECIPES / "sft_from_alpaca.yaml"
    run_recipe(load_recipe(recipe), tmp_path, quiet=True)
    assert calls == {"convert": 1, "dedup": 1, "filter": 1}
    before = outputs(tmp_path / "05_filter")
    reports = run_recipe(load_recipe(recipe), tmp_path, resume=True, quiet=True)
    assert [r.status for r in reports] == ["cached"] * 5 + ["ran"]  # write always runs
    reports = run_recipe(load_recipe(recipe, ["filter.max_words=60"]), tmp_path, resume=True,
                         quiet=True)
    assert [r.status for r in reports] == ["cached"] * 4 + ["ran", "ran"]
    assert calls == {"convert": 1, "dedup": 1, "filter": 2}
    assert outputs(tmp_path / "05_filter") != before
    assert stats(tmp_path / "05_filter")["removed_by_reason"]["words_above_max"] > 0


def test_a_changed_eval_file_reruns_decontam(tmp_path: Path) -> None:
    evals = tmp_path / "eval.jsonl"
    evals.write_bytes((SAMPLES_DIR / "eval_set.jsonl").read_bytes())
    overrides = [f"decontam.against=[{evals}]"]
    run_recipe(load_recipe(RECIPES / "sft_from_alpaca.yaml", overrides), tmp_path / "r", quiet=True)
    evals.write_text(evals.read_text().splitlines()[0] + "\n")
    reports = run_recipe(load_recipe(RECIPES / "sft_from_alpaca.yaml", overrides), tmp_path / "r",
                         resume=True, quiet=True)
    assert [r.status for r in reports][:4] == ["cached", "cached", "cached", "ran"]


def test_from_step_reruns_that_step_even_when_unchanged(tmp_path: Path) -> None:
    run("web_text_cleaning.yaml", tmp_path)
    run("web_text_cleaning.yaml", tmp_path, "--from-step", "filter")
    assert statuses(tmp_path) == ["cached", "cached", "ran", "ran", "ran"]


def outputs(run_dir: Path) -> dict[str, bytes]:
    """Every data file of a run (not stats: they hold timings)."""
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*"))
            if p.name.endswith((".jsonl", ".jsonl.zst"))}


def test_interrupted_step_leaves_no_output_and_resume_matches_a_clean_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_recipe(load_recipe(RECIPES / "sft_from_alpaca.yaml"), tmp_path / "clean", quiet=True)

    spec = record_steps.STEPS["filter"]

    def interrupted(records, locs, options, rejects):
        spec.apply(records[:10], locs[:10], options, rejects)  # some work, then Ctrl-C
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setitem(record_steps.STEPS, "filter", replace(spec, apply=interrupted))
        with pytest.raises(KeyboardInterrupt):
            run_recipe(load_recipe(RECIPES / "sft_from_alpaca.yaml"), tmp_path / "run", quiet=True)
    step = tmp_path / "run" / "05_filter"
    assert not (step / "done.json").exists() and not (step / "out").exists()
    assert not list(step.glob(".*staging*"))  # nothing half-written is left behind
    reports = run_recipe(load_recipe(RECIPES / "sft_from_alpaca.yaml"), tmp_path / "run",
                         resume=True, quiet=True)
    # decontam, filter and write run as one pass over the data: they rerun together
    assert [r.status for r in reports] == ["cached"] * 3 + ["ran"] * 3
    assert outputs(tmp_path / "run") == outputs(tmp_path / "clean")


KILLER = """
import os, signal, sys
from curate.io import write as io_write
original = io_write.PartWriter.write
def write(self, record):
    if "{step}" in str(self.path) and self.rows == {after}:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, record)
io_write.PartWriter.write = write
from curate.cli import app
sys.argv = ["curate", "run", {recipe!r}, "-o", {out!r}]
app()
"""


def test_killed_run_resumes_to_the_same_output(tmp_path: Path) -> None:
    recipe = str(RECIPES / "sft_from_alpaca.yaml")
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    run("sft_from_alpaca.yaml", clean)
    script = KILLER.format(step="03_dedup", after=100, recipe=recipe, out=str(killed))
    process = subprocess.run([sys.executable, "-c", script], check=False, capture_output=True,
                             text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert process.returncode == -signal.SIGKILL, process.stderr
    assert (killed / "02_convert" / "done.json").exists()
    assert not (killed / "03_dedup" / "done.json").exists()
    assert not (killed / "03_dedup" / "out").exists()
    assert list((killed / "03_dedup").glob(".out.staging-*"))  # the half-written staging
    run("sft_from_alpaca.yaml", killed, "--resume")
    assert statuses(killed) == ["cached", "cached", "ran", "ran", "ran", "ran"]
    assert not list(killed.rglob(".*staging*")) and not list(killed.rglob(".*.tmp"))
    assert outputs(killed) == outputs(clean)


def test_report_of_a_recipe_run_has_a_funnel_and_every_step(tmp_path: Path) -> None:
    run("sft_from_alpaca.yaml", tmp_path / "run")
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(tmp_path / "run"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "alt='records out of each step, with those it removed and rejected'" in html
    positions = [html.index(f"{step}: what was removed") for step in
                 ("03_dedup", "04_decontam", "05_filter")]
    assert positions == sorted(positions)
    for reason in ("exact_duplicate", "near_duplicate", "eval_overlap", "placeholder"):
        assert reason in html
