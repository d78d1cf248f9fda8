"""`select_records` and `curate select`: data formats, stages, options, bad input, accounting."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.io import BadRecord
from curate.select import SelectOptions, select_records


def _rows(path: Path, limit: int | None = None) -> list[dict]:
    with path.open() as handle:
        return [json.loads(line) for _, line in zip(range(limit or 10**9), handle)]


def _invoke(*args: str):
    return CliRunner().invoke(app, ["select", *args])


@pytest.fixture(scope="module")
def gsm8k(shared_data: Path) -> list[dict]:
    return _rows(shared_data / "gsm8k_train.jsonl", 300)


@pytest.fixture(scope="module")
def math500(shared_data: Path) -> list[dict]:
    return _rows(shared_data / "math500_test.jsonl")


def _choice(result) -> list[str]:
    return [(r["meta"]["select"]["domain"], r["meta"]["select"]["order"]) for r in result.kept]


def test_conversations_prompt_completion_and_raw_columns_select_alike(gsm8k):
    raw = SelectOptions(k=30, prompt_field="question", answer_field="answer", report=False)
    conversations = [{"id": str(i), "messages": [{"role": "user", "content": r["question"]},
                                                 {"role": "assistant", "content": r["answer"]}]}
                     for i, r in enumerate(gsm8k)]
    completions = [{"prompt": [{"role": "user", "content": r["question"]}],
                    "completion": [{"role": "assistant", "content": r["answer"]}]} for r in gsm8k]
    default = SelectOptions(k=30, report=False)
    by_raw = select_records(gsm8k, raw)
    by_chat = select_records(conversations, default)
    by_completion = select_records(completions, default)
    assert _choice(by_raw) == _choice(by_chat) == _choice(by_completion)
    assert [r["question"] for r in by_raw.kept] == \
        [r["messages"][0]["content"] for r in by_chat.kept]
    assert by_chat.kept[0]["messages"] == conversations[int(by_chat.kept[0]["id"])]["messages"]


def test_default_clusters_make_the_domains_and_length_the_difficulty(gsm8k):
    result = select_records(gsm8k, SelectOptions(k=40, prompt_field="question",
                                                 answer_field="answer", clusters=4, report=False))
    domains = Counter(r["meta"]["select"]["domain"] for r in result.kept)
    assert len(domains) == 4 and max(domains.values()) - min(domains.values()) <= 1
    assert all(name.startswith("c0") and "/" in name for name in domains)  # named by top terms
    lengths = [r["meta"]["select"]["signals"]["length"] for r in result.kept]
    rest = [line["signals"]["length"] for line in result.removed]
    assert sum(lengths) / len(lengths) > 1.5 * sum(rest) / len(rest)


def test_without_diversity_the_loop_runs_over_one_pool(math500):
    options = SelectOptions(k=50, prompt_field="problem", answer_field="solution", diversity=False,
                            difficulty=["column:level"], quality=False, report=False)
    result = select_records(math500, options)
    assert {r["meta"]["select"]["domain"] for r in result.kept} == {"all"}
    assert sum(r["level"] == 5 for r in result.kept) == 50  # 134 level-5 problems to pick from


def test_without_difficulty_the_domain_draw_is_all_that_matters(math500):
    options = SelectOptions(k=70, prompt_field="problem", answer_field="solution",
                            domain_field="subject", difficulty="none", report=False)
    result = select_records(math500, options)
    assert Counter(r["subject"] for r in result.kept) == {s: 10 for s in Counter(
        r["subject"] for r in math500)}
    assert {r["meta"]["select"]["difficulty"] for r in result.kept} == {0.5}
    levels = Counter(r["level"] for r in result.kept)
    assert len(levels) == 5  # not the hardest only


def test_domain_weights_proportional_and_from_a_file(math500, tmp_path):
    options = SelectOptions(k=100, prompt_field="problem", answer_field="solution",
                            domain_field="subject", quality=False, domain_weights="proportional",
                            report=False)
    sizes = Counter(r["subject"] for r in math500)
    chosen = Counter(r["subject"] for r in select_records(math500, options).kept)
    assert all(abs(chosen[name] - 100 * size / 500) < 1 for name, size in sizes.items())
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in math500))
    weights = tmp_path / "weights.yaml"
    weights.write_text("Geometry: 0\nAlgebra: 2\n'*': 1\n")
    out = tmp_path / "out.jsonl"
    result = _invoke(str(source), "-o", str(out), "-k", "70", "--prompt-field", "problem",
                     "--answer-field", "solution", "--domain-field", "subject", "--no-quality",
                     "--no-report", "--domain-weights", str(weights))
    assert result.exit_code == 0, result.output
    chosen = Counter(json.loads(line)["subject"] for line in out.read_text().splitlines())
    assert chosen == {"Algebra": 20, **{name: 10 for name in sizes
                                         if name not in ("Algebra", "Geometry")}}


def test_quality_stage_reuses_the_filter_and_can_be_switched_off(math500):
    options = SelectOptions(k=500, prompt_field="problem", answer_field="solution",
                            domain_field="subject", report=False)
    on = select_records(math500, options)
    off = select_records(math500, options.model_copy(update={"quality": False}))
    dropped = [line for line in on.removed if line["stage"] == "quality"]
    assert dropped and len(on.kept) + len(dropped) == 500 == len(off.kept)
    assert all(line["step"] == "select" and line["reason"] in line["reasons"] for line in dropped)
    from curate.filtering import FilterOptions, filter_records

    alone = filter_records(math500, FilterOptions(preset=["reasoning"], prompt_field="problem",
                                                  response_field="solution"))
    assert Counter(line["reason"] for line in alone.removed) == \
        Counter(line["reason"] for line in dropped)


def test_quality_stage_in_worker_processes_gives_the_same_result(math500, monkeypatch):
    monkeypatch.setattr("curate.select.quality.BATCH", 128)  # 4 batches over 2 workers
    options = SelectOptions(k=100, prompt_field="problem", answer_field="solution",
                            domain_field="subject", report=False)
    alone = select_records(math500, options)
    pooled = select_records(math500, options.model_copy(update={"workers": 2}))
    assert pooled.kept == alone.kept and pooled.removed == alone.removed


def test_labels_and_drop_solved_with_a_seed_set(math500):
    rows = [dict(r, solved_by=["qwen-7b"] if r["level"] <= 2 else []) for r in math500]
    options = SelectOptions(k=60, prompt_field="problem", answer_field="solution",
                            domain_field="subject", difficulty=["labels:solved_by", "column:level"],
                            drop_solved=True, seed_set=["subject=Geometry"], quality=False,
                            report=False)
    result = select_records(rows, options)
    geometry = [r for r in rows if r["subject"] == "Geometry"]
    seeds = result.kept[:len(geometry)]
    assert [r["problem"] for r in seeds] == [r["problem"] for r in geometry]  # first, in order
    assert all(r["meta"]["select"]["seed_set"] for r in seeds)
    rest = result.kept[len(geometry):]
    assert all(r["level"] > 2 and not r["meta"]["select"]["seed_set"] for r in rest)
    solved = [line for line in result.removed if line["reason"] == "solved"]
    assert {line["stage"] for line in solved} == {"difficulty"}
    assert len(solved) == sum(r["level"] <= 2 and r["subject"] != "Geometry" for r in rows)
    assert len(result.kept) + len(result.removed) == len(rows)


def test_seed_set_rules_match_values_regexes_and_dotted_paths():
    from curate.select.seed_set import seed_mask

    records = [{"problem": "a", "meta": {"source": "AIME 2024"}},
               {"problem": "b", "meta": {"source": "gsm8k"}},
               {"problem": "c", "source": "GPQA"},
               {"problem": "d"}]
    assert seed_mask(records, ["meta.source~^AIME", "source=GPQA"]) == [True, False, True, False]
    assert seed_mask(records, ["source=gpqa"]) == [False] * 4  # exact, case-sensitive
    assert seed_mask(records, ["problem~[bd]"]) == [False, True, False, True]
    with pytest.raises(ValueError, match="invalid regular expression"):
        seed_mask(records, ["problem~(unclosed"])


def test_empty_and_tiny_inputs(math500):
    options = SelectOptions(k=3, prompt_field="problem", answer_field="solution")
    empty = select_records([], options)
    assert (empty.kept, empty.removed, empty.extra["short_by"]) == ([], [], 3)
    assert empty.extra["report"]["selection"]["size"] == 0
    by_columns = options.model_copy(update={"difficulty": ["column:level", "labels:solved_by"],
                                            "domain_field": "subject", "drop_solved": True})
    assert select_records([], by_columns).kept == []
    asy = next(r for r in math500 if "[asy]" in r["solution"])
    one = select_records([asy], options)
    assert one.kept == [] and [line["stage"] for line in one.removed] == ["quality"]
    plain = select_records(math500[1:3], options)
    assert len(plain.kept) == 2 and plain.extra["short_by"] == 1


def test_seed_set_larger_than_k_is_an_error(math500):
    options = SelectOptions(k=5, prompt_field="problem", answer_field="solution",
                            seed_set=["subject~Algebra"], quality=False, report=False)
    with pytest.raises(ValueError, match=r"seed_set: the rules match 221 records, more than k=5"):
        select_records(math500, options)


def test_short_pool_selects_everything_left_and_says_so(math500, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in math500[:30]))
    result = _invoke(str(source), "-o", str(tmp_path / "out.jsonl"), "-k", "50",
                     "--prompt-field", "problem", "--answer-field", "solution",
                     "--domain-field", "subject", "--no-quality", "--no-report")
    assert result.exit_code == 0, result.output
    assert "only 30 of k=50" in result.output
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert (stats["out"], stats["short_by"]) == (30, 20)


def test_missing_field_names_file_line_and_field(math500, tmp_path):
    rows = [dict(r) for r in math500[:20]]
    del rows[6]["level"]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    args = [str(source), "-o", str(out), "-k", "5", "--prompt-field", "problem",
            "--answer-field", "solution", "--domain-field", "subject", "-d", "column:level"]
    failed = _invoke(*args)
    assert failed.exit_code == 1
    assert f"{source}:7: field 'level': missing" in failed.output
    assert not out.exists() and not (tmp_path / "out.stats.json").exists()
    skipped = _invoke(*args, "--on-error", "skip")
    assert skipped.exit_code == 0, skipped.output
    rejects = (tmp_path / "out.rejects.jsonl").read_text().splitlines()
    assert [(r["line"], r["field"], r["reason"]) for r in map(json.loads, rejects)] == \
        [(7, "level", "missing_field")]
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert stats["in"] == 20 == stats["out"] + stats["removed"] + stats["rejected"]


def test_a_scores_column_that_is_not_an_object_is_bad_input(math500, tmp_path):
    rows = [dict(r) for r in math500[:10]]
    rows[3]["scores"] = "high"
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    args = [str(source), "-o", str(tmp_path / "out.jsonl"), "-k", "3",
            "--prompt-field", "problem", "--answer-field", "solution"]
    failed = _invoke(*args)
    assert failed.exit_code == 1 and f"{source}:4: field 'scores'" in failed.output
    assert _invoke(*args, "--no-quality").exit_code == 0  # only the filter writes there


def test_text_levels_and_bad_values(tmp_path):
    rows = [{"problem": f"What is {i} + {i}?", "solution": f"It is $\\boxed{{{2 * i}}}$.",
             "level": f"Level {i % 5 + 1}"} for i in range(10)]
    options = SelectOptions(k=3, prompt_field="problem", answer_field="solution",
                            difficulty=["column:level"], diversity=False, quality=False,
                            report=False)
    chosen = select_records(rows, options).kept
    assert all(r["meta"]["select"]["signals"]["column:level"] == int(r["level"][-1])
               for r in chosen)
    rows[4]["level"] = "hard"
    with pytest.raises(BadRecord, match=r"in\.jsonl:5: field 'level': expected a number"):
        select_records(rows, options)
    result = select_records(rows, options, on_error="skip")  # the bad row is set aside
    assert len(result.kept) + len(result.removed) == 9


def test_config_file_is_validated_and_flags_override_it(math500, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in math500[:100]))
    config = tmp_path / "select.yaml"
    config.write_text("k: 10\nprompt_field: problem\nanswer_field: solution\n"
                      "domain_field: subject\ndifficulty: [column:level, length]\nreport: false\n")
    out = tmp_path / "out.jsonl"
    result = _invoke(str(source), "-o", str(out), "--config", str(config), "-k", "4")
    assert result.exit_code == 0, result.output
    chosen = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(chosen) == 4
    assert set(chosen[0]["meta"]["select"]["signals"]) == {"column:level", "length"}
    assert not (tmp_path / "out.select_report.md").exists()
    config.write_text("k: 10\nclusterz: 3\n")
    bad = _invoke(str(source), "-o", str(out), "--config", str(config))
    assert bad.exit_code == 1 and "field 'clusterz'" in bad.output


@pytest.mark.parametrize(("args", "message"), [
    (["-d", "model-loss"], "need --model"),
    (["--drop-solved"], "needs a model-solve or labels"),
    (["-d", "colum:level"], "unknown difficulty signal"),
    (["--seed-set", "no rule here"], "expected FIELD=VALUE or FIELD~REGEX"),
    (["--domain-field", "subject", "--clusters", "4"], "not both"),
    (["--domain-draw", "sometimes"], "domain_draw"),
    (["--domain-weights", "weights.yaml"], "expected uniform, proportional or a YAML/JSON file"),
    (["--no-diversity", "--domain-weights", "proportional"], "while the diversity stage is off"),
    (["-d", "model-loss", "--model", "/no/such/model"], "/no/such/model: no such model directory"),
    (["--embed-model", "/no/such/model"], "embedding model '/no/such/model' could not be"),
])
def test_bad_options_exit_1_with_a_clear_message(math500, tmp_path, args, message):
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in math500[:20]))
    result = _invoke(str(source), "-o", str(tmp_path / "o.jsonl"), "-k", "5",
                     "--prompt-field", "problem", "--answer-field", "solution", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_help_has_an_example():
    result = CliRunner().invoke(app, ["select", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: curate select" in result.output and "--seed-set" in result.output
