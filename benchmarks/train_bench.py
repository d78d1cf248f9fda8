"""`train` against bare TRL: wall-clock of the whole command, same work, same data and model.

Data (real, public): the 999 Alpaca demo records (`curate convert --to messages`) for SFT and
the 754 OASST preference pairs (`curate convert --to preference`) for DPO. Model: the tiny
Qwen2 built once from that text and used by both sides.

1. Overhead. Each repeat runs, as separate processes and back to back (alternating which
   goes first), `python -m train sft|dpo ...` and `python benchmarks/bare_trl.py sft|dpo
   ...`: bare TRL doing the same work as a user would script it (read the JSONL, let TRL
   tokenise, train, save the model and tokenizer) with the TRL config `train` builds.
   Measured: the wall-clock of each whole process, start to exit (imports, data, training,
   saving; for `train` also validation, the held-out split, removed.jsonl, metrics.jsonl,
   plots, the model card and summary.json). The median of the paired ratios is reported,
   since the load of a shared machine drifts between repeats. Target: at most 3% overhead
   (ratio <= 1.03). Tokens/s of the training loop (trained tokens / trainer runtime) is
   printed too.
2. Packing on length-skewed data (Alpaca: 31 to 840 tokens): `train sft` with and without
   `--packing` (the peer), tokens/s. Target: >= 1.5x.

Rates are also given per document and per MB of input. Both sides train with one torch
thread (what `train` picks for the tiny model on CPU). The load average is printed at the
start and end: run it on a quiet machine.

MFU on a GPU: see the README (tokens/s x 6 x parameters / peak FLOP/s).

    python benchmarks/train_bench.py                 # ~15 min on 2 cores
    python benchmarks/train_bench.py --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))


def convert(source: Path, out: Path, to: str) -> Path:
    from typer.testing import CliRunner

    from curate.cli import app as curate_app

    result = CliRunner().invoke(curate_app, ["convert", str(source), "-o", str(out), "--to", to])
    if result.exit_code:
        raise SystemExit(f"curate convert failed: {result.output}")
    return out


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall-clock and CPU seconds (user + system) of a whole process, and its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1",
           "PREFKIT_PROGRESS_INTERVAL": "3600"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, result.stdout


def ours(method: str, data: Path, model: Path, out: Path, args: argparse.Namespace,
         *extra: str) -> dict:
    seconds, cpu, _ = timed([
        sys.executable, "-m", "train", method, "--data", str(data), "--model", str(model),
        "-o", str(out), "--max-steps", str(getattr(args, method)), "--batch-size",
        str(args.batch_size), "--max-length", str(args.max_length), "--eval-split", "0",
        "--overwrite", *extra])
    summary = json.loads((out / "summary.json").read_text())
    return {"wall_s": seconds, "cpu_s": cpu, "tokens": summary["num_tokens"],
            "train_s": summary["train_s"]}


def bare(method: str, data: Path, model: Path, out: Path, args: argparse.Namespace) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    seconds, cpu, output = timed([
        sys.executable, str(ROOT / "benchmarks" / "bare_trl.py"), method, str(data), str(model),
        str(out), "--steps", str(getattr(args, method)), "--batch-size", str(args.batch_size),
        "--max-length", str(args.max_length)])
    report = json.loads(output.strip().splitlines()[-1])
    return {"wall_s": seconds, "cpu_s": cpu, "tokens": report["tokens"],
            "train_s": report["train_s"]}


def compare(name: str, peer: list[dict], mine: list[dict], records: int, megabytes: float
            ) -> float:
    assert {r["tokens"] for r in peer} == {r["tokens"] for r in mine}, "different token counts"
    print(f"\n{name}: {mine[0]['tokens']:,} trained tokens per run, {len(mine)} paired runs")
    for label, runs in (("bare TRL", peer), ("train   ", mine)):
        wall = statistics.median(r["wall_s"] for r in runs)
        rate = statistics.median(r["tokens"] / r["train_s"] for r in runs)
        each = ", ".join(f"{r['wall_s']:.1f}" for r in runs)
        print(f"  {label}  wall {wall:6.1f} s ({each})"
              f"  = {wall / records * 1000:.1f} s per 1k records, {wall / megabytes:.1f} s per MB"
              f";  loop {rate:,.0f} tokens/s")
    paired = [m["wall_s"] / p["wall_s"] for p, m in zip(peer, mine, strict=True)]
    ratio = statistics.median(paired)
    loop = statistics.median((m["tokens"] / m["train_s"]) / (p["tokens"] / p["train_s"])
                             for p, m in zip(peer, mine, strict=True))
    print(f"  wall-clock ratio train / bare TRL: median {ratio:.3f} "
          f"(pairs: {', '.join(f'{r:.3f}' for r in paired)}); overhead {100 * (ratio - 1):+.1f}% "
          f"(target <= +3%: {'met' if ratio <= 1.03 else 'NOT met'})")
    cpu = statistics.median(m["cpu_s"] / p["cpu_s"] for p, m in zip(peer, mine, strict=True))
    print(f"  CPU-time ratio (user + system, less sensitive to other load): median {cpu:.3f}")
    print(f"  training-loop tokens/s ratio: median {loop:.3f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sft", type=int, default=20, help="SFT steps")
    parser.add_argument("--dpo", type=int, default=8, help="DPO steps")
    parser.add_argument("--pack-steps", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=512)
    args = parser.parse_args()
    if not DATA.is_dir():
        raise SystemExit(f"{DATA}: the real-data folder is absent")
    from curate.io import Rejects
    from train.data import load_pairs, load_sft
    from train.models import build_tiny
    from train.options import TinyOptions

    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"({os.cpu_count()} CPUs)")
    work = Path(tempfile.mkdtemp(prefix="train_bench."))
    data = {"sft": convert(DATA / "alpaca_en_demo_1k.json", work / "alpaca.jsonl", "messages"),
            "dpo": convert(DATA / "oasst_en_100_trees.jsonl", work / "pairs.jsonl",
                           "preference")}
    sft, pairs = load_sft(data["sft"], Rejects()), load_pairs(data["dpo"], Rejects())
    model = build_tiny(sft.texts() + pairs.texts(), work / "tiny", TinyOptions(), seed=0)
    counts = {"sft": sft.n_in, "dpo": pairs.n_in}
    print(f"tiny model at {model}; SFT: {counts['sft']} Alpaca conversations, {args.sft} steps; "
          f"DPO: {counts['dpo']} OASST pairs, {args.dpo} steps; batch {args.batch_size}, "
          f"max length {args.max_length}")

    bare("sft", data["sft"], model, work / "warm", args)  # warm the file cache for both sides
    ratios = {}
    for method, title in (("sft", "SFT (Alpaca demo, assistant-only loss)"),
                          ("dpo", "DPO (OASST pairs, sigmoid)")):
        runs: dict[str, list[dict]] = {"bare": [], "train": []}
        for repeat in range(args.repeats):
            order = ("bare", "train") if repeat % 2 == 0 else ("train", "bare")
            for side in order:
                out = work / f"{method}_{side}"
                runs[side].append(bare(method, data[method], model, out, args) if side == "bare"
                                  else ours(method, data[method], model, out, args))
        megabytes = data[method].stat().st_size / 1e6
        ratios[method] = compare(title, runs["bare"], runs["train"], counts[method], megabytes)

    packing: dict[bool, list[float]] = {False: [], True: []}
    args.sft = args.pack_steps
    for repeat in range(3):
        for packed in (False, True) if repeat % 2 == 0 else (True, False):
            run = ours("sft", data["sft"], model, work / f"pack{packed}", args,
                       *(["--packing"] if packed else []))
            packing[packed].append(run["tokens"] / run["train_s"])
    plain, packed = (statistics.median(packing[flag]) for flag in (False, True))
    print(f"\nPacking (train sft, Alpaca lengths 31-840 tokens), median of 3 runs: no packing "
          f"{plain:,.0f} tokens/s, packing {packed:,.0f} tokens/s: speed-up {packed / plain:.2f}x "
          f"(target >= 1.5x: {'met' if packed / plain >= 1.5 else 'NOT met'})")
    print(f"\nsummary: wall-clock overhead SFT {100 * (ratios['sft'] - 1):+.1f}%, "
          f"DPO {100 * (ratios['dpo'] - 1):+.1f}%; packing {packed / plain:.2f}x")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
