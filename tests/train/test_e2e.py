"""End to end on real data: `curate convert` OASST trees, `train sft --model tiny` on the
conversations, then `train dpo` on the OASST preference pairs from the SFT run."""

from __future__ import annotations

import json

from transformers import AutoModelForCausalLM, AutoTokenizer
from typer.testing import CliRunner

from curate.cli import app as curate_app
from train.cli import app as train_app

ARTIFACTS = ("config.yaml", "metrics.jsonl", "summary.json", "loss.png", "config.json",
             "model.safetensors", "tokenizer.json", "chat_template.jinja")


def invoke(app, *args):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def test_curate_then_sft_then_dpo_on_oasst(shared_data, tmp_path):
    trees = shared_data / "oasst_en_100_trees.jsonl"
    sft_data, pairs = tmp_path / "sft.jsonl", tmp_path / "pairs.jsonl"
    invoke(curate_app, "convert", trees, "-o", sft_data, "--to", "messages")
    invoke(curate_app, "convert", trees, "-o", pairs, "--to", "preference")

    sft, dpo = tmp_path / "sft", tmp_path / "dpo"
    invoke(train_app, "sft", "--data", sft_data, "--model", "tiny", "-o", sft, "--max-steps", 8,
           "--batch-size", 4, "--max-length", 256, "--eval-split", 8)
    invoke(train_app, "dpo", "--data", pairs, "--model", sft, "-o", dpo, "--max-steps", 4,
           "--batch-size", 2, "--max-length", 256, "--eval-split", 8)

    for run in (sft, dpo):
        for artifact in ARTIFACTS:
            assert (run / artifact).stat().st_size > 0, (run, artifact)
    assert (dpo / "rewards.png").stat().st_size > 0
    assert (sft / "base_model" / "config.json").exists()
    sft_summary = json.loads((sft / "summary.json").read_text())
    dpo_summary = json.loads((dpo / "summary.json").read_text())
    assert sft_summary["data"]["in"] == 100 and sft_summary["last_loss"] < sft_summary["first_loss"]
    assert dpo_summary["model_source"] == str(sft) and dpo_summary["steps"] == 4
    counts = dpo_summary["data"]
    assert counts["in"] == counts["train"] + counts["eval"] + counts["removed"] + counts["rejected"]
    assert "reward_accuracy" in dpo_summary["eval"]
    # the DPO run trained the SFT model, with the SFT run's tokenizer and template
    vocabulary = AutoTokenizer.from_pretrained(sft).get_vocab()
    assert AutoTokenizer.from_pretrained(dpo).get_vocab() == vocabulary
    assert AutoModelForCausalLM.from_pretrained(dpo).config.prefkit_tiny
