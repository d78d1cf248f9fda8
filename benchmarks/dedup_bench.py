"""Near-duplicate removal, whole commands from file to file: prefkit vs datasketch and rensa.

The corpus is every prompt and answer text in ../shared/data (GSM8K, HH-RLHF transcripts,
AlpacaEval outputs, Alpaca, MATH-500, OASST, ...), about 28k real documents, plus
near-duplicates injected at controlled word-edit rates so that their true Jaccard with
their source spreads over 0.5 .. 1.0, plus copies differing only in case, spacing and
punctuation. It is written once as JSON Lines (``{"id", "text"}``); every contender reads
that file and writes the records it keeps, at threshold 0.8 with 128 permutations:

* datasketch 2.0 and rensa 0.5 as whole scripts on their fastest documented paths
  (`dedup_peers.py`: ``MinHash.generator`` + ``MinHashLSH``; rensa's digest matrix +
  ``query_duplicate_flags_matrix_one_shot``), including Python start, JSON reading,
  shingling and writing;
* prefkit as the whole ``curate dedup IN -o OUT --field text`` command, ``--workers 1`` and
  ``--workers 2``.

Each contender is a child process. Wall time runs until it exits; CPU time is the change in
``getrusage(RUSAGE_CHILDREN)``, which counts the forkserver workers of ``--workers 2`` too
(they are grandchildren: `timed_command` adopts and waits for them). Rounds are interleaved
(every contender once, then again) and the best of ``--repeat`` is kept, so a burst of load on
a shared machine hits every contender alike. docs/s and MB/s (of the input file) are wall
figures; the ratios prefkit/peer are the same for both, since the input is the same. Each
contender also runs on the first 100 documents ("start": process start, imports, exit), the
fixed cost that every ratio includes.

The exact ground truth (every pair with word-5-gram Jaccard >= 0.7, on prefkit's normalised
words) comes from an exact prefix-filter similarity join. The peers split lower-cased text
into runs of letters and digits themselves; the share of documents where that gives the same
words as prefkit's normalisation is printed. Precision is the share of removed documents
with a true partner at J >= 0.7; recall is the share of the minimal necessary removals at
J >= 0.8 (per connected component of the true J >= 0.8 graph, its size minus one) that were
made; "lost" counts groups of true near-duplicates (J >= 0.7) of which nothing was kept.

    python benchmarks/dedup_bench.py                   # the full corpus (~35k documents)
    python benchmarks/dedup_bench.py --limit 3000      # a quick look
    python benchmarks/dedup_bench.py --memory 1000000  # peak RSS of 1M short documents

rensa is a benchmark-only peer: ``pip install -e '.[bench]'``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

from dedup_peers import WORD
from timed_command import SUBREAPER, Timing, checkout_env, peak_rss_mb, run

from curate.dedup.shingling import word_lists
from curate.io import read_records

THRESHOLD, NUM_PERM, NGRAM = 0.8, 128, 5
PARTNER = 0.7  # precision: a removed document needs a true partner at this Jaccard


# -- corpus -------------------------------------------------------------------------------

def real_texts() -> list[str]:
    """Every prompt and answer text in ../shared/data."""
    def rows(name: str) -> list[dict]:
        return list(read_records(DATA / name))

    texts: list[str] = []
    texts += [t for r in rows("gsm8k_train.jsonl") for t in (r["question"], r["answer"])]
    texts += [t for r in rows("hh_rlhf_harmless_base_test.jsonl.gz")
              for t in (r["chosen"], r["rejected"])]
    for name in ("alpaca-7b_outputs.json", "llama-2-7b-chat-hf_outputs.json"):
        texts += [t for r in rows(f"alpaca_eval/{name}") for t in (r["instruction"], r["output"])]
    annotations = "alpaca_eval/llama-2-7b-chat-hf_vs_davinci003_gpt4_annotations.json"
    texts += [r["output_1"] for r in rows(annotations)]
    texts += [t for r in rows("alpaca_en_demo_1k.json") for t in (r["instruction"], r["output"])]
    for name in ("math500_test.jsonl", "aime24_test.jsonl"):
        texts += [t for r in rows(name) for t in (r["problem"], r.get("solution") or "")]
    texts += [r["text"] for r in rows("oasst_en_100_messages.jsonl")]
    for r in rows("dpo_en_demo_300.json"):
        texts += [turn["value"] for turn in r["conversations"]]
        texts += [r["chosen"]["value"], r["rejected"]["value"]]
    words = word_lists(texts).list.len().to_list()
    return [text for text, count in zip(texts, words) if count]  # drop texts with no words


def shingles(words: list[str]) -> set[str]:
    if len(words) < NGRAM:
        return {" ".join(words)}
    return {" ".join(words[i:i + NGRAM]) for i in range(len(words) - NGRAM + 1)}


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b)


def near_copy(words: list[str], target: float, vocabulary: list[str], rng: random.Random) -> str:
    """Edit random words (substitute, delete or insert) while Jaccard stays >= target."""
    original, copy = shingles(words), list(words)
    while True:
        trial = list(copy)
        position = rng.randrange(len(trial))
        edit = rng.random()
        if edit < 0.6:
            trial[position] = rng.choice(vocabulary)
        elif edit < 0.8 and len(trial) > NGRAM + 1:
            del trial[position]
        else:
            trial.insert(position, rng.choice(vocabulary))
        if jaccard(original, shingles(trial)) < target:
            return " ".join(copy)
        copy = trial


def surface_copy(text: str, rng: random.Random) -> str:
    """The same normalised text: case, spacing and punctuation changed."""
    words = text.split()
    words = [w.upper() if rng.random() < 0.2 else w for w in words]
    return ("  ".join(words) + rng.choice(["!", "...", " .", ""])).replace(",", " ,")


def build_corpus(limit: int | None, seed: int = 0) -> tuple[list[str], int]:
    """Real texts plus injected near and surface copies, shuffled (deterministic); and the
    number of real texts."""
    rng = random.Random(seed)
    texts = real_texts()
    if limit:
        texts = rng.sample(texts, min(limit, len(texts)))
    words = [list(w) for w in word_lists(texts).to_list()]
    vocabulary = sorted({w for ws in words for w in ws})
    sources = [i for i, ws in enumerate(words) if len(ws) >= 3 * NGRAM]
    injected = []
    for i in rng.sample(sources, min(len(sources), len(texts) // 5)):
        injected.append(near_copy(words[i], rng.uniform(0.5, 1.0), vocabulary, rng))
    for i in rng.sample(sources, min(len(sources), len(texts) // 25)):
        injected.append(surface_copy(texts[i], rng))
    corpus = texts + injected
    rng.shuffle(corpus)
    return corpus, len(texts)


# -- ground truth -------------------------------------------------------------------------

def true_pairs(sets: list[set[str]], threshold: float) -> dict[tuple[int, int], float]:
    """Every pair with Jaccard >= threshold: an exact prefix-filter similarity join."""
    frequency: dict[str, int] = defaultdict(int)
    for s in sets:
        for shingle in s:
            frequency[shingle] += 1
    index: dict[str, list[int]] = defaultdict(list)
    pairs: dict[tuple[int, int], float] = {}
    for i, s in enumerate(sets):
        ordered = sorted(s, key=lambda shingle: (frequency[shingle], shingle))
        prefix = ordered[:len(s) - math.ceil(threshold * len(s) - 1e-9) + 1]
        candidates = {j for shingle in prefix for j in index[shingle]}
        for j in candidates:
            small, large = sorted((len(s), len(sets[j])))
            if small >= threshold * large:
                similarity = jaccard(s, sets[j])
                if similarity >= threshold:
                    pairs[(j, i)] = similarity
        for shingle in prefix:
            index[shingle].append(i)
    return pairs


def components(n: int, pairs) -> list[list[int]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return [g for g in groups.values() if len(g) > 1]


def score(removed: set[int], truth: dict[tuple[int, int], float], n: int) -> tuple[float, float]:
    """(precision, recall) of a set of removed document indices."""
    partnered = {i for pair, j in truth.items() if j >= PARTNER for i in pair}
    precision = len(removed & partnered) / len(removed) if removed else 1.0
    groups = components(n, [pair for pair, j in truth.items() if j >= THRESHOLD])
    needed = sum(len(g) - 1 for g in groups)
    made = sum(min(len(removed.intersection(g)), len(g) - 1) for g in groups)
    return precision, made / needed if needed else 1.0


# -- the contenders ------------------------------------------------------------------------

@dataclass(frozen=True)
class Contender:
    name: str
    argv: tuple[str, ...]  # IN and OUT stand for the input and output paths

    def command(self, source: Path, out: Path) -> list[str]:
        paths = {"IN": str(source), "OUT": str(out)}
        return [paths.get(arg, arg) for arg in self.argv]

    @property
    def is_prefkit(self) -> bool:
        return self.name.startswith("prefkit")


def prefkit_command(workers: int) -> tuple[str, ...]:
    return (sys.executable, "-m", "curate.cli", "dedup", "IN", "-o", "OUT", "--field", "text",
            "--workers", str(workers))


def contenders() -> list[Contender]:
    peer = (sys.executable, str(HERE / "dedup_peers.py"))
    out = [Contender("datasketch generator+LSH (SHA-1)", (*peer, "datasketch", "IN", "OUT"))]
    if importlib.util.find_spec("xxhash"):
        out.append(Contender("datasketch generator+LSH (xxh32)",
                             (*peer, "datasketch", "IN", "OUT", "--hashfunc", "xxh32")))
    if importlib.util.find_spec("rensa"):
        out.append(Contender("rensa digest matrix+one-shot LSH", (*peer, "rensa", "IN", "OUT")))
    else:
        print("rensa: skipped (not installed; pip install -e '.[bench]')")
    out += [Contender("prefkit curate dedup --workers 1", prefkit_command(1)),
            Contender("prefkit curate dedup --workers 2", prefkit_command(2))]
    return out


@dataclass
class Result:
    removed: frozenset[int]
    stats: dict | None  # prefkit's OUT.stats.json of the first round
    timings: list[Timing] = field(default_factory=list)
    start: list[Timing] = field(default_factory=list)  # on the first START_DOCS documents

    @property
    def wall(self) -> float:
        return min(t.wall for t in self.timings)

    @property
    def cpu(self) -> float:
        return min(t.cpu for t in self.timings)


START_DOCS = 100  # the fixed cost of a command: process start, imports, exit


def run_once(contender: Contender, source: Path, folder: Path) -> tuple[Timing, bytes, dict | None]:
    """Run a contender into `folder` (then emptied): its timing, output and prefkit's stats."""
    folder.mkdir()
    out = folder / "out.jsonl"
    timing = run(contender.command(source, out), log=folder / "log.txt", cwd=ROOT,
                 env=checkout_env(ROOT))
    output = out.read_bytes()
    stats_file = folder / "out.stats.json"
    stats = json.loads(stats_file.read_text()) if stats_file.exists() else None
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    return timing, output, stats


