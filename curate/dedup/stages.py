"""The stages of out-of-core dedup, each a picklable task for the engine's executor.

Documents are numbered in input order (input tasks first, then `--against` references):
`doc = offset[task] + i` for the i-th usable record of a task. Every stage reads and
writes files under the run's work directory; no stage holds texts of more than one batch,
and global stages hold document numbers and keys only.

1. `sketch_task` (per split): text views, exact keys, LSH band keys, lengths, keep values,
   ids; keys are written partitioned by hash, band keys band by band.
2. `exact_task` (per key partition): groups of equal keys -> exact duplicates, and input
   records equal to a reference record.
3. `bucket_task` (per band): documents still in play sharing a band key -> buckets.
4. `sets_task` (per split, second pass over the data): shingle sets and signatures of the
   documents in some bucket (`store.SetWriter`).
5. `link_task` (one): reference matches, then candidate pairs verified in rounds
   (`lsh.connect`) and joined in a union-find over candidate documents.
6. `survivor_task` (one): clusters (exact groups + near links), the keep policy's
   survivor of each, and per split the removal of every other member.
7. `apply_task` (per split, third pass): kept records and removal lines, in input order.
"""

from __future__ import annotations

import itertools
import math
import os
from array import array
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from curate.dedup.arrays import run_starts
from curate.dedup.keep import KEEP_POLICIES, BadKeepValue, keep_value, priority, survivors
from curate.dedup.lsh import Buckets, UnionFind, band_keys, connect
from curate.dedup.options import DedupOptions
from curate.dedup.sketch import SketchSpec, segment_shingles, signatures_of
from curate.dedup.verify import SetStore, SetWriter, pair_similarity, sorted_sets
from curate.engine import Parts, records_done
from curate.io import BadRecord, Loc, Rejects
from curate.io.read import read_split
from curate.io.sources import Split
from curate.io.write import PartWriter
from curate.step import removal
from curate.views import is_pair, text_view

STEP = "dedup"
BATCH = 4096
REASONS = ("exact_duplicate", "near_duplicate")


@dataclass(frozen=True)
class DedupPlan:
    """What every stage needs to know, decided once by the driver."""

    options: DedupOptions
    spec: SketchSpec
    bands: int
    rows: int
    segments: int  # 1, or 3 for preference pairs (prompt, chosen, rejected)
    key_partitions: int
    work: Path

    @property
    def near(self) -> bool:
        return self.options.method != "exact"

    def file(self, kind: str, task: int) -> Path:
        return self.work / f"{kind}-t{task:05d}.npy"

    def band_file(self, task: int, band: int) -> Path:
        """One band's keys of one task's documents, raw uint32."""
        return self.work / f"band-t{task:05d}-b{band:03d}.u32"

    def band_keys_of(self, task: int, band: int) -> np.ndarray:
        return np.fromfile(self.band_file(task, band), np.uint32)


# --- 1. sketch ------------------------------------------------------------------------------

def segment_texts(record: dict[str, Any], plan: DedupPlan) -> list[str]:
    """The texts compared: one view, or a pair's prompt, chosen and rejected."""
    if plan.segments == 1:
        return [_text(record, plan.options.field)]
    if is_pair(record):
        return [_text(record, view) for view in ("prompt", "chosen", "rejected")]
    return [_text(record, "all"), "", ""]


def _text(record: dict[str, Any], view: str) -> str:
    text = text_view(record, "all" if view == "auto" else view)
    if not isinstance(text, str):
        raise TypeError(f"not text ({type(text).__name__})")
    return text


@dataclass(frozen=True)
class SketchTask:
    index: int
    split: Split
    side: int  # 0: input, 1: reference
    plan: DedupPlan
    on_error: str
    rejects_part: Path | None = None
    rejects_format: str = "jsonl"
    known_rejects: bool = False  # the input's bad lines were counted by an earlier read


