"""`train rm`: held-out pairwise accuracy on a learnable toy, margins from label strength, and
the reward read at the end-of-sequence token."""

from __future__ import annotations

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from tests.train.conftest import assistant, sum_pairs, user, write_jsonl
from train.options import RMOptions
from train.ppo import score_sequences
from train.rm import build_rm_trainer, train_rm
from train.template import conversation_ids, end_of_turn_id


def test_reward_model_ranks_held_out_pairs(toy_dir, tmp_path):
    run = tmp_path / "rm"
    summary = train_rm(RMOptions(data=toy_dir / "pairs.jsonl", output=run, max_steps=100,
                                 batch_size=16, eval_split=48))

    assert summary["data"]["eval"] >= 48  # whole prompts are held out
    assert summary["data"]["eval_prompts_in_train"] == 0
    assert summary["eval"]["accuracy"] > 0.8
    assert abs(summary["eval"]["length_baseline_accuracy"] - 0.5) < 0.15
    assert summary["eval"]["reward_accuracy"] == summary["eval"]["accuracy"]
    assert (run / "rewards.png").stat().st_size > 0
    model = AutoModelForSequenceClassification.from_pretrained(run)
    tokenizer = AutoTokenizer.from_pretrained(run)
    end = end_of_turn_id(tokenizer)
    prompt = [user("What is 2 plus 1?")]
    right, wrong = (conversation_ids(tokenizer, prompt + [assistant(text)], end)
                    for text in ("It is 3.", "Is it 4?"))
    with torch.no_grad():
        scores = score_sequences(model, [right, wrong], tokenizer.pad_token_id, "cpu")
    assert scores[0] > scores[1]


def test_sequences_end_at_the_end_of_turn_token(toy_dir, tmp_path):
    prepared, trainer = build_rm_trainer(RMOptions(data=toy_dir / "pairs.jsonl",
                                                   output=tmp_path / "rm", eval_split=0))
    end = prepared.tokenizer.convert_tokens_to_ids("<|im_end|>")
    row = trainer.train_dataset[0]

    assert row["chosen_ids"][-1] == end and row["rejected_ids"][-1] == end
    assert prepared.tokenizer.decode(row["chosen_ids"]).endswith("<|im_end|>")


def test_label_strength_becomes_the_margin(tmp_path):
    pairs = sum_pairs(6)
    pairs[0]["meta"] = {"strength": 1.0, "votes": 3, "agreement": 1.0}
    pairs[1]["meta"] = {"strength": 2.0, "votes": 2, "agreement": 1.0}
    pairs[2]["meta"] = {"strength": 1.5}
    data = write_jsonl(tmp_path / "labelled.jsonl", pairs)

    prepared, trainer = build_rm_trainer(RMOptions(data=data, output=tmp_path / "rm",
                                                   eval_split=0, margin_scale=0.5,
                                                   center_rewards_coefficient=0.05))
    margins = sorted(row["margin"] for row in trainer.train_dataset)
    assert margins == [0.0, 0.0, 0.0, 0.5, 0.75, 1.0]
    assert trainer.args.center_rewards_coefficient == 0.05
    assert prepared.data.extra["pairs_with_strength"] == 3

    _, plain = build_rm_trainer(RMOptions(data=tmp_path / "labelled.jsonl",
                                          output=tmp_path / "rm0", eval_split=0, margin_scale=0))
    assert "margin" not in plain.train_dataset.column_names
