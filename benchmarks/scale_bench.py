"""Curation at scale: a web-text recipe on 1M, 3M and 10M generated documents, locally and on
Ray, with dedup precision and recall at every size; and the same recipe against datatrove's
pipeline (reader, Gopher filters, four-stage MinHash dedup, writer) on a slice, same run.

    python benchmarks/scale_bench.py --sizes 1000000,3000000,10000000
    python benchmarks/scale_bench.py --sizes 100000 --peer 20000       # a quick look

The recipe: read -> score (counts, Gopher quality and repetition) -> filter (web-gopher) ->
dedup (MinHash, exact Jaccard verification) -> write, on shards of zstd JSON Lines. Each
engine runs as one `curate run` command with 2 CPUs (`--workers 2`; `--engine ray`, Ray
started by the command with this machine's 2 CPUs). A sampler records the peak RSS of the
driver and of every worker process (the command's descendants, and Ray's `ray::` workers).

The corpus: documents made of real sentences from ../shared/data (every prompt and answer),
lengths log-normal with a median of 1.5 kB; one in ten is a copy of an earlier document with
words replaced at a rate chosen to hit a target Jaccard (0.95, 0.9, 0.85: duplicates; 0.7,
0.6: not). The true word-5-gram Jaccard of every copy with its family is computed when it is
made, so precision and recall are exact at every size: a removal is right when the document
has a partner at J >= 0.8 that survived to dedup; recall counts the removals the true
J >= 0.8 components require (size - 1 each) among documents that reached dedup.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
WORK = Path(os.environ.get("SCALE_WORK", "/tmp/prefkit-scale"))
SHARD_DOCS = 100_000
THRESHOLD, NGRAM = 0.8, 5
TARGETS = (0.95, 0.9, 0.85, 0.7, 0.6)
_WORD = re.compile(r"[^\W_]+")
RECIPE = """
name: web_scale
on_error: skip
steps:
  - read: {path: %(input)s}
  - score: {field: text, signals: [counts, gopher_quality, gopher_repetition]}
  - filter: {field: text, preset: web-gopher, report: false}
  - dedup: {field: text, method: both, threshold: 0.8}
  - write: {path: clean.jsonl.zst/}
