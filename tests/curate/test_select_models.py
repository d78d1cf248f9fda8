"""Model-based selection on the tiny offline model: loss, solving, tokenizer, embeddings."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.select import SelectOptions, select_records
from curate.select.model_loss import solution_losses
from curate.select.model_solve import solve

QUESTIONS = 8


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The tiny model gains nothing from threads; on a shared 2-core box they cost 5x."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def gsm8k(shared_data: Path) -> list[dict]:
    with (shared_data / "gsm8k_train.jsonl").open() as handle:
        return [json.loads(line) for _, line in zip(range(200), handle)]


@pytest.fixture(scope="module")
def tiny_model(gsm8k: list[dict], tmp_path_factory: pytest.TempPathFactory) -> str:
    from train.tiny import build_tiny_model

    texts = [row["question"] + "\n" + row["answer"] for row in gsm8k]
    return str(build_tiny_model(texts, tmp_path_factory.mktemp("tiny"), seed=0))


@pytest.fixture
def problems(gsm8k: list[dict], tmp_path: Path) -> Path:
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in gsm8k[:QUESTIONS]))
    return path


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, ["select", *args])
    assert result.exit_code == 0, result.output


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_model_loss_equals_the_models_own_loss_on_each_solution(gsm8k, tiny_model):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    rows = gsm8k[:QUESTIONS]
    batched = solution_losses([r["question"] for r in rows], [r["answer"] for r in rows],
                              model=tiny_model, batch_size=3, max_length=4096)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    model = AutoModelForCausalLM.from_pretrained(tiny_model).eval()
    for row, loss in zip(rows, batched):
        chat = [{"role": "user", "content": row["question"]}]
        prompt = tokenizer.apply_chat_template(chat, tokenize=False, add_generation_prompt=True)
        prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(row["answer"] + tokenizer.eos_token,
                               add_special_tokens=False)["input_ids"]
        ids = torch.tensor([prompt_ids + answer_ids])
        labels = ids.clone()
        labels[0, :len(prompt_ids)] = -100
        with torch.no_grad():
            expected = model(input_ids=ids, labels=labels).loss.item()
        assert loss == pytest.approx(expected, rel=1e-4)


def test_model_loss_truncates_the_question_not_the_solution(gsm8k, tiny_model):
    row = gsm8k[0]
    full, cut = solution_losses([row["question"]] * 2, [row["answer"]] * 2, model=tiny_model,
                                batch_size=2, max_length=4096)
    short = solution_losses([row["question"]], [row["answer"]], model=tiny_model,
                            batch_size=1, max_length=80)
    assert full == cut and np.isfinite(short[0]) and short[0] != full


def test_model_loss_end_to_end(problems, tiny_model, tmp_path, gsm8k):
    out = tmp_path / "out.jsonl"
    _run(str(problems), "-o", str(out), "-k", "3", "--no-quality", "--no-diversity",
         "--prompt-field", "question", "--answer-field", "answer", "-d", "model-loss",
         "--model", tiny_model, "--batch-size", "4")
    rows = gsm8k[:QUESTIONS]
    expected = solution_losses([r["question"] for r in rows], [r["answer"] for r in rows],
                               model=tiny_model, batch_size=4, max_length=2048)
    selected = _lines(out)
    assert len(selected) == 3
    for record in selected:
        position = next(i for i, r in enumerate(rows) if r["question"] == record["question"])
        assert record["meta"]["select"]["signals"]["model-loss"] == \
            pytest.approx(expected[position], rel=1e-5)
    assert len(_lines(tmp_path / "out.removed.jsonl")) == QUESTIONS - 3


def test_model_solve_marks_a_question_solved_when_any_attempt_is_right(gsm8k, tiny_model,
                                                                      tmp_path):
    settings = {"model": tiny_model, "attempts": 4, "temperature": 1.0, "max_new_tokens": 48,
                "batch_size": 8, "seed": 0}
    rows = gsm8k[:QUESTIONS]
    first = solve([r["question"] for r in rows], ["-1"] * QUESTIONS, template="{prompt}",
                  **settings)
    answered = [i for i, answers in enumerate(first.answers) if any(answers)]
    assert answered, "the tiny model wrote no number at all; raise max_new_tokens"
    # Make the questions the model happened to answer "solved": their reference is one of its
    # own answers (written as a LaTeX fraction over 1, so the comparison must normalise).
    for i, row in enumerate(rows):
        answer = next((a for a in first.answers[i] if a), None)
        row = dict(row, reference=f"\\frac{{{answer}}}{{1}}" if i in answered else "-123456")
        rows[i] = row
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    _run(str(source), "-o", str(out), "-k", str(QUESTIONS), "--no-quality", "--no-diversity",
         "--prompt-field", "question", "--answer-field", "answer", "--reference-field",
         "reference", "-d", "model-solve", "--drop-solved", "--model", tiny_model,
         "--attempts", "4", "--temperature", "1.0", "--max-new-tokens", "48",
         "--batch-size", "8", "--seed", "0", "--config", str(_template_config(tmp_path)))
    removed = _lines(tmp_path / "out.removed.jsonl")
    assert sorted(rows.index(line["record"]) for line in removed) == answered
    assert {(line["stage"], line["reason"]) for line in removed} == {("difficulty", "solved")}
    assert all(line["solved"] and line["model_answers"] == first.answers[rows.index(line["record"])]
               for line in removed)
    kept = _lines(out)
    assert len(kept) + len(removed) == QUESTIONS
    assert all(not r["meta"]["select"]["solved"] for r in kept)
    assert all(r["meta"]["select"]["signals"]["model-solve"] == 0 for r in kept)


def _template_config(tmp_path: Path) -> Path:
    config = tmp_path / "select.yaml"
    config.write_text("solve_template: '{prompt}'\n")
    return config


def test_model_solve_grades_against_extracted_gsm8k_answers(gsm8k, tiny_model):
    """A question whose `#### N` is one of the model's own answers must count as solved, and
    one whose `#### N` the model never wrote must not: grading cannot pass by accident."""
    settings = {"model": tiny_model, "attempts": 4, "temperature": 1.0, "max_new_tokens": 48,
                "batch_size": 8, "seed": 0}
    rows = gsm8k[:QUESTIONS]
    first = solve([r["question"] for r in rows], ["-1"] * QUESTIONS, template="{prompt}",
                  **settings)  # seeded sampling: the selection below draws the same answers
    answered = [i for i, answers in enumerate(first.answers) if any(answers)]
    assert len(answered) >= 2, "the tiny model wrote too few numbers; raise max_new_tokens"
    planted, expect_solved = [], set()
    for i, row in enumerate(rows):
        head = row["answer"].rsplit("####", 1)[0]
        if i in answered[::2]:  # its reference is one of the model's answers
            answer = next(a for a in first.answers[i] if a)
            expect_solved.add(row["question"])
        else:  # a reference the model never wrote
            answer = "987654321"
        planted.append(dict(row, answer=f"{head}#### {answer}"))
    options = SelectOptions(k=QUESTIONS, quality=False, diversity=False, prompt_field="question",
                            answer_field="answer", difficulty=["model-solve"],
                            solve_template="{prompt}", report=False, **settings)
    result = select_records(planted, options)
    rate = {r["question"]: r["meta"]["select"]["signals"]["model-solve"] for r in result.kept}
    assert len(rate) == QUESTIONS
    assert {q for q, value in rate.items() if value > 0} == expect_solved


def test_length_counts_tokens_of_the_given_tokenizer(gsm8k, tiny_model):
    from transformers import AutoTokenizer

    rows = gsm8k[:QUESTIONS]
    options = SelectOptions(k=QUESTIONS, quality=False, diversity=False, prompt_field="question",
                            answer_field="answer", tokenizer=tiny_model, report=False)
    result = select_records(rows, options)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    for record in result.kept:
        expected = len(tokenizer(record["answer"], add_special_tokens=False)["input_ids"])
        assert record["meta"]["select"]["signals"]["length"] == expected


def test_embed_model_clusters_with_sentence_transformers(gsm8k, tiny_model):
    rows = gsm8k[:60]
    options = SelectOptions(k=20, quality=False, prompt_field="question", answer_field="answer",
                            embed_model=tiny_model, clusters=3, report=False)
    first = select_records(rows, options)
    domains = {r["meta"]["select"]["domain"] for r in first.kept}
    assert 1 < len(domains) <= 3
    assert first.kept == select_records(rows, options).kept
    tfidf = select_records(rows, options.model_copy(update={"embed_model": None}))
    assert [r["meta"]["select"]["domain"] for r in tfidf.kept] != \
        [r["meta"]["select"]["domain"] for r in first.kept]
