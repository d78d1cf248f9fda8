"""`train` against bare TRL: the same SFT and DPO configs, same data, same model, one process.

Data (real, public): the 999 Alpaca demo records (`curate convert --to messages`) for SFT and
the 754 OASST preference pairs (`curate convert --to preference`) for DPO. Model: the tiny
Qwen2 built once from that text and used by both sides.

1. SFT and DPO, each run `--repeats` times, alternating "bare TRL" (SFTTrainer/DPOTrainer
   with the TRL config `train` builds: same batch, length, steps, learning rate, logging and
   checkpointing) and `train` (`train_sft`/`train_dpo`: data validation, template checks,
   progress bar, metrics.jsonl, plots, summary). Tokens/s = trained (non-pad) tokens /
   trainer runtime, as both trainers measure it; the median of the repeats is compared.
   Each repeat runs the two back to back (alternating which goes first), and the median of
   the paired ratios is reported: the load of a shared machine drifts between repeats.
   Target: ratio >= 0.95 (at most 5% overhead). Wall time per run (including data checks,
   model loading, saving and plots) is printed too.
2. Packing on length-skewed data (Alpaca: 31 to 840 tokens, median 175): `train sft` with
   and without `--packing` (the peer), tokens/s. Target: >= 1.5x.

Both sides run with one torch thread (what `train` picks for the tiny model on CPU).

MFU (model FLOPs utilisation), for GPU runs, from any run's summary.json:

    MFU = tokens_per_s x 6 x parameters / peak FLOP/s

6 x parameters is the forward (2N) plus backward (4N) matrix-multiply FLOPs per trained
token (attention scores are left out, as usual for short sequences); `tokens_per_s` and
`parameters` are both in summary.json; the peak is the GPU's dense bf16 figure per GPU
times the number of GPUs (A100: 312 TFLOP/s, H100 SXM: 989 TFLOP/s). For DPO, the frozen
reference model adds a forward pass, 2 x parameters per token, unless `--precompute-ref`.
This script prints the achieved model FLOP/s (6 x parameters x tokens/s) of each side; a
CPU has no meaningful peak to divide by, so it prints no MFU.

    python benchmarks/train_bench.py                  # ~12 min on 2 cores
    python benchmarks/train_bench.py --repeats 5 --sft-steps 60
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

import torch
from transformers import AutoModelForCausalLM
from typer.testing import CliRunner

from curate.cli import app as curate_app
from curate.io import Rejects
from train.data import load_pairs, load_sft
from train.dpo import train_dpo
from train.models import build_tiny, count_parameters
from train.options import DPOOptions, SFTOptions, TinyOptions
from train.runner import configure_libraries
from train.sft import train_sft


def convert(source: Path, out: Path, to: str) -> Path:
    result = CliRunner().invoke(curate_app, ["convert", str(source), "-o", str(out), "--to", to])
    if result.exit_code:
        raise SystemExit(f"curate convert failed: {result.output}")
    return out


def common_args(output: Path, steps: int, batch: int, max_length: int, lr: float) -> dict:
    """The TrainingArguments `train` passes for these options (see train.runner.trainer_args)."""
    return {"output_dir": str(output), "per_device_train_batch_size": batch,
            "per_device_eval_batch_size": batch, "gradient_accumulation_steps": 1,
            "learning_rate": lr, "max_steps": steps, "lr_scheduler_type": "linear",
            "warmup_steps": 0.0, "logging_steps": 1, "eval_strategy": "no",
            "save_strategy": "steps",
            "save_steps": 500, "save_total_limit": 2, "seed": 0, "data_seed": 0,
            "report_to": "none", "activation_checkpointing": False, "disable_tqdm": True,
            "use_cpu": True, "bf16": False, "fp16": False, "max_length": max_length}


def bare_sft(model: Path, rows: list[dict], output: Path, steps: int, batch: int,
             max_length: int, packing: bool = False) -> dict:
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    config = SFTConfig(**common_args(output, steps, batch, max_length, 1e-3),
                       assistant_only_loss=True, packing=packing)
    trainer = SFTTrainer(model=str(model), args=config, train_dataset=Dataset.from_list(rows),
                         processing_class=AutoTokenizer.from_pretrained(model))
    return measured(trainer)


def bare_dpo(model: Path, rows: list[dict], output: Path, steps: int, batch: int,
             max_length: int) -> dict:
    from datasets import Dataset
    from transformers import AutoTokenizer
    from trl import DPOConfig, DPOTrainer

    config = DPOConfig(**common_args(output, steps, batch, max_length, 5e-4), loss_type=["sigmoid"],
                       beta=0.1)
    trainer = DPOTrainer(model=str(model), args=config, train_dataset=Dataset.from_list(rows),
                         processing_class=AutoTokenizer.from_pretrained(model))
    return measured(trainer)


def measured(trainer) -> dict:
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # no log printing on the peer's side either
    started, cpu_started = time.perf_counter(), time.process_time()
    output = trainer.train()
    cpu_s = time.process_time() - cpu_started
    tokens = max(row["num_tokens"] for row in trainer.state.log_history if "num_tokens" in row)
    runtime = output.metrics["train_runtime"]
    return {"tokens_per_s": tokens / runtime, "tokens_per_cpu_s": tokens / cpu_s,
            "tokens": tokens, "train_s": runtime, "wall_s": time.perf_counter() - started}


def ours(summary: dict, started: float) -> dict:
    return {"tokens_per_s": summary["tokens_per_s"],
            "tokens_per_cpu_s": summary["num_tokens"] / summary["train_cpu_s"],
            "tokens": summary["num_tokens"], "train_s": summary["train_s"],
            "wall_s": time.perf_counter() - started}


def model_flops_per_s(tokens_per_s: float, parameters: int) -> float:
    """Achieved model FLOP/s: 6 x parameters per trained token (forward 2N + backward 4N)."""
    return 6 * parameters * tokens_per_s


def compare(name: str, peer: list[dict], mine: list[dict], parameters: int) -> float:
    """Each repeat ran both sides back to back, so their ratio is paired: the median of the
    paired ratios is what counts (the machine's load drifts between repeats). Also per
    CPU-second of the training loop (one thread: CPU time ~ wall time when the CPU is free)."""
    assert {r["tokens"] for r in peer} == {r["tokens"] for r in mine}, "different token counts"
    print(f"\n{name}: {mine[0]['tokens']:,.0f} trained tokens per run, {len(mine)} paired runs")
    ratio = 0.0
    for key, unit in (("tokens_per_s", "tokens/s"), ("tokens_per_cpu_s", "tokens/CPU-s")):
        for label, runs in (("bare TRL", peer), ("train   ", mine)):
            each = ", ".join(f"{run[key]:,.0f}" for run in runs)
            median = statistics.median(run[key] for run in runs)
            print(f"  {label}  median {median:8,.0f} {unit:13} (runs: {each})")
        paired = [m[key] / p[key] for p, m in zip(peer, mine, strict=True)]
        median_ratio = statistics.median(paired)
        print(f"  ratio train / bare TRL ({unit}): median {median_ratio:.3f} (pairs: "
              f"{', '.join(f'{r:.3f}' for r in paired)}; target >= 0.95: "
              f"{'met' if median_ratio >= 0.95 else 'NOT met'})")
        ratio = ratio or median_ratio
    flops = [model_flops_per_s(statistics.median(run["tokens_per_s"] for run in runs),
                               parameters) for runs in (peer, mine)]
    print(f"  model FLOP/s (6 x {parameters:,} params x tokens/s): bare TRL "
          f"{flops[0] / 1e9:.2f} GFLOP/s, train {flops[1] / 1e9:.2f} GFLOP/s")
    wall = [statistics.median(run["wall_s"] for run in runs) for runs in (peer, mine)]
    print(f"  wall per run, data checks to saved model: bare TRL {wall[0]:.1f}s, "
          f"train {wall[1]:.1f}s")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--sft-steps", type=int, default=20)
    parser.add_argument("--dpo-steps", type=int, default=8)
    parser.add_argument("--pack-steps", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args()
    configure_libraries()
    torch.set_num_threads(1)
    work = Path(tempfile.mkdtemp(prefix="train_bench."))
    sft_data = convert(DATA / "alpaca_en_demo_1k.json", work / "alpaca.jsonl", "messages")
    pair_data = convert(DATA / "oasst_en_100_trees.jsonl", work / "pairs.jsonl", "preference")
    sft = load_sft(sft_data, Rejects())
    pairs = load_pairs(pair_data, Rejects())
    model = build_tiny(sft.texts() + pairs.texts(), work / "tiny", TinyOptions(), seed=0)
    parameters = count_parameters(AutoModelForCausalLM.from_pretrained(model))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread, tiny model at {model}; "
          f"SFT: {len(sft.examples)} Alpaca conversations, {args.sft_steps} steps; DPO: "
          f"{len(pairs.examples)} OASST pairs, {args.dpo_steps} steps; batch {args.batch_size}, "
          f"max length {args.max_length}")

    sft_rows = sft.rows()
    pair_rows = [{k: r[k] for k in ("prompt", "chosen", "rejected")} for r in pairs.rows()]
    shared = {"model": str(model), "batch_size": args.batch_size, "max_length": args.max_length,
              "eval_split": 0, "overwrite": True}

    def run_bare_sft(repeat: int) -> dict:
        return bare_sft(model, sft_rows, work / f"bare_sft{repeat}", args.sft_steps,
                        args.batch_size, args.max_length)

    def run_sft(repeat: int) -> dict:
        started = time.perf_counter()
        return ours(train_sft(SFTOptions(data=sft_data, output=work / "sft",
                                         max_steps=args.sft_steps, **shared)), started)

    def run_bare_dpo(repeat: int) -> dict:
        return bare_dpo(model, pair_rows, work / f"bare_dpo{repeat}", args.dpo_steps,
                        args.batch_size, args.max_length)

    def run_dpo(repeat: int) -> dict:
        started = time.perf_counter()
        return ours(train_dpo(DPOOptions(data=pair_data, output=work / "dpo",
                                         max_steps=args.dpo_steps, **shared)), started)

    run_bare_sft(-1)  # warm-up: the first trainer of a process pays one-time costs
    results: dict[str, list[dict]] = {key: [] for key in ("bare_sft", "sft", "bare_dpo", "dpo")}
    runners = {"bare_sft": run_bare_sft, "sft": run_sft, "bare_dpo": run_bare_dpo,
               "dpo": run_dpo}
    for repeat in range(args.repeats):
        for pair in (("bare_sft", "sft"), ("bare_dpo", "dpo")):
            for key in pair if repeat % 2 == 0 else pair[::-1]:  # alternate who goes first
                results[key].append(runners[key](repeat))

    sft_ratio = compare("SFT (Alpaca demo, assistant-only loss)", results["bare_sft"],
                        results["sft"], parameters)
    dpo_ratio = compare("DPO (OASST pairs, sigmoid)", results["bare_dpo"], results["dpo"],
                        parameters)

    packing = {False: [], True: []}
    for repeat in range(3):
        for packed in (False, True) if repeat % 2 == 0 else (True, False):
            started = time.perf_counter()
            packing[packed].append(ours(train_sft(SFTOptions(
                data=sft_data, output=work / f"pack{packed}", max_steps=args.pack_steps,
                packing=packed, **shared)), started))
    print(f"\nPacking (train sft, Alpaca lengths 31-840 tokens, batch {args.batch_size}, "
          f"max length {args.max_length}), median of 3 runs:")
    speedups = {}
    for key, unit in (("tokens_per_s", "tokens/s"), ("tokens_per_cpu_s", "tokens/CPU-s")):
        plain = statistics.median(r[key] for r in packing[False])
        packed = statistics.median(r[key] for r in packing[True])
        speedups[key] = packed / plain
        print(f"  no packing {plain:10,.0f} {unit}, packing {packed:10,.0f} {unit}: speed-up "
              f"{packed / plain:.2f}x  (target >= 1.5x: "
              f"{'met' if packed / plain >= 1.5 else 'NOT met'})")
    packed_speedup = speedups["tokens_per_s"]
    print(f"\nsummary (tokens/s): SFT ratio {sft_ratio:.3f}, DPO ratio {dpo_ratio:.3f}, "
          f"packing {packed_speedup:.2f}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