def best_of(repeat: int, entries: list[Contender], source: Path, start: Path, n: int,
            work: Path) -> dict[str, Result]:
    """Each contender's best wall and best CPU time of `repeat` runs, interleaved (round 1 of
    every contender, then round 2, ...), and the same on the `start` file. Every run of a
    contender must remove the same documents; prefkit's outputs with 1 and 2 workers must be
    byte-identical."""
    results: dict[str, Result] = {}
    outputs: dict[str, bytes] = {}
    for round_ in range(repeat):
        for index, contender in enumerate(entries):
            timing, output, stats = run_once(contender, source, work / f"{index}-{round_}")
            kept = {json.loads(line)["id"] for line in output.splitlines() if line.strip()}
            removed = frozenset(set(range(n)) - kept)
            result = results.setdefault(contender.name, Result(removed, stats))
            assert removed == result.removed, f"{contender.name} is not deterministic"
            result.timings.append(timing)
            if contender.is_prefkit:
                outputs[contender.name] = output
            result.start.append(run_once(contender, start, work / f"{index}-{round_}-start")[0])
    assert len(set(outputs.values())) == 1, "prefkit --workers 1 and 2 outputs differ"
    return results


# -- report --------------------------------------------------------------------------------

def lost_groups(removed: frozenset[int], truth: dict[tuple[int, int], float], n: int) -> int:
    """Groups of true near-duplicates (J >= PARTNER) of which every member was removed."""
    return sum(1 for group in components(n, truth) if removed.issuperset(group))