def _usable(record: dict[str, Any], loc: Loc, plan: DedupPlan,
            rejects: Rejects) -> tuple[list[str], float] | None:
    """A record's texts and keep value, or None (rejected, or for a reference, skipped)."""
    options = plan.options
    column = None if options.keep in KEEP_POLICIES else options.keep
    field_name = options.field
    try:
        texts = segment_texts(record, plan)
        value = keep_value(record, column) if column else 0.0
    except KeyError as exc:
        missing = field_name if field_name != "auto" else str(exc.args[0])
        rejects(BadRecord(loc, missing, "missing (choose the compared text with --field)",
                          reason="missing_field", record=record))
        return None
    except (TypeError, AttributeError) as exc:
        rejects(BadRecord(loc, field_name, f"unreadable ({exc})", reason="bad_field",
                          record=record))
        return None
    except BadKeepValue as exc:
        rejects(BadRecord(loc, str(column), str(exc), reason="bad_keep_value", record=record))
        return None
    return texts, value


def sketch_task(task: SketchTask) -> dict[str, Any]:
    """Stage 1 over one split. Per-document columns are compact arrays and band keys go to
    one file per band as they are computed: about 60 bytes per document stay in memory."""
    plan = task.plan
    writer = PartWriter(task.rejects_part, task.rejects_format) \
        if task.rejects_part and task.side == 0 else None
    mode = task.on_error if task.side == 0 else "skip"
    rejects = Rejects(mode, sink=writer.write if writer else None)
    reader = Rejects("skip") if task.known_rejects or task.side else rejects
    keys: list[np.ndarray] = []
    lengths, values, rows_local, rejected = (array("q"), array("d"), array("q"), array("q"))
    bands = [open(plan.band_file(task.index, band), "wb") for band in range(plan.bands)]
    ids = open(plan.work / f"ids-t{task.index:05d}.jsonl", "wb")
    wordless = rows = max_line = 0
    batch_texts: list[list[str]] = []

    def flush() -> None:
        nonlocal wordless
        if not batch_texts:
            return
        segments = [list(column) for column in zip(*batch_texts)]
        shingles = segment_shingles(segments, plan.spec)
        records_done(len(batch_texts))
        keys.append(shingles.keys)
        wordless += int((shingles.words == 0).sum())
        if plan.near:
            matrix = band_keys(signatures_of(shingles, plan.spec), plan.bands, plan.rows)
            for band, handle in enumerate(bands):
                np.ascontiguousarray(matrix[:, band]).tofile(handle)
        batch_texts.clear()

    try:
        for ordinal, (loc, record) in enumerate(read_split(task.split, reader)):
            rows += 1
            max_line = loc.row + 1
            usable = _usable(record, loc, plan, rejects)
            if usable is None:
                rejected.append(ordinal)
                continue
            texts, value = usable
            batch_texts.append(texts)
            lengths.append(sum(len(t) for t in texts))
            values.append(value)
            rows_local.append(loc.row)
            ids.write(orjson.dumps(record.get("id") if "id" in record else None,
                                   default=str) + b"\n")
            if len(batch_texts) >= BATCH:
                flush()
        flush()
    finally:
        for handle in (*bands, ids):
            handle.close()
    key_matrix = np.concatenate(keys) if keys else np.zeros((0, 2), np.uint64)
    keys.clear()
    _write_keys(plan, task.index, key_matrix)
    for name, column in (("length", lengths), ("value", values), ("rejected", rejected),
                         ("rowlocal", rows_local)):
        np.save(plan.file(name, task.index), np.frombuffer(column, column.typecode))
    return {"rows": rows, "usable": len(lengths), "rejected": dict(rejects.by_reason),
            "max_line": max_line, "wordless": wordless, "path": task.split.path,
            "rejects_part": writer.close() if writer else None}