"""


# --- the corpus ---------------------------------------------------------------------------------

def sentences() -> list[str]:
    """Every prose sentence of the prompt and answer texts in ../shared/data (math sets, whose
    sentences are mostly numbers and LaTeX, are left out: web text is prose)."""
    sys.path.insert(0, str(ROOT))
    from curate.io import read_records

    texts: list[str] = []
    for path in sorted(DATA.rglob("*.json*")):
        if path.name.startswith(("gsm8k", "math500", "aime")):
            continue
        try:
            for record in read_records(str(path)):
                for value in record.values():
                    if isinstance(value, str) and len(value) > 40:
                        texts.append(value)
        except ValueError:
            continue
    out = []
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            words = sentence.split()
            if 30 <= len(sentence) <= 400 and \
                    sum(any(c.isalpha() for c in w) for w in words) >= 0.9 * len(words):
                out.append(sentence.strip())
    return sorted(set(out))


def shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    if len(words) < NGRAM:
        return {tuple(words)} if words else set()
    return {tuple(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def edited(text: str, rate: float, rng: random.Random, vocabulary: list[str]) -> str:
    words = text.split(" ")
    return " ".join(rng.choice(vocabulary) if rng.random() < rate else w for w in words)


def generate(count: int, folder: Path, seed: int = 0, processes: int = 2) -> dict:
    """`count` documents in shards of zstd JSON Lines (100k each, made in parallel, each from
    its own seed: copies come from the same shard's recent past, as in a crawl), and the
    truth about every copy."""
    from multiprocessing import Pool

    folder.mkdir(parents=True, exist_ok=True)
    shards = [(shard, shard * SHARD_DOCS, min(count, (shard + 1) * SHARD_DOCS), seed, str(folder))
              for shard in range(math.ceil(count / SHARD_DOCS))]
    with Pool(processes) as pool:
        parts = pool.map(_generate_shard, shards)
    truth = {"documents": count, "bytes": sum(p["bytes"] for p in parts),
             "copies": sum(p["copies"] for p in parts),
             "pairs": [pair for p in parts for pair in p["pairs"]]}
    (folder.parent / "truth.json").write_text(json.dumps(truth))
    return truth


_POOL: list[str] = []


def _generate_shard(job: tuple[int, int, int, int, str]) -> dict:
    import zstandard

    shard, first, stop, seed, folder = job
    if not _POOL:
        _POOL.extend(sentences())
    pool = _POOL
    vocabulary = sorted({w for s in pool[:20000] for w in s.split(" ") if w.isalpha()})
    rng = random.Random(f"{seed}:{shard}")
    families: dict[int, list[int]] = defaultdict(list)  # base -> its copies
    shingled: dict[int, set] = {}  # shingles of recent documents, made when first needed
    texts_of: dict[int, str] = {}
    recent: list[int] = []
    pairs, copies, size, lines = [], 0, 0, []
    for doc in range(first, stop):
        if recent and rng.random() < 0.1:
            base = rng.choice(recent)
            text = edited(texts_of[base], _rate_for(rng.choice(TARGETS)), rng, vocabulary)
            mine = shingled[doc] = shingles(text)
            for other in [base, *families[base]]:
                if other not in shingled:
                    shingled[other] = shingles(texts_of[other])
                pairs.append((doc, other, round(jaccard(mine, shingled[other]), 4)))
            families[base].append(doc)
            texts_of[doc] = text
            copies += 1
        else:
            length = min(20000, rng.lognormvariate(math.log(1500), 0.6))
            parts, total = [], 0
            while total < length:
                part = rng.choice(pool)
                parts.append(part)
                total += len(part) + 1
            text = texts_of[doc] = " ".join(parts)
            recent.append(doc)
            if len(recent) > 5000:
                forgotten = recent.pop(0)
                for old in [forgotten, *families.pop(forgotten, [])]:
                    texts_of.pop(old, None)
                    shingled.pop(old, None)
        line = json.dumps({"id": doc, "text": text}, ensure_ascii=False) + "\n"
        lines.append(line)
        size += len(line.encode())
    data = "".join(lines).encode()
    (Path(folder) / f"part-{shard:05d}.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor(level=3).compress(data))
    return {"bytes": size, "copies": copies, "pairs": pairs}


def _rate_for(target: float) -> float:
    """Word replacement rate giving about `target` word-5-gram Jaccard: a replaced word breaks
    the 5 shingles over it, so J ~ (1 - r)^5 / (2 - (1 - r)^5)."""
    keep = (2 * target / (1 + target)) ** (1 / NGRAM)
    return 1 - keep


# --- measuring a command -------------------------------------------------------------------------

class Sampler:
    """Peak RSS of a process tree and of Ray's worker processes, sampled every 0.5 s."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.psutil, self.root = psutil, psutil.Process(pid)
        self.peaks: dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peaks["driver"] = max(self.peaks["driver"], self.root.memory_info().rss)
                workers = self.root.children(recursive=True)
                workers += [p for p in self.psutil.process_iter(["name"])
                            if (p.info["name"] or "").startswith("ray::")]
                for process in workers:
                    try:
                        rss = process.memory_info().rss
                    except self.psutil.Error:
                        continue
                    key = f"worker {process.pid}"
                    self.peaks[key] = max(self.peaks[key], rss)
            except self.psutil.Error:
                pass
            time.sleep(0.5)

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        return dict(self.peaks)


def run_command(command: list[str], log: Path, env: dict[str, str] | None = None) -> dict:
    """Run a command, its progress lines to `log` (to follow a run of hours as it goes)."""
    started = time.perf_counter()
    with open(log, "w") as handle:
        process = subprocess.Popen(command, env={**os.environ, **(env or {}),
                                                 "PYTHONPATH": str(ROOT)},
                                   stdout=subprocess.DEVNULL, stderr=handle)
        sampler = Sampler(process.pid)
        process.wait()
    peaks = sampler.stop()
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{log.read_text()[-3000:]}")
    workers = [v for k, v in peaks.items() if k.startswith("worker")]
    return {"seconds": time.perf_counter() - started, "driver_rss": peaks.get("driver", 0),
            "worker_rss_max": max(workers, default=0), "workers_seen": len(workers)}


# --- accuracy --------------------------------------------------------------------------------------

def accuracy(run_dir: Path, truth: dict) -> dict:
    """Dedup precision and recall among the documents that reached dedup."""
    sys.path.insert(0, str(ROOT))
    from curate.io import read_records

    removed = {line["record"]["id"] for line in read_records(str(run_dir / "04_dedup" / "out.removed"))}
    filtered = {line["record"]["id"] for line in read_records(str(run_dir / "03_filter" / "out.removed"))}
    edges = [(a, b) for a, b, j in truth["pairs"] if j >= THRESHOLD and a not in filtered
             and b not in filtered]
    near = {(a, b) for a, b, j in truth["pairs"] if j >= 0.7}
    partner: dict[int, set[int]] = defaultdict(set)
    for a, b in near:
        partner[a].add(b)
        partner[b].add(a)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    groups: dict[int, int] = defaultdict(int)
    for node in parent:
        groups[find(node)] += 1
    needed = sum(size - 1 for size in groups.values())
    made = sum(1 for doc in removed if doc in parent)
    correct = sum(1 for doc in removed if partner.get(doc))
    return {"removed": len(removed), "precision": correct / len(removed) if removed else 1.0,
            "recall": min(made, needed) / needed if needed else 1.0}


# --- the peer ----------------------------------------------------------------------------------------

DATATROVE = """
import sys
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.dedup import MinhashDedupSignature
from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets,
                                              MinhashDedupCluster, MinhashDedupFilter)
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.writers import JsonlWriter

source, work = sys.argv[1:]
config = MinhashConfig(n_grams=5, num_buckets=14, hashes_per_bucket=8)
def run(pipeline, tasks):
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=2,
                          logging_dir=f"{work}/logs/{len(pipeline)}-{tasks}-{id(pipeline)}").run()
run([JsonlReader(source), GopherQualityFilter(), GopherRepetitionFilter(),
     JsonlWriter(f"{work}/filtered")], 2)
run([JsonlReader(f"{work}/filtered"), MinhashDedupSignature(f"{work}/sigs", config=config)], 2)
run([MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=config)], config.num_buckets)
run([MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=config)], 1)
run([JsonlReader(f"{work}/filtered"), MinhashDedupFilter(f"{work}/remove"),
     JsonlWriter(f"{work}/out")], 2)
"""


def peer(count: int, corpus: Path) -> None:
    """The recipe against datatrove's equivalent pipeline on the first `count` documents."""
    folder = WORK / f"peer-{count}"
    shutil.rmtree(folder, ignore_errors=True)
    source = folder / "in"
    source.mkdir(parents=True)
    sys.path.insert(0, str(ROOT))
    from curate.io import read_records

    with open(source / "docs.jsonl", "w") as handle:
        for number, record in enumerate(read_records(str(corpus))):
            if number >= count:
                break
            handle.write(json.dumps({"id": str(record["id"]), "text": record["text"]},
                                    ensure_ascii=False) + "\n")
    megabytes = (source / "docs.jsonl").stat().st_size / 1e6
    script = folder / "datatrove_pipeline.py"
    script.write_text(DATATROVE)
    recipe = folder / "recipe.yaml"
    recipe.write_text(RECIPE % {"input": source})
    ours = run_command([sys.executable, "-m", "curate.cli", "run", str(recipe), "-o",
                        str(folder / "run"), "--workers", "2"], folder / "ours.log")
    theirs = run_command([sys.executable, str(script), str(source), str(folder / "dt")],
                         folder / "datatrove.log")
    print(f"\npeer, {count:,} documents ({megabytes:.0f} MB), 2 CPUs each, whole commands:")
    for label, result in (("prefkit curate run (--workers 2)", ours),
                          ("datatrove LocalPipelineExecutor (workers=2)", theirs)):
        print(f"  {label:45s} {result['seconds']:8.1f} s {count / result['seconds']:9,.0f} docs/s "
              f"{megabytes / result['seconds']:7.2f} MB/s")
    print(f"  speed ratio prefkit / datatrove: {theirs['seconds'] / ours['seconds']:.1f}x (wall)")
    shutil.rmtree(folder, ignore_errors=True)


# --- the runs -------------------------------------------------------------------------------------

def run_size(count: int, engines: list[str], results: list[dict]) -> None:
    """Run the recipe on `count` documents with each engine, adding each run's figures to
    `results` and to WORK/results.json as soon as it ends (a run of hours may be cut short)."""
    corpus = WORK / f"corpus-{count}" / "in"
    if not (corpus.parent / "truth.json").exists():
        begun = time.perf_counter()
        generate(count, corpus)
        print(f"generated {count:,} documents in {time.perf_counter() - begun:.0f} s")
    truth = json.loads((corpus.parent / "truth.json").read_text())
    megabytes = truth["bytes"] / 1e6
    for engine in engines:
        run_dir = WORK / f"run-{count}-{engine}"
        shutil.rmtree(run_dir, ignore_errors=True)
        recipe = WORK / f"recipe-{count}.yaml"
        recipe.write_text(RECIPE % {"input": corpus})
        command = [sys.executable, "-m", "curate.cli", "run", str(recipe), "-o", str(run_dir),
                   "--workers", "2", "--engine", engine]
        result = run_command(command, WORK / f"run-{count}-{engine}.log")
        result.update(accuracy(run_dir, truth), engine=engine, documents=count,
                      megabytes=megabytes, steps=json.loads((run_dir / "run.json").read_text())["steps"])
        results.append(result)
        (WORK / "results.json").write_text(json.dumps(results, indent=1))
        print(f"{count:>11,} {engine:6s} {result['seconds']:9.1f} s {count / result['seconds']:9,.0f} "
              f"docs/s {megabytes / result['seconds']:7.2f} MB/s  driver {result['driver_rss'] / 1e9:5.2f} GB"
              f"  worker max {result['worker_rss_max'] / 1e9:5.2f} GB  precision "
              f"{result['precision']:.4f} recall {result['recall']:.4f}", flush=True)
        shutil.rmtree(run_dir, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,3000000,10000000")
    parser.add_argument("--engines", default="local,ray")
    parser.add_argument("--peer", type=int, default=20_000, help="documents for the datatrove "
                        "comparison (0: skip)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"machine: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; work dir {WORK}")
    print(f"{'documents':>11s} {'engine':6s} {'wall':>11s} {'':>16s}")
    results: list[dict] = []
    for count in sizes:
        run_size(count, args.engines.split(","), results)
    if args.peer:
        peer(args.peer, WORK / f"corpus-{sizes[0]}" / "in")
    by = {(r["documents"], r["engine"]): r for r in results}
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for engine in args.engines.split(","):
            if (small, engine) in by and (large, engine) in by:
                a, b = by[(small, engine)], by[(large, engine)]
                print(f"{engine}: docs/s at {large:,} / at {small:,} = "
                      f"{(large / b['seconds']) / (small / a['seconds']):.2f}; driver RSS ratio "
                      f"{b['driver_rss'] / a['driver_rss']:.2f}")
    for count in sizes:
        if (count, "local") in by and (count, "ray") in by:
            print(f"ray / local at {count:,}: "
                  f"{by[(count, 'local')]['seconds'] / by[(count, 'ray')]['seconds']:.2f}x")
    print(f"results: {WORK / 'results.json'}")


if __name__ == "__main__":
    main()