def peer_words_agree(texts: list[str], words: list[list[str]]) -> float:
    """Share of documents where the peers' word split equals prefkit's normalised words."""
    return sum(WORD.findall(t.lower()) == w for t, w in zip(texts, words)) / len(texts)


def report(results: dict[str, Result], truth: dict[tuple[int, int], float], n: int,
           megabytes: float) -> None:
    print(f"\n{'contender':34} {'wall s':>7} {'CPU s':>7} {'docs/s':>8} {'MB/s':>6} "
          f"{'removed':>7} {'precision':>9} {'recall':>6} {'lost':>4}  {'start: wall, CPU s':>18}")
    for name, result in results.items():
        precision, recall = score(set(result.removed), truth, n)
        star = "*" if name.endswith("2") else " "
        start_wall, start_cpu = (min(getattr(t, a) for t in result.start) for a in ("wall", "cpu"))
        print(f"{name:34} {result.wall:7.2f} {result.cpu:7.2f}{star}{n / result.wall:8,.0f} "
              f"{megabytes / result.wall:6.2f} {len(result.removed):7,} {precision:9.4f} "
              f"{recall:6.4f} {lost_groups(result.removed, truth, n):4}  {start_wall:9.2f}, "
              f"{start_cpu:5.2f}{star}")
    print(f"start: the same command on the first {START_DOCS} documents (process start, imports, "
          f"reading, writing, exit)")
    print("* including the forkserver and its pool workers (grandchildren), adopted and waited "
          "for" if SUBREAPER else "* the forkserver workers are not counted (no subreaper)")

    one, two = (results[f"prefkit curate dedup --workers {w}"] for w in (1, 2))
    print(f"\nratio prefkit / peer (docs/s; MB/s alike)  {'--workers 1 wall':>16} "
          f"{'CPU':>6} {'--workers 2 wall':>17}")
    for name, peer in results.items():
        if not name.startswith("prefkit"):
            print(f"  vs {name:38} {peer.wall / one.wall:15.2f}x {peer.cpu / one.cpu:5.2f}x "
                  f"{peer.wall / two.wall:16.2f}x")
    extra = one.stats
    print(f"\nprefkit: bands={extra['bands']} rows={extra['rows']}; "
          f"{extra['candidate_pairs']:,} candidate pairs, {extra['exact_checks']:,} exact "
          f"Jaccard checks, {extra['verified_pairs']:,} at J >= {THRESHOLD}; in-command "
          f"{extra['seconds']:.2f} s of {one.wall:.2f} s wall; phases (s, round 1) "
          f"{extra['phase_seconds']}")