def _write_keys(plan: DedupPlan, task: int, keys: np.ndarray) -> None:
    """Keys with their local index, sorted by partition, and each partition's offsets."""
    local = np.arange(len(keys), dtype=np.uint64)
    partition = (keys[:, 0] % np.uint64(plan.key_partitions)).astype(np.int64) if len(keys) \
        else np.zeros(0, np.int64)
    order = np.argsort(partition, kind="stable")
    table = np.column_stack([keys[order, 0], keys[order, 1], local[order]]) if len(keys) \
        else np.zeros((0, 3), np.uint64)
    np.save(plan.file("keys", task), table)
    offsets = np.searchsorted(partition[order], np.arange(plan.key_partitions + 1))
    np.save(plan.file("keyoffsets", task), offsets)


# --- 2. exact groups --------------------------------------------------------------------------

@dataclass(frozen=True)
class Layout:
    """How documents are numbered: first document of each task, and how many are inputs."""

    offsets: tuple[int, ...]  # per task, then the total
    inputs: int  # documents numbered below this are inputs, the rest references
    input_tasks: int = 0  # tasks numbered below this read inputs

    def task_of(self, docs: np.ndarray) -> np.ndarray:
        return np.searchsorted(np.asarray(self.offsets), docs, side="right") - 1


@dataclass(frozen=True)
class ExactTask:
    partition: int
    plan: DedupPlan
    layout: Layout


def exact_task(task: ExactTask) -> dict[str, Any]:
    """Equal keys in one partition: each input's first equal input (`dup`), each input equal
    to a reference (`refexact`), and documents that stay out of LSH (`inactive`: every copy
    but the first, inputs equal to a reference, and references equal to an earlier one)."""
    plan, layout = task.plan, task.layout
    parts = []
    for number in range(len(layout.offsets) - 1):
        offsets = np.load(plan.file("keyoffsets", number))
        table = np.load(plan.file("keys", number), mmap_mode="r")
        chunk = np.array(table[offsets[task.partition]:offsets[task.partition + 1]])
        if len(chunk):
            doc = chunk[:, 2].astype(np.int64) + layout.offsets[number]
            parts.append((chunk[:, 0], chunk[:, 1], doc))
    empty = np.zeros(0, np.int64)
    dup_doc = dup_rep = ref_doc = ref_ref = inactive = empty
    stale = 0
    if parts:
        k0, k1, doc = (np.concatenate(column) for column in zip(*parts))
        order = np.lexsort((doc, k1, k0))
        k0, k1, doc = k0[order], k1[order], doc[order]
        starts = run_starts(np.column_stack([k0, k1]))
        group = np.cumsum(starts) - 1
        head = doc[np.flatnonzero(starts)][group]  # the smallest doc with the same key
        is_input = doc < layout.inputs
        big = np.iinfo(np.int64).max
        first_ref = np.minimum.reduceat(np.where(is_input, big, doc), np.flatnonzero(starts))
        first_ref = first_ref[group]
        has_ref = first_ref != big
        matched = is_input & has_ref
        dup = is_input & ~has_ref & (doc != head)
        stale_ref = ~is_input & (doc != first_ref)
        dup_doc, dup_rep = doc[dup], head[dup]
        ref_doc, ref_ref = doc[matched], first_ref[matched]
        inactive = np.sort(doc[matched | dup | stale_ref])
        stale = int(stale_ref.sum())
    np.savez(plan.work / f"exact-p{task.partition:04d}.npz", dup_doc=dup_doc, dup_rep=dup_rep,
             ref_doc=ref_doc, ref_ref=ref_ref, inactive=inactive)
    return {"duplicates": len(dup_doc), "ref_exact": len(ref_doc), "ref_duplicates": stale}


def load_exact(plan: DedupPlan) -> dict[str, np.ndarray]:
    parts = [np.load(path) for path in sorted(plan.work.glob("exact-p*.npz"))]
    return {name: np.concatenate([p[name] for p in parts]) if parts else np.zeros(0, np.int64)
            for name in ("dup_doc", "dup_rep", "ref_doc", "ref_ref", "inactive")}


