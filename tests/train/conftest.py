"""Fixtures for the `train` tests: toy data sets (learnable in seconds) and one tiny SFT model
trained once per session and reused by the rm, dpo and ppo tests."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch

# The tiny model's matrices are too small to share across threads, and the CI machine's two
# cores are shared with other suites: one thread is faster and fairer (see train.runner).
torch.set_num_threads(1)

ANIMALS = ("cats", "dogs", "birds", "fish", "frogs", "bees", "cows", "owls")


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict:
    return {"role": "assistant", "content": text}


def sum_pairs(n: int = 240, seed: int = 0, *, largest: int = 2, ask_back: bool = False
              ) -> list[dict]:
    """Sums of two numbers in 0..`largest`: the chosen answer states the correct sum ("It is
    3."), the rejected one a wrong sum, stated ("It is 4.") or, with `ask_back`, asked back
    ("Is it 4?")."""
    rng = random.Random(seed)
    rows = []
    for index in range(n):
        a, b = rng.randint(0, largest), rng.randint(0, largest)
        wrong = a + b + rng.choice((-1, 1, 2))
        rejected = f"Is it {wrong}?" if ask_back else f"It is {wrong}."
        rows.append({"id": f"pair-{index}", "prompt": [user(f"What is {a} plus {b}?")],
                     "chosen": [assistant(f"It is {a + b}.")],
                     "rejected": [assistant(rejected)], "meta": {}})
    return rows


def statement_pairs(n: int = 240, seed: int = 0) -> list[dict]:
    """Sums of two numbers in 0..9 (100 distinct prompts), stated versus asked back. The
    preference is a form the tiny model learns from scratch in a few dozen steps, and it
    carries over to prompts held out of training (a memorised sum would not); the two answers
    are about as long, so "the longer answer wins" is near chance."""
    return sum_pairs(n, seed, largest=9, ask_back=True)


def sum_conversations(n: int = 240, seed: int = 1, filler: bool = True) -> list[dict]:
    """Sums of numbers in 0..2; with `filler`, answers start with 0-6 filler words, so the
    conversations vary in length."""
    rng = random.Random(seed)
    rows = []
    for index in range(n):
        a, b = rng.randint(0, 2), rng.randint(0, 2)
        filler = " ".join(["well"] * rng.randint(0, 6)) if filler else ""
        rows.append({"id": f"conv-{index}", "messages": [
            user(f"What is {a} plus {b}?"), assistant(f"{filler} It is {a + b}.".strip())]})
    return rows


def yes_no_conversations(n: int = 160, seed: int = 2) -> list[dict]:
    """Answers are one of four words at random: a policy to steer toward "Yes." with PPO."""
    rng = random.Random(seed)
    return [{"id": f"yn-{index}", "messages": [
        user(f"Do you like {rng.choice(ANIMALS)}?"),
        assistant(rng.choice(("Yes.", "No.", "Maybe.", "Sure.")))]} for index in range(n)]


@pytest.fixture(scope="session")
def toy_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("toys")
    write_jsonl(root / "pairs.jsonl", statement_pairs())
    write_jsonl(root / "sft.jsonl", sum_conversations())
    write_jsonl(root / "sums.jsonl", sum_conversations(filler=False))
    write_jsonl(root / "yes_no.jsonl", yes_no_conversations())
    return root


@pytest.fixture(scope="session")
def tiny_sft(toy_dir, tmp_path_factory) -> Path:
    """A tiny model SFT-trained on the yes/no toy (its answers vary, so PPO has room)."""
    from train.options import SFTOptions
    from train.sft import train_sft

    run = tmp_path_factory.mktemp("runs") / "sft_yes_no"
    train_sft(SFTOptions(data=toy_dir / "yes_no.jsonl", output=run, max_steps=40, batch_size=16,
                         eval_split=0))
    return run


def number_prompts() -> list[dict]:
    """80 distinct prompts, "Round k: say the number n." (n in 0..3), answer n."""
    return [{"id": f"r{k}-{n}", "prompt": f"Round {k}: say the number {n}.", "answer": str(n)}
            for k in range(20) for n in range(4)]


@pytest.fixture(scope="session")
def number_task(tmp_path_factory) -> tuple[Path, Path]:
    """Prompts with reference answers, and a policy SFT-trained just long enough to answer
    "It is N." and to get N right about half the time: room for RL to improve."""
    from train.options import SFTOptions
    from train.sft import train_sft

    root = tmp_path_factory.mktemp("numbers")
    rng = random.Random(0)
    conversations = []
    for index in range(320):
        n, k = rng.randint(0, 3), rng.randint(0, 19)
        conversations.append({"id": str(index), "messages": [
            user(f"Round {k}: say the number {n}."), assistant(f"It is {n}.")]})
    write_jsonl(root / "sft.jsonl", conversations)
    prompts = write_jsonl(root / "prompts.jsonl", number_prompts())
    train_sft(SFTOptions(data=root / "sft.jsonl", output=root / "sft", max_steps=45,
                         batch_size=16, lr=3e-3, eval_split=0))
    return prompts, root / "sft"
