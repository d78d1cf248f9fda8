"""`train sft`: the assistant-only mask, learning, saving, gradient accumulation, packing, LoRA,
resume."""

from __future__ import annotations

import json
import re

import pytest
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from tests.train.conftest import assistant, user, write_jsonl
from train.options import SFTOptions
from train.sft import build_sft_trainer, train_sft


def trained_text(trainer, index: int) -> list[str]:
    """The decoded runs of tokens that carry loss in example `index` of the training set."""
    batch = trainer.data_collator([trainer.train_dataset[index]])
    labels, ids = batch["labels"][0], batch["input_ids"][0]
    spans, current = [], []
    for token, label in zip(ids.tolist(), labels.tolist(), strict=True):
        if label != -100:
            current.append(token)
        elif current:
            spans.append(current)
            current = []
    if current:
        spans.append(current)
    return [trainer.processing_class.decode(span) for span in spans]


def test_mask_trains_exactly_the_assistant_turns_and_their_end_of_turn_token(tmp_path):
    data = write_jsonl(tmp_path / "chat.jsonl", [{"id": "a", "messages": [
        {"role": "system", "content": "Be brief."}, user("Hi there"),
        assistant("Hello! How can I help?"), user("What is 2 plus 2?"), assistant("It is 4.")]}])
    _, trainer = build_sft_trainer(SFTOptions(data=data, output=tmp_path / "run", eval_split=0))

    assert trained_text(trainer, 0) == ["Hello! How can I help?<|im_end|>", "It is 4.<|im_end|>"]


def test_prompt_completion_records_train_only_the_completion(tmp_path):
    data = write_jsonl(tmp_path / "pc.jsonl", [
        {"id": "1", "prompt": "Name a colour.", "completion": "Blue."},
        {"id": "2", "prompt": [user("Hi")], "completion": [assistant("Hello there.")]}])
    _, trainer = build_sft_trainer(SFTOptions(data=data, output=tmp_path / "run", eval_split=0))

    texts = {tuple(trained_text(trainer, i)) for i in range(2)}
    assert texts == {("Blue.<|im_end|>",), ("Hello there.<|im_end|>",)}


def test_training_lowers_the_loss_and_the_model_saves_reloads_and_generates(toy_dir, tmp_path):
    run = tmp_path / "sft"
    summary = train_sft(SFTOptions(data=toy_dir / "sums.jsonl", output=run, max_steps=60,
                                   batch_size=16))

    assert summary["last_loss"] < 0.4 * summary["first_loss"]
    assert summary["eval"]["loss"] < 0.4 * summary["first_loss"]
    assert summary["tokens_per_s"] > 0 and summary["wall_s"] > 0
    for artifact in ("config.yaml", "metrics.jsonl", "summary.json", "loss.png"):
        assert (run / artifact).stat().st_size > 0
    tokenizer = AutoTokenizer.from_pretrained(run)
    model = AutoModelForCausalLM.from_pretrained(run)
    answers = {}
    for a in range(3):
        for b in range(3):
            prompt = tokenizer.apply_chat_template([user(f"What is {a} plus {b}?")],
                                                   add_generation_prompt=True,
                                                   return_tensors="pt", return_dict=True)
            output = model.generate(**prompt, max_new_tokens=12, do_sample=False)
            answers[a, b] = tokenizer.decode(output[0, prompt["input_ids"].shape[1]:])
    # every answer has the trained form and stops; most sums are right (chance: 1 in 5 each)
    assert all(re.fullmatch(r"It is \d\.<\|im_end\|>", answer) for answer in answers.values())
    right = [key for key, answer in answers.items() if answer == f"It is {sum(key)}.<|im_end|>"]
    assert len(right) >= 5, answers


def test_gradient_accumulation_gives_the_same_loss_curve(toy_dir, tmp_path):
    losses = []
    for batch_size, grad_accum in ((4, 1), (1, 4)):
        run = tmp_path / f"b{batch_size}"
        train_sft(SFTOptions(data=toy_dir / "sft.jsonl", output=run, max_steps=6,
                             batch_size=batch_size, grad_accum=grad_accum, eval_split=0))
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        losses.append([round(row["loss"], 4) for row in rows if "loss" in row])

    assert len(losses[0]) == 6
    assert losses[0] == losses[1]


def test_packing_trains_on_the_same_tokens_in_fewer_rows(toy_dir, tmp_path):
    unpacked = train_sft(SFTOptions(data=toy_dir / "sft.jsonl", output=tmp_path / "plain",
                                    epochs=1, batch_size=8, eval_split=0, max_length=256))
    packed = train_sft(SFTOptions(data=toy_dir / "sft.jsonl", output=tmp_path / "packed",
                                  epochs=1, batch_size=8, eval_split=0, max_length=256,
                                  packing=True))

    assert packed["num_tokens"] == unpacked["num_tokens"]
    assert packed["steps"] <= unpacked["steps"] / 4


def test_packed_sequences_do_not_attend_to_each_other(toy_dir, tmp_path):
    _, trainer = build_sft_trainer(SFTOptions(data=toy_dir / "sft.jsonl", output=tmp_path / "run",
                                              eval_split=0, max_length=256, packing=True))
    row = trainer.data_collator([trainer.train_dataset[0]])
    starts = (row["position_ids"][0] == 0).nonzero().flatten().tolist()
    assert len(starts) > 2
    first, second = starts[1], starts[2]
    model = trainer.model.eval()
    with torch.no_grad():
        packed = model(input_ids=row["input_ids"], position_ids=row["position_ids"]).logits
        alone = model(input_ids=row["input_ids"][:, first:second]).logits
    torch.testing.assert_close(packed[:, first:second], alone, atol=1e-4, rtol=1e-4)