# -- memory --------------------------------------------------------------------------------

def short_documents(count: int, seed: int = 0) -> list[str]:
    """`count` short documents (about 25 words): two random sentences of the real corpus, so
    most documents are distinct but many share a sentence; 5% are case/space copies and 10%
    one-word edits of an earlier document."""
    rng = random.Random(seed)
    sentences = sorted({s.strip() for text in real_texts() for s in re.split(r"(?<=[.?!])\s+", text)
                        if 6 <= len(s.split()) <= 30})
    docs: list[str] = []
    for _ in range(count):
        draw = rng.random()
        if docs and draw < 0.05:
            docs.append(rng.choice(docs).upper())
        elif docs and draw < 0.15:
            words = rng.choice(docs).split()
            words[-1] = rng.choice(sentences).split()[0]
            docs.append(" ".join(words))
        else:
            docs.append(f"{rng.choice(sentences)} {rng.choice(sentences)}")
    return docs



def measure_memory(count: int) -> None:
    """Peak RSS of the whole `curate dedup` command on `count` short documents, and of the
    same command on 100 of them (process start and imports)."""
    docs = short_documents(count)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        def measure(label: str, rows: list[str]) -> tuple[float, float, float]:
            """(peak RSS MB, wall seconds, input MB)"""
            source, out = work / f"{label}.jsonl", work / f"{label}-out.jsonl"
            write_corpus(source, rows)
            command = Contender("prefkit", prefkit_command(1)).command(source, out)
            peak, seconds = peak_rss_mb(command, log=work / f"{label}.log", cwd=ROOT,
                                        env=checkout_env(ROOT))
            return peak, seconds, source.stat().st_size / 1e6

        start, _, _ = measure("start", docs[:100])
        peak, seconds, megabytes = measure("all", docs)
        stats = json.loads((work / "all-out.stats.json").read_text())
    print(f"memory: {count:,} short documents ({megabytes:,.0f} MB of JSON Lines), "
          f"curate dedup --workers 1 under /usr/bin/time -v")
    print(f"  {seconds:.1f} s wall ({count / seconds:,.0f} docs/s), removed {stats['removed']:,}; "
          f"peak RSS {peak:,.0f} MB = +{peak - start:,.0f} MB beyond the same command on 100 "
          f"documents ({start:,.0f} MB)")
    print(f"  {stats['distinct_texts']:,} distinct texts, {stats['candidate_pairs']:,} candidate "
          f"pairs, {stats['exact_checks']:,} exact checks; phases (s) {stats['phase_seconds']}")


