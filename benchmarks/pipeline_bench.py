"""The `web_text_cleaning` recipe as a whole `curate run` command: local engine vs Ray.

Documents are real texts from ../shared/data (AlpacaEval answers, HH-RLHF transcripts,
GSM8K, Alpaca, MATH-500), repeated with word-level perturbations (so every copy is a
distinct document, some of them near-duplicates) and a share of exact copies, written once
as JSON Lines. The same command runs on that file with each engine:

    curate run recipes/web_text_cleaning.yaml -o RUN --set read.path=DOCS --engine local --workers 1
    curate run recipes/web_text_cleaning.yaml -o RUN --set read.path=DOCS --engine local --workers 2
    curate run recipes/web_text_cleaning.yaml -o RUN --set read.path=DOCS --engine ray

each as a child process from start to exit (Python start, Ray start and shutdown, reading
and writing included), interleaved over ``--repeat`` rounds, best of them kept. Wall time is
the figure; CPU time (`timed_command`: RUSAGE_CHILDREN, with Ray's daemons and workers and the
local pool's forkserver adopted and waited for) is shown beside it. The script prints docs/s
and MB/s per engine, each engine's speed as a ratio of the local engine with one worker, the
time of each step as the run reports it (per-record steps in a row run as one pass over the
data and each report that pass's time), and checks that every run wrote byte-identical data
files.

    python benchmarks/pipeline_bench.py               # 100,000 documents
    python benchmarks/pipeline_bench.py --docs 5000   # a quick look

Ray starts inside the command (``ray.init()`` on this machine, every CPU; RAY_ADDRESS is
removed from the environment so that it does not join another cluster). On 2 cores Ray is
not expected to win: the point is that it works and that its overhead is measured.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
RECIPE = ROOT / "recipes" / "web_text_cleaning.yaml"
sys.path.insert(0, str(HERE))

from timed_command import Timing, checkout_env, run

ENGINES = {"local, 1 worker": ["--engine", "local", "--workers", "1"],
           "local, 2 workers": ["--engine", "local", "--workers", "2"],
           "ray": ["--engine", "ray"]}

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


def run_command(engine: list[str], data: Path, run_dir: Path) -> Timing:
    command = [sys.executable, "-m", "curate.cli", "run", str(RECIPE), "-o", str(run_dir),
               "--set", f"read.path={data}", *engine]
    env = checkout_env(ROOT, without=("RAY_ADDRESS",))
    return run(command, log=run_dir.with_suffix(".log"), cwd=ROOT, env=env)


def data_files(run_dir: Path) -> dict[str, bytes]:
    """Every data file of a run (shards, removed records, the output), not stats or markers."""
    return {str(p.relative_to(run_dir)): p.read_bytes() for p in sorted(run_dir.rglob("*"))
            if ".jsonl" in p.name}


def steps_of(run_dir: Path) -> list[tuple[str, int, int, float]]:
    """(step, records in, records out, seconds) per step, from the run's run.json."""
    return [(step["step"], step["n_in"], step["n_out"], step["seconds"])
            for step in json.loads((run_dir / "run.json").read_text())["steps"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs per engine (best kept)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs the real-data folder")

    timings: dict[str, list[Timing]] = {name: [] for name in ENGINES}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "docs.jsonl"
        data.write_text("".join(json.dumps(doc) + "\n" for doc in corpus(args.docs)))
        megabytes = data.stat().st_size / 1e6
        print(f"corpus: {args.docs:,} documents, {megabytes:.0f} MB, {os.cpu_count()} CPUs")
        first: dict[str, Path] = {}
        for round_ in range(args.repeat):
            for index, (name, engine) in enumerate(ENGINES.items()):
                run_dir = tmp / f"{index}-{round_}"
                timings[name].append(run_command(engine, data, run_dir))
                if first.setdefault(name, run_dir) != run_dir:
                    shutil.rmtree(run_dir)  # keep one run per engine: the largest runs are GBs
        outputs = {name: data_files(run_dir) for name, run_dir in first.items()}
        identical = len({tuple(files.items()) for files in outputs.values()}) == 1
        steps = {name: steps_of(run_dir) for name, run_dir in first.items()}

    best = {name: (min(t.wall for t in runs), min(t.cpu for t in runs))
            for name, runs in timings.items()}
    one, two = best["local, 1 worker"][0], best["local, 2 workers"][0]
    print(f"\n{'engine':18}{'wall s':>8}{'CPU s':>8}{'docs/s':>9}{'MB/s':>7}"
          f"{'speed vs local 1 worker':>25}{'vs local 2 workers':>20}")
    for name, (wall, cpu) in best.items():
        print(f"{name:18}{wall:8.1f}{cpu:8.1f}{args.docs / wall:9,.0f}{megabytes / wall:7.2f}"
              f"{one / wall:24.2f}x{two / wall:19.2f}x")
    names = list(steps)
    print(f"\nstep seconds (round 1) {'in':>8}{'out':>8}" + "".join(f"{n:>18}" for n in names))
    for row in zip(*steps.values(), strict=True):
        label, n_in, n_out, _ = row[0]
        print(f"  {label:20}{n_in:>8,}{n_out:>8,}" + "".join(f"{r[3]:18.1f}" for r in row))
    print("(per-record steps in a row run as one pass over the data and each report that pass's "
          "time)")
    print(f"\nbest of {args.repeat} interleaved runs each (wall and CPU separately); data files "
          f"byte-identical across engines: {identical}; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not identical:
        sys.exit("the engines wrote different data")


if __name__ == "__main__":
    main()
