"""Several processes: `torchrun` data parallelism on CPU (the path `accelerate launch` takes on
GPUs), and the shipped accelerate configs parse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIGS = Path(__file__).resolve().parents[2] / "train" / "configs"


def test_two_processes_train_one_model(toy_dir, tmp_path):
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "train",
         "sft", "--data", str(toy_dir / "sums.jsonl"), "-o", str(run), "--max-steps", "4",
         "--batch-size", "4", "--eval-split", "0"],
        capture_output=True, text=True, env=env, timeout=300, check=False)

    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["steps"] == 4
    # 2 processes x 4 examples per step: 4 steps cover 32 of the 240 conversations
    assert summary["epochs"] == pytest.approx(32 / 240, abs=1e-3)
    assert result.stderr.count("train sft: 240 train") == 1  # one summary line, from rank 0
    assert (run / "model.safetensors").exists() and not (run / ".final.tmp").exists()


@pytest.mark.parametrize(("name", "kind", "stage"), [
    ("multi_gpu.yaml", "MULTI_GPU", None), ("deepspeed_zero2.yaml", "DEEPSPEED", 2),
    ("deepspeed_zero3.yaml", "DEEPSPEED", 3), ("fsdp.yaml", "FSDP", None)])
def test_accelerate_configs_parse(name, kind, stage):
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CONFIGS / name))
    assert config.distributed_type.value == kind and config.mixed_precision == "bf16"
    if stage is not None:
        assert config.deepspeed_config["zero_stage"] == stage


def test_ppo_runs_in_two_processes_on_the_learning_rate_schedule_of_one(toy_dir, tiny_sft,
                                                                        tmp_path):
    """The scheduler steps once per optimizer step whatever the number of processes (a
    scheduler passed through accelerate.prepare steps once per process: with 2 processes the
    rate reached 0 halfway)."""
    from train.options import PPOOptions
    from train.ppo_run import train_ppo

    rewards = Path(__file__).parent / "rewards.py"
    common = ["--prompts", str(toy_dir / "yes_no.jsonl"), "--policy", str(tiny_sft),
              "--reward-fn", f"{rewards}:says_yes", "--max-steps", "3", "--batch-size", "4",
              "--response-length", "6", "--eval-split", "0", "--lr", "0.001"]
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "train",
         "ppo", *common, "-o", str(tmp_path / "two")],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300,
        check=False)

    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["episodes"] == 3 * 4 * 2  # both processes rolled out
    assert (tmp_path / "two" / "value_model" / "config.json").exists()
    train_ppo(PPOOptions(prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft),
                         reward_fn=f"{rewards}:says_yes", output=tmp_path / "one", max_steps=3,
                         batch_size=4, response_length=6, eval_split=0, lr=1e-3))

    def rates(run):
        return [row["lr"] for row in map(json.loads, (run / "metrics.jsonl").read_text()
                                          .splitlines()) if "lr" in row]

    # linear decay over 3 iterations x 4 PPO epochs x 1 minibatch = 12 optimizer steps,
    # logged after each iteration: 1e-3 x (1 - 4/12), (1 - 8/12), 0
    expected = [1e-3 * 2 / 3, 1e-3 / 3, 0.0]
    assert rates(tmp_path / "two") == pytest.approx(expected)
    assert rates(tmp_path / "one") == pytest.approx(expected)


@pytest.mark.parametrize("kind", ["FSDP", "DEEPSPEED"])
def test_ppo_refuses_sharded_launches_clearly(kind):
    from types import SimpleNamespace

    from accelerate.utils import DistributedType

    from train.ppo_run import check_data_parallel

    with pytest.raises(ValueError, match=f"data-parallel only, not under {kind}.*multi_gpu.yaml"):
        check_data_parallel(SimpleNamespace(distributed_type=DistributedType[kind]))
    check_data_parallel(SimpleNamespace(distributed_type=DistributedType.MULTI_GPU))


def test_lora_on_fsdp_shards_merges_the_gathered_weights(tiny_sft, tmp_path):
    """accelerate runs FSDP on GPUs only, so the gather-then-merge of `train.models` is run
    here on a LoRA model sharded with torch's FSDP2 across two CPU processes (gloo): the
    merged weights equal those of merging the unsharded model."""
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         str(Path(__file__).parent / "fsdp_merge_check.py"), str(tiny_sft),
         str(tmp_path / "result.json")],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=300,
        check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads((tmp_path / "result.json").read_text())
    assert outcome["sharded"] == ["DTensor", "DTensor"]  # each process held a shard
    assert outcome["keys_match"] and outcome["max_difference"] < 1e-6
    assert outcome["changed_by_the_adapter"] > 0
