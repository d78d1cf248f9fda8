"""The `web_text_cleaning` recipe on 100k+ documents: local engine vs Ray engine, one run.

Documents are real texts from ../shared/data (AlpacaEval answers, HH-RLHF transcripts,
GSM8K, Alpaca, MATH-500, OASST), repeated with word-level perturbations (so every copy
is a distinct document, some of them near-duplicates) and a share of exact copies. Both
engines run the same recipe on the same file; the script prints docs/s per step and per
engine, Ray's speed as a ratio of the local engine's, and checks that the two runs wrote
byte-identical data files.

    python benchmarks/pipeline_bench.py               # 100,000 documents
    python benchmarks/pipeline_bench.py --docs 20000  # a quick look

Ray is started with `ray.init(num_cpus=CPUS)` in this process, as `curate run --engine ray`
does on a single machine. On 2 cores Ray is not expected to win: the point is that it works
and that its overhead is measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from curate.recipes import load_recipe, run_recipe

FILLERS = ["also", "really", "often", "then", "indeed", "however", "still", "just"]


def real_texts() -> list[str]:
    """Every prompt and answer text of the real-data folder."""
    texts: list[str] = []
    for name in ("alpaca-7b_outputs.json", "llama-2-7b-chat-hf_outputs.json"):
        for row in json.loads((DATA / "alpaca_eval" / name).read_text()):
            texts += [row["instruction"], row["output"]]
    with gzip.open(DATA / "hh_rlhf_harmless_base_test.jsonl.gz", "rt") as handle:
        for line in handle:
            row = json.loads(line)
            texts += [row["chosen"], row["rejected"]]
    for line in (DATA / "gsm8k_train.jsonl").read_text().splitlines():
        row = json.loads(line)
        texts.append(row["question"] + "\n\n" + row["answer"])
    for row in json.loads((DATA / "alpaca_en_demo_1k.json").read_text()):
        texts.append("\n\n".join(part for part in (row["instruction"], row["input"],
                                                   row["output"]) if part))
    for line in (DATA / "math500_test.jsonl").read_text().splitlines():
        row = json.loads(line)
        texts.append(row["problem"] + "\n\n" + row["solution"])
    return [text for text in texts if text.strip()]


def corpus(count: int, seed: int = 0) -> list[dict]:
    """`count` documents: real texts, then perturbed copies (2% to 30% of words replaced or
    inserted) and 5% exact copies."""
    rng = random.Random(seed)
    texts = real_texts()
    docs = [{"id": f"doc-{i}", "text": text} for i, text in enumerate(texts[:count])]
    while len(docs) < count:
        source = rng.choice(texts)
        if rng.random() < 0.05:
            text = source
        else:
            rate = rng.uniform(0.02, 0.3)
            words = []
            for word in source.split(" "):
                draw = rng.random()
                if draw < rate / 2:
                    words.append(rng.choice(FILLERS))
                elif draw < rate:
                    words += [word, rng.choice(FILLERS)]
                else:
                    words.append(word)
            text = " ".join(words)
        docs.append({"id": f"doc-{len(docs)}", "text": text})
    return docs


def run(engine: str, data: Path, out: Path) -> tuple[float, list]:
    recipe = load_recipe(ROOT / "recipes" / "web_text_cleaning.yaml", [f"read.path={data}"])
    started = time.perf_counter()
    reports = run_recipe(recipe, out, engine=engine, quiet=True)
    return time.perf_counter() - started, reports


def data_files(run_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*.jsonl"))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--cpus", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs the real-data folder")
    import ray

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        docs = corpus(args.docs)
        data = tmp / "docs.jsonl"
        data.write_text("".join(json.dumps(doc) + "\n" for doc in docs))
        print(f"corpus: {len(docs):,} documents, {data.stat().st_size / 1e6:.0f} MB, "
              f"{os.cpu_count()} CPUs")
        local_s, local = run("local", data, tmp / "local")
        started = time.perf_counter()
        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        ray_s, on_ray = run("ray", data, tmp / "ray")
        identical = data_files(tmp / "local") == data_files(tmp / "ray")
    print(f"\n{'step':<10}{'in':>9}{'out':>9}   {'local docs/s':>13}{'ray docs/s':>12}"
          f"{'ray/local':>11}")
    for a, b in zip(local, on_ray, strict=True):
        rate_a, rate_b = a.n_in / max(a.seconds, 1e-9), b.n_in / max(b.seconds, 1e-9)
        print(f"{a.step:<10}{a.n_in:>9,}{a.n_out:>9,}   {rate_a:>13,.0f}{rate_b:>12,.0f}"
              f"{rate_b / rate_a:>10.2f}x")
    print(f"{'total':<10}{args.docs:>9,}{local[-1].n_out:>9,}   {args.docs / local_s:>13,.0f}"
          f"{args.docs / ray_s:>12,.0f}{local_s / ray_s:>10.2f}x")
    print(f"\nwall: local {local_s:.1f} s, ray {ray_s:.1f} s (+ {ray_start:.1f} s ray.init); "
          f"outputs byte-identical: {identical}")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