def test_lora_saves_the_adapter_and_a_merged_model(toy_dir, tmp_path):
    run = tmp_path / "lora"
    summary = train_sft(SFTOptions(data=toy_dir / "sft.jsonl", output=run, max_steps=5,
                                   lora="r=4,alpha=8", eval_split=0))

    assert summary["trainable_parameters"] < summary["parameters"] / 5
    assert (run / "adapter" / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(run)
    base = AutoModelForCausalLM.from_pretrained(run / "base_model")
    changed = [name for name, weight in merged.state_dict().items()
               if not torch.equal(weight, base.state_dict()[name])]
    assert changed and all("proj" in name for name in changed)


def test_resume_continues_the_same_curve(toy_dir, tmp_path):
    common = {"data": toy_dir / "sft.jsonl", "batch_size": 4, "eval_split": 0,
              "lr_scheduler": "constant", "save_steps": 3}
    train_sft(SFTOptions(output=tmp_path / "whole", max_steps=6, **common))
    train_sft(SFTOptions(output=tmp_path / "split", max_steps=3, **common))
    summary = train_sft(SFTOptions(output=tmp_path / "split", max_steps=6, resume=True, **common))

    def curve(run):
        rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
        return [(row["step"], round(row["loss"], 4)) for row in rows if "loss" in row]

    assert summary["steps"] == 6
    assert curve(tmp_path / "split") == curve(tmp_path / "whole")


def test_an_existing_run_needs_resume_or_overwrite(toy_dir, tmp_path):
    options = {"data": toy_dir / "sft.jsonl", "max_steps": 1, "eval_split": 0}
    train_sft(SFTOptions(output=tmp_path / "run", **options))
    with pytest.raises(ValueError, match="--resume .* or --overwrite"):
        train_sft(SFTOptions(output=tmp_path / "run", **options))
    assert train_sft(SFTOptions(output=tmp_path / "run", overwrite=True, **options))["steps"] == 1


def test_learning_rate_warms_up_then_follows_the_schedule(toy_dir, tmp_path):
    run = tmp_path / "cosine"
    train_sft(SFTOptions(data=toy_dir / "sums.jsonl", output=run, max_steps=6, batch_size=2,
                         lr=1e-3, lr_scheduler="cosine", warmup_ratio=0.5, eval_split=0))
    rates = [row["learning_rate"] for row in
             map(json.loads, (run / "metrics.jsonl").read_text().splitlines())
             if "learning_rate" in row]

    # (each step logs the rate it trained with) 3 warm-up steps from 0, the peak, then a
    # cosine decay towards 0
    assert rates[:4] == pytest.approx([0.0, 1e-3 / 3, 2e-3 / 3, 1e-3])
    assert rates[3] > rates[4] > rates[5] > 0


def test_tokenising_once_trains_what_trl_tokenising_itself_trains(toy_dir, tmp_path):
    """`train sft` hands TRL tokenised rows (its length check already tokenised them); the
    loss curve is the one TRL gives when it tokenises the conversations itself."""
    from datasets import Dataset
    from transformers import PrinterCallback
    from trl import SFTTrainer

    prepared, trainer = build_sft_trainer(SFTOptions(
        data=toy_dir / "sft.jsonl", output=tmp_path / "ours", max_steps=5, batch_size=4,
        eval_split=0))
    ours = trainer.train()
    rows = [json.loads(line) for line in (toy_dir / "sft.jsonl").read_text().splitlines()]
    config = trainer.args
    config.output_dir = str(tmp_path / "trl")
    config.assistant_only_loss = True
    peer = SFTTrainer(model=prepared.model_source, args=config,
                      train_dataset=Dataset.from_list([{"messages": r["messages"]} for r in rows]),
                      processing_class=prepared.tokenizer)
    peer.remove_callback(PrinterCallback)
    theirs = peer.train()

    def losses(t):
        return [round(row["loss"], 5) for row in t.state.log_history if "loss" in row]

    assert losses(trainer) == losses(peer) and len(losses(peer)) == 5
    assert ours.metrics["train_loss"] == pytest.approx(theirs.metrics["train_loss"])


def test_conversations_measured_in_a_batch_are_tokenised_as_one_by_one():
    """The batched path (one template-and-tokenizer call) gives the ids and assistant masks
    of the per-record path: English, Chinese, emoji, an empty assistant turn, two turns."""
    from train.sft import measure, measure_many
    from train.tiny import build_tiny_tokenizer

    tokenizer = build_tiny_tokenizer(["What is two plus two? Four.", "量子纠缠是一种量子现象。"] * 50,
                                     vocab_size=600)
    rows = [{"messages": [user("What is 2 + 2?"), assistant("Four.")]},
            {"messages": [user("请解释量子纠缠。"), assistant("量子纠缠是……")]},
            {"messages": [user("🙂"), assistant("")]},
            {"messages": [user("a"), assistant("b"), user("c"), assistant("d")]}]
    for assistant_only in (True, False):
        many = measure_many(tokenizer, rows, assistant_only)
        one = [measure(tokenizer, row, assistant_only) for row in rows]
        assert [(m.prompt, m.total, m.row) for m in many] == \
            [(m.prompt, m.total, m.row) for m in one]
    assert many[0].prompt < many[0].total