def inactive_mask(plan: DedupPlan, layout: Layout) -> np.ndarray:
    mask = np.zeros(layout.offsets[-1], bool)
    mask[load_exact(plan)["inactive"]] = True
    return mask


# --- 3. buckets -------------------------------------------------------------------------------

@dataclass(frozen=True)
class BucketTask:
    band: int
    plan: DedupPlan
    layout: Layout


def band_table(plan: DedupPlan, layout: Layout, band: int,
               inactive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`(keys, docs)` of one band over every active document."""
    keys, docs = [], []
    for number in range(len(layout.offsets) - 1):
        column = plan.band_keys_of(number, band)
        doc = np.arange(layout.offsets[number], layout.offsets[number + 1])
        active = ~inactive[doc]
        keys.append(column[active])
        docs.append(doc[active])
    return np.concatenate(keys), np.concatenate(docs)


def buckets_of(keys: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Buckets of two or more documents: members (by key, then doc) and each bucket's size."""
    order = np.lexsort((docs, keys))
    keys, docs = keys[order], docs[order]
    starts = np.flatnonzero(run_starts(keys))
    sizes = np.diff(np.append(starts, len(keys)))
    shared = sizes >= 2
    return docs[np.repeat(shared, sizes)], sizes[shared]


def bucket_task(task: BucketTask) -> dict[str, Any]:
    keys, docs = band_table(task.plan, task.layout, task.band,
                            inactive_mask(task.plan, task.layout))
    members, sizes = buckets_of(keys, docs)
    save_buckets(task.plan, task.band, members, sizes)
    return {"buckets": len(sizes), "members": len(members)}


def save_buckets(plan: DedupPlan, band: int, members: np.ndarray, sizes: np.ndarray, *,
                 part: int = 0) -> None:
    """One band's buckets (or one part of them, split by key: see `curate.on_ray`)."""
    np.savez(plan.work / f"buckets-b{band:04d}-p{part:04d}.npz",
             members=members.astype(np.int64), sizes=sizes.astype(np.int64))


def load_buckets(plan: DedupPlan) -> tuple[list[np.ndarray], list[np.ndarray]]:
    members, sizes = [], []
    for path in sorted(plan.work.glob("buckets-b*.npz")):
        data = np.load(path)
        members.append(data["members"])
        sizes.append(data["sizes"])
    return members, sizes


def candidates_task(plan: DedupPlan) -> int:
    """Every document in some bucket, sorted (the documents whose sets are stored)."""
    members, _ = load_buckets(plan)
    docs = np.unique(np.concatenate(members)) if members else np.zeros(0, np.int64)
    np.save(plan.work / "candidates.npy", docs)
    return len(docs)


# --- 4. shingle sets of candidates ------------------------------------------------------------

@dataclass(frozen=True)
class SetsTask:
    index: int
    split: Split
    plan: DedupPlan
    first_doc: int


def sets_task(task: SetsTask) -> int:
    """Second pass over a split: the sets and signature of each candidate document in it."""
    plan = task.plan
    candidates = np.load(plan.work / "candidates.npy", mmap_mode="r")
    rejected = set(np.load(plan.file("rejected", task.index)).tolist())
    writer = SetWriter(plan.work / f"sets-t{task.index:05d}", plan.segments)
    local = -1
    pending: list[tuple[int, list[str]]] = []

    def flush() -> None:
        if not pending:
            return
        segments = [list(column) for column in zip(*(texts for _, texts in pending))]
        shingles = segment_shingles(segments, plan.spec)
        signatures = signatures_of(shingles, plan.spec)
        per_segment = [segment_shingles([texts], plan.spec) for texts in segments] \
            if plan.segments > 1 else [shingles]
        sets = [sorted_sets(s.flat, s.counts) for s in per_segment]
        bounds = [np.concatenate([[0], np.cumsum(sizes)]) for _, sizes in sets]
        for i, (doc, _) in enumerate(pending):
            writer.add(doc, [values[b[i]:b[i + 1]] for (values, _), b in zip(sets, bounds)],
                       signatures[i])
        pending.clear()

    quiet = Rejects("skip")
    for ordinal, (loc, record) in enumerate(read_split(task.split, quiet)):
        if ordinal % BATCH == BATCH - 1:
            records_done(BATCH)
        if ordinal in rejected:
            continue
        local += 1
        doc = task.first_doc + local
        position = np.searchsorted(candidates, doc)
        if position < len(candidates) and candidates[position] == doc:
            pending.append((doc, segment_texts(record, plan)))
            if len(pending) >= BATCH:
                flush()
    flush()
    writer.close()
    return local + 1


# --- 5. linking ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class LinkTask:
    plan: DedupPlan
    layout: Layout


def link_task(task: LinkTask) -> dict[str, Any]:
    """Reference matches, then near-duplicate components among the inputs."""
    plan, layout = task.plan, task.layout
    options = plan.options
    candidates = np.load(plan.work / "candidates.npy")
    store = SetStore(plan.work, plan.segments, options.num_perm)
    stats: dict[str, Any] = {"candidate_pairs": 0, "verified_pairs": 0, "exact_checks": 0}
    try:
        members, sizes = load_buckets(plan)
        member = np.concatenate(members) if members else np.zeros(0, np.int64)
        size = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
        bucket = np.repeat(np.arange(len(size)), size)
        stats["buckets"] = len(size)
        matched = _match_references(store, member, bucket, layout.inputs, options, stats)
        inputs_only = (member < layout.inputs) & ~np.isin(member, matched[0])
        member, bucket = member[inputs_only], bucket[inputs_only]
        dense = np.searchsorted(candidates, member)
        union_find = UnionFind(len(candidates))

        def passes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            scores, checks = pair_similarity(store, candidates[a], candidates[b],
                                             options.threshold, verify=options.verify)
            stats["exact_checks"] += checks
            return scores >= options.threshold

        found = Buckets(dense.astype(np.int32), _relabel(bucket))
        result = connect(found, passes, union_find)
        stats.update(candidate_pairs=result.candidate_pairs,
                     verified_pairs=result.verified_pairs, verify_rounds=result.rounds)
        roots = union_find.roots()
        linked = np.flatnonzero(roots != np.arange(len(candidates)))
        np.savez(plan.work / "near.npz", doc=candidates[linked], root=candidates[roots[linked]],
                 ref_doc=matched[0], ref_ref=matched[1], ref_score=matched[2])
    finally:
        store.close()
    return stats


def _relabel(bucket: np.ndarray) -> np.ndarray:
    """Bucket numbers made consecutive (0, 1, ...) after members were dropped."""
    if not len(bucket):
        return bucket.astype(np.int32)
    return (np.cumsum(run_starts(bucket)) - 1).astype(np.int32)


def _match_references(store: SetStore, member: np.ndarray, bucket: np.ndarray, inputs: int,
                      options: DedupOptions, stats: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Each input sharing a bucket with references: its most similar reference at or above
    the threshold (ties: the earliest), with the score."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
    is_ref = member >= inputs
    if not is_ref.any():
        return empty
    with_ref = np.unique(bucket[is_ref])
    keep = np.isin(bucket, with_ref)
    member, bucket, is_ref = member[keep], bucket[keep], is_ref[keep]
    pairs = []
    for number in np.unique(bucket).tolist():  # buckets holding a reference are few
        inside = member[bucket == number]
        queries = inside[inside < inputs]
        refs = inside[inside >= inputs]
        if len(queries) and len(refs):
            pairs.append(np.stack(np.meshgrid(queries, refs, indexing="ij"), -1).reshape(-1, 2))
    if not pairs:
        return empty
    pair = np.unique(np.concatenate(pairs), axis=0)
    scores, checks = pair_similarity(store, pair[:, 0], pair[:, 1], options.threshold,
                                     verify=options.verify)
    stats["exact_checks"] += checks
    ok = scores >= options.threshold
    pair, scores = pair[ok], scores[ok]
    order = np.lexsort((pair[:, 1], -scores, pair[:, 0]))
    best = order[run_starts(pair[order, 0])]
    return pair[best, 0], pair[best, 1], scores[best]


# --- 6. survivors -------------------------------------------------------------------------------

@dataclass(frozen=True)
class SurvivorTask:
    plan: DedupPlan
    layout: Layout
    reference_sources: tuple[str, ...]  # per task (references only; "" for inputs)
    row_offsets: tuple[int, ...]  # per task: rows of the files before it (ids of id-less records)
    clusters: Path | None


def survivor_task(task: SurvivorTask) -> dict[str, Any]:
    plan, layout = task.plan, task.layout
    options = plan.options
    exact = load_exact(plan)
    near = dict(np.load(plan.work / "near.npz")) if (plan.work / "near.npz").exists() else {
        "doc": np.zeros(0, np.int64), "root": np.zeros(0, np.int64),
        "ref_doc": np.zeros(0, np.int64), "ref_ref": np.zeros(0, np.int64),
        "ref_score": np.zeros(0)}
    # Components over inputs: exact duplicates join their first copy; linked copies join.
    left = np.concatenate([exact["dup_doc"], near["doc"]])
    right = np.concatenate([exact["dup_rep"], near["root"]])
    involved = np.unique(np.concatenate([left, right]))
    rep_of = dict(zip(exact["dup_doc"].tolist(), exact["dup_rep"].tolist()))
    union_find = UnionFind(len(involved))
    union_find.union(np.searchsorted(involved, left), np.searchsorted(involved, right))
    labels = union_find.roots()
    lengths, values = _gather(plan, layout, involved)
    rank = priority(options.keep, lengths, values)
    survivor = survivors(labels, rank)
    duplicate = np.flatnonzero(survivor != np.arange(len(involved)))
    # Cluster ids: 0, 1, .. by each cluster's earliest member (labels are the smallest).
    in_cluster = np.unique(np.concatenate([duplicate, survivor[duplicate]]))
    cluster_of = np.full(len(involved), -1, np.int64)
    if len(in_cluster):
        _, cluster_of[in_cluster] = np.unique(labels[in_cluster], return_inverse=True)
    docs, best = involved[duplicate], involved[survivor[duplicate]]
    first = np.array([rep_of.get(d, d) for d in docs.tolist()], np.int64)
    second = np.array([rep_of.get(d, d) for d in best.tolist()], np.int64)
    same = first == second
    similarity = np.ones(len(docs))
    store_checks = 0
    if (~same).any():
        store = SetStore(plan.work, plan.segments, options.num_perm)
        try:
            scores, store_checks = pair_similarity(store, first[~same], second[~same], 0.0,
                                                   verify=options.verify)
        finally:
            store.close()
        similarity[~same] = scores
    if options.method == "exact":
        reasons = np.zeros(len(docs), np.int64)  # exact_duplicate
    elif options.method == "both":
        reasons = np.where(same, 0, 1)  # the same normalised text: exact_duplicate
    else:
        reasons = np.ones(len(docs), np.int64)  # minhash: every copy is a near_duplicate
    need_ids = np.unique(np.concatenate([best, near["ref_ref"], exact["ref_ref"],
                                         involved[in_cluster] if task.clusters else
                                         np.zeros(0, np.int64)]))
    ids = _ids(plan, layout, need_ids, task.row_offsets)
    removals: dict[int, dict[str, Any]] = {}
    for doc, survivor_doc, cluster, score, reason in zip(
            docs.tolist(), best.tolist(), cluster_of[duplicate].tolist(), similarity.tolist(),
            reasons.tolist()):
        removals[doc] = {"reason": REASONS[reason], "cluster_id": cluster,
                         "duplicate_of": ids[survivor_doc], "similarity": round(score, 4)}
    references = _reference_removals(exact, near, ids, layout, task.reference_sources,
                                     options.method)
    removals.update(references)
    _write_removals(plan, layout, removals)
    clusters = 0
    if len(in_cluster):
        clusters = int(cluster_of.max()) + 1
    if task.clusters:
        _write_clusters(task.clusters, involved, cluster_of, survivor, similarity, duplicate,
                        ids)
    return {"clusters": clusters, "removed_against": len(references),
            "exact_checks": store_checks}


def _gather(plan: DedupPlan, layout: Layout, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.zeros(len(docs), np.int64)
    values = np.zeros(len(docs), np.float64)
    tasks = layout.task_of(docs)
    for number in np.unique(tasks).tolist():
        inside = np.flatnonzero(tasks == number)
        local = docs[inside] - layout.offsets[number]
        lengths[inside] = np.load(plan.file("length", number), mmap_mode="r")[local]
        values[inside] = np.load(plan.file("value", number), mmap_mode="r")[local]
    return lengths, values


def _ids(plan: DedupPlan, layout: Layout, docs: np.ndarray,
         row_offsets: tuple[int, ...]) -> dict[int, Any]:
    """The id of each document: its own, or its 0-based input row for a record without one."""
    out: dict[int, Any] = {}
    tasks = layout.task_of(docs)
    for number in np.unique(tasks).tolist():
        wanted = set((docs[tasks == number] - layout.offsets[number]).tolist())
        rows = np.load(plan.file("rowlocal", number), mmap_mode="r")
        with open(plan.work / f"ids-t{number:05d}.jsonl", "rb") as handle:
            for local, line in enumerate(handle):
                if local in wanted:
                    value = orjson.loads(line)
                    out[layout.offsets[number] + local] = value if value is not None else \
                        row_offsets[number] + int(rows[local])
    return out


def _reference_removals(exact: dict[str, np.ndarray], near: dict[str, np.ndarray],
                        ids: dict[int, Any], layout: Layout, sources: tuple[str, ...],
                        method: str) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    tasks_of = layout.task_of
    for doc, ref in zip(exact["ref_doc"].tolist(), exact["ref_ref"].tolist()):
        out[doc] = {"reason": "exact_duplicate" if method != "minhash" else "near_duplicate",
                    "cluster_id": None, "duplicate_of": ids[ref], "similarity": 1.0,
                    "reference": sources[int(tasks_of(np.array([ref]))[0])]}
    for doc, ref, score in zip(near["ref_doc"].tolist(), near["ref_ref"].tolist(),
                               near["ref_score"].tolist()):
        out[doc] = {"reason": "near_duplicate", "cluster_id": None, "duplicate_of": ids[ref],
                    "similarity": round(score, 4),
                    "reference": sources[int(tasks_of(np.array([ref]))[0])]}
    return out


def _write_removals(plan: DedupPlan, layout: Layout, removals: dict[int, dict[str, Any]]) -> None:
    docs = np.array(sorted(removals), np.int64)
    tasks = layout.task_of(docs) if len(docs) else np.zeros(0, np.int64)
    for number in range(layout.input_tasks):
        inside = docs[tasks == number]
        with open(plan.work / f"removals-t{number:05d}.jsonl", "wb") as handle:
            handle.writelines(orjson.dumps([doc - layout.offsets[number], removals[doc]]) + b"\n" for doc in inside.tolist())


def _write_clusters(path: Path, involved: np.ndarray, cluster_of: np.ndarray,
                    survivor: np.ndarray, similarity: np.ndarray, duplicate: np.ndarray,
                    ids: dict[int, Any]) -> None:
    """One line per cluster: members in input order, survivor, min/max similarity of the
    removed members to the survivor."""
    from curate.io.write import RecordWriter

    score = np.ones(len(involved))
    score[duplicate] = similarity
    members = np.flatnonzero(cluster_of >= 0)
    members = members[np.lexsort((involved[members], cluster_of[members]))]
    with RecordWriter(path) as writer:
        starts = np.flatnonzero(run_starts(cluster_of[members])).tolist() + [len(members)]
        for number, (start, stop) in enumerate(itertools.pairwise(starts)):
            inside = members[start:stop]
            removed = inside[survivor[inside] != inside]
            writer.write({"cluster_id": number, "size": len(inside),
                          "survivor": ids[int(involved[survivor[inside[0]]])],
                          "members": [ids[int(involved[i])] for i in inside.tolist()],
                          "min_similarity": round(float(score[removed].min()), 4),
                          "max_similarity": round(float(score[removed].max()), 4)})


# --- 7. apply ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApplyTask:
    index: int
    split: Split
    plan: DedupPlan
    parts: Any  # engine.ChainStep describing where the parts go
    row_offset: int = 0


def apply_task(task: ApplyTask) -> dict[str, Any]:
    """Third pass over a split: kept records and removal lines, in input order."""
    plan = task.plan
    rejected = set(np.load(plan.file("rejected", task.index)).tolist())
    rows = np.load(plan.file("rowlocal", task.index), mmap_mode="r")
    removals: dict[int, dict[str, Any]] = {}
    with open(plan.work / f"removals-t{task.index:05d}.jsonl", "rb") as handle:
        for line in handle:
            local, details = orjson.loads(line)
            removals[local] = details
    parts = Parts(task.parts, task.index)
    local = -1
    kept = 0
    removed: Counter[str] = Counter()
    for ordinal, (_, record) in enumerate(read_split(task.split, Rejects("skip"))):
        if ordinal % BATCH == BATCH - 1:
            records_done(BATCH)
        if ordinal in rejected:
            continue
        local += 1
        if "id" not in record:
            record = {"id": task.row_offset + int(rows[local]), **record}
        details = removals.get(local)
        if details is None:
            parts.write("data", record)
            kept += 1
            continue
        details = dict(details)
        reason = details.pop("reason")
        if details.get("reference") is None:
            details.pop("reference", None)
        parts.write("removed", removal(record, reason, STEP, **details))
        removed[reason] += 1
    return {"kept": kept, "removed": dict(removed), "parts": parts.close()}


# --- planning helpers -------------------------------------------------------------------------

def row_offsets(sketches: list[dict[str, Any]], inputs: int) -> tuple[int, ...]:
    """Per task, the rows of the input files before its file (records without an id get
    their 0-based row across all input files); references count per file."""
    out, file_offset, total = [], {}, 0
    for number, result in enumerate(sketches):
        if number == inputs:
            file_offset, total = {}, 0
        if result["path"] not in file_offset:
            file_offset[result["path"]] = total
        total = max(total, file_offset[result["path"]] + result["max_line"])
        out.append(file_offset[result["path"]] if number < inputs else 0)
    return tuple(out)


def key_partitions(splits: list[Split]) -> int:
    size = sum(_size(split) for split in splits)
    return max(1, min(1024, math.ceil(size / (32 << 20))))  # about 200k short documents each


def _size(split: Split) -> int:
    try:
        if split.kind == "lines":
            return (split.stop or os.path.getsize(split.path)) - split.start
        return os.path.getsize(split.path)
    except OSError:
        return 0


__all__ = ["ApplyTask", "BucketTask", "DedupPlan", "ExactTask", "Layout", "LinkTask",
           "SetsTask", "SketchTask", "SurvivorTask", "apply_task", "bucket_task",
           "candidates_task", "exact_task", "field", "key_partitions", "link_task",
           "row_offsets", "sets_task", "sketch_task", "survivor_task"]