# -- main ----------------------------------------------------------------------------------

def write_corpus(path: Path, texts: list[str]) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n"
                          for i, text in enumerate(texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="sample this many real texts first")
    parser.add_argument("--memory", type=int, metavar="N", help="measure peak RSS on N short docs")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (best kept)")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"{DATA} is absent: this benchmark needs the real-data folder")
    if args.memory:
        measure_memory(args.memory)
        return

    texts, real = build_corpus(args.limit)
    words = [list(w) for w in word_lists(texts).to_list()]
    started = time.perf_counter()
    truth = true_pairs([shingles(w) for w in words], PARTNER)
    above = sum(1 for j in truth.values() if j >= THRESHOLD)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "corpus.jsonl"
        write_corpus(source, texts)
        megabytes = source.stat().st_size / 1e6
        print(f"corpus: {len(texts):,} documents ({real:,} real texts, {len(texts) - real:,} "
              f"injected copies), {megabytes:.1f} MB of JSON Lines, "
              f"{sum(map(len, words)) / len(words):.0f} words on average; truth: {len(truth):,} "
              f"pairs at J >= {PARTNER}, {above:,} at J >= {THRESHOLD} "
              f"({time.perf_counter() - started:.1f} s exact join); the peers' words equal "
              f"prefkit's on {peer_words_agree(texts, words):.2%} of documents")
        start = Path(tmp) / "start.jsonl"
        write_corpus(start, texts[:START_DOCS])
        results = best_of(args.repeat, contenders(), source, start, len(texts), Path(tmp))
    report(results, truth, len(texts), megabytes)
    print(f"best of {args.repeat} interleaved runs each (wall and CPU separately); "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the end; "
          f"each contender removed the same documents in every round; prefkit's --workers 1 "
          f"and 2 outputs byte-identical")


if __name__ == "__main__":
    main()
