"""`train dpo`: DPO learns the toy preference; IPO, length-normalised DPO, LD-DPO with
precomputed reference log-probs, and SimPO run and log what they should."""

from __future__ import annotations

import json

import pytest

from train.dpo import build_dpo_trainer, train_dpo
from train.options import DPOOptions

LOGGED = ("rewards/accuracies", "rewards/margins", "rewards/chosen", "rewards/rejected",
          "logps/chosen", "logps/rejected", "lengths/chosen", "lengths/rejected")


def metrics(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_dpo_reward_accuracy_rises_above_0_8(toy_dir, tmp_path):
    run = tmp_path / "dpo"
    summary = train_dpo(DPOOptions(data=toy_dir / "pairs.jsonl", output=run, max_steps=40,
                                   batch_size=16, eval_split=48))

    train_rows = [row for row in metrics(run) if "rewards/accuracies" in row]
    assert train_rows[0]["rewards/accuracies"] <= 0.6
    assert summary["eval"]["reward_accuracy"] > 0.8
    assert summary["eval"]["rewards/margins"] > 0
    assert summary["last_loss"] < summary["first_loss"]
    for key in LOGGED:
        assert key in train_rows[-1] and f"eval_{key}" in metrics(run)[-1]
    assert (run / "rewards.png").stat().st_size > 0 and (run / "config.json").exists()


@pytest.mark.parametrize("loss", ["ipo", "sigmoid_norm", "simpo"])
def test_variants_run_and_log_rewards_and_lengths(loss, toy_dir, tmp_path):
    run = tmp_path / loss
    summary = train_dpo(DPOOptions(data=toy_dir / "pairs.jsonl", output=run, loss=loss,
                                   max_steps=6, batch_size=8, eval_split=16))

    assert summary["steps"] == 6 and summary["loss_type"] == loss
    assert summary["tokens_per_s"] > 0
    last_train = [row for row in metrics(run) if "loss" in row][-1]
    for key in LOGGED:
        assert key in last_train, key
    assert "reward_accuracy" in summary["eval"]


def test_loss_options_reach_the_trainers(toy_dir, tmp_path):
    _, dpo = build_dpo_trainer(DPOOptions(data=toy_dir / "pairs.jsonl", output=tmp_path / "n",
                                          loss="sigmoid_norm", beta=0.3, eval_split=0))
    assert dpo.loss_types == ["sigmoid_norm"] and dpo.beta == 0.3
    _, simpo = build_dpo_trainer(DPOOptions(data=toy_dir / "pairs.jsonl", output=tmp_path / "s",
                                            loss="simpo", simpo_gamma=0.7, eval_split=0))
    assert (simpo.loss_type, simpo.cpo_alpha, simpo.simpo_gamma, simpo.beta) == \
        ("simpo", 0.0, 0.7, 2.0)
    row = simpo.train_dataset[0]
    assert row["prompt"].endswith("<|im_start|>assistant\n")
    answer = [token for token, label in zip(row["chosen_input_ids"], row["chosen_labels"],
                                            strict=True) if label != -100]
    assert row["chosen"].endswith("<|im_end|>")
    assert answer.count(simpo.processing_class.eos_token_id) == 1  # no second EOS appended


def test_ld_alpha_with_precomputed_reference(toy_dir, tmp_path):
    prepared, trainer = build_dpo_trainer(DPOOptions(
        data=toy_dir / "pairs.jsonl", output=tmp_path / "ld", ld_alpha=0.5, precompute_ref=True,
        max_steps=3, batch_size=8, eval_split=0))

    assert trainer.ref_model is None
    assert "ref_chosen_logps" in trainer.train_dataset.column_names
    assert trainer.ld_alpha == 0.5
    from train.runner import finish

    summary = finish(prepared, trainer, method="dpo")
    assert summary["steps"] == 3


def test_simpo_rejects_reference_options():
    with pytest.raises(ValueError, match="reference-free"):
        DPOOptions(data="x.jsonl", output="run", loss="simpo", precompute_ref=True)


def test_tokenising_once_trains_what_trl_tokenising_itself_trains(toy_dir, tmp_path):
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import DPOTrainer

    prepared, trainer = build_dpo_trainer(DPOOptions(
        data=toy_dir / "pairs.jsonl", output=tmp_path / "ours", max_steps=4, batch_size=4,
        eval_split=0))
    assert "prompt_ids" in trainer.train_dataset.column_names
    trainer.train()
    rows = [json.loads(line) for line in (toy_dir / "pairs.jsonl").read_text().splitlines()]
    config = trainer.args
    config.output_dir = str(tmp_path / "trl")
    peer = DPOTrainer(model=prepared.model_source, args=config,
                      train_dataset=Dataset.from_list(
                          [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in rows]),
                      processing_class=prepared.tokenizer)
    peer.remove_callback(PrinterCallback)
    peer.train()

    def losses(t):
        return [round(row["loss"], 5) for row in t.state.log_history if "loss" in row]

    assert losses(trainer) == losses(peer) and len(losses(peer)) == 4


@pytest.mark.parametrize(("loss", "beta"), [("sigmoid", 0.1), ("ipo", 0.01),
                                             ("sigmoid_norm", 5.0), ("simpo", 2.0)])
def test_beta_defaults_by_loss_from_the_papers(loss, beta):
    options = DPOOptions(data="x.jsonl", output="run", loss=loss)
    assert options.resolved_beta == beta
    assert DPOOptions(data="x.jsonl", output="run", loss=loss, beta=0.3).resolved_beta == 0.3
    assert options.resolved_simpo_gamma == 1.0


def test_options_that_do_nothing_for_the_loss_are_warned_about(toy_dir, tmp_path):
    from typer.testing import CliRunner

    from train.cli import app

    result = CliRunner().invoke(app, [
        "dpo", "--data", str(toy_dir / "pairs.jsonl"), "-o", str(tmp_path / "run"),
        "--loss", "ipo", "--label-smoothing", "0.1", "--simpo-gamma", "0.5", "--max-steps", "1",
        "--eval-split", "0"])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "warning: label_smoothing does nothing with --loss ipo" in output
    assert "warning: simpo_gamma does nothing with --loss ipo" in output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["beta"] == 0.01 and len(summary["warnings"]) == 2
    assert not DPOOptions(data="x", output="o", loss="robust", label_smoothing=0.1).ignored


def test_held_out_pairs_from_a_file_and_the_label_strength_note(toy_dir, tmp_path):
    from tests.train.conftest import statement_pairs, write_jsonl

    held = statement_pairs(30, seed=9)
    held[0]["meta"] = {"strength": 2.0}
    eval_file = write_jsonl(tmp_path / "held.jsonl", held)
    summary = train_dpo(DPOOptions(data=toy_dir / "pairs.jsonl", output=tmp_path / "run",
                                   eval_data=eval_file, max_steps=2, batch_size=8))
    data = summary["data"]
    assert (data["train"], data["eval"], data["in"]) == (240, 30, 270)
    assert data["eval_from"] == "file"
    # both files draw sums of 0..9, so some held-out prompts are trained on: said, not hidden
    shared = sum(json.dumps(p["prompt"]) in {json.dumps(q["prompt"]) for q in
                                             map(json.loads, (toy_dir / "pairs.jsonl")
                                                 .read_text().splitlines())} for p in held)
    assert data["eval_prompts_in_train"] == shared > 0
    assert any("share a prompt with training records" in note for note in summary["warnings"])


def test_pairs_measured_in_a_batch_are_tokenised_as_one_by_one(tiny_tokenizer_for_batch):
    """The batched path (one tokenizer call per side) gives the ids of the per-pair path, on
    English, Chinese, emoji and an empty answer."""
    from train.dpo import measure, measure_many

    tokenizer = tiny_tokenizer_for_batch
    texts = ["What is 2 + 2?", "请用中文解释量子纠缠。", "🙂🙂 emoji only", ""]
    rows = [{"prompt": [{"role": "user", "content": q}],
             "chosen": [{"role": "assistant", "content": a}],
             "rejected": [{"role": "assistant", "content": b}]}
            for q in texts for a, b in (("Four.", "5"), ("量子纠缠是……", ""))]
    many = measure_many(tokenizer, rows)
    one = [measure(tokenizer, row) for row in rows]
    assert [(m.prompt, m.total, m.row) for m in many] == [(m.prompt, m.total, m.row) for m in one]
    assert all(m.row["chosen_ids"] for m in many)


@pytest.fixture(scope="module")
def tiny_tokenizer_for_batch():
    from train.tiny import build_tiny_tokenizer

    return build_tiny_tokenizer(["What is two plus two? Four.", "量子纠缠是一种量子现象。"] * 50,
                                vocab_size=600)
