"""`dedup_records`: exact and MinHash-LSH deduplication of a list of records.

1. Each record's text view is sketched: normalised words, exact key, MinHash signature.
2. Records with the same normalised text collapse onto their first occurrence.
3. With ``against``, records matching a reference record are removed first.
4. The remaining distinct texts are banded; bucket pairs that pass exact Jaccard
   verification (or the MinHash estimate with ``verify=False``) are joined by union-find.
5. The keep policy picks one survivor per cluster; every other member is removed with
   its reason, cluster, survivor and its similarity to the survivor.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.dedup.against import exact_matches, near_matches
from curate.dedup.arrays import run_starts, sorted_unique
from curate.dedup.backend import LOCAL, Backend
from curate.dedup.banding import band_keys, derive_bands
from curate.dedup.exact import first_of_group
from curate.dedup.keep import KEEP_POLICIES, BadKeepValue, keep_value, priority, survivors
from curate.dedup.options import DedupOptions
from curate.dedup.progress import Advance, Phases
from curate.dedup.reference import load_reference
from curate.dedup.similarity import Side, Similarity
from curate.dedup.sketch import SketchSpec
from curate.dedup.unionfind import UnionFind
from curate.io import BadRecord, Loc, Rejects
from curate.step import StepResult, removal
from curate.views import text_view

STEP = "dedup"


@dataclass
class DedupRun:
    """The step result plus one line per cluster (for ``--clusters``)."""

    result: StepResult
    clusters: list[dict[str, Any]] = field(default_factory=list)


def dedup_records(records: list[dict[str, Any]], options: DedupOptions, *,
                  rejects: Rejects | None = None, locs: list[Loc] | None = None,
                  phases: Phases | None = None,
                  row_numbers: list[int] | None = None) -> StepResult:
    """Deduplicate `records`: kept records, `removal()` lines, and statistics in ``extra``.

    A record's ``id`` is kept as is; a record without one gets its 0-based row number in the
    input (`row_numbers`, by default its position in `records`) as its id. Records whose
    text view is missing or empty go to `rejects` (which raises by default), located by
    `locs`.
    """
    return run_dedup(records, options, rejects=rejects, locs=locs, phases=phases,
                     row_numbers=row_numbers).result


def run_dedup(records: list[dict[str, Any]], options: DedupOptions, *,
              rejects: Rejects | None = None, locs: list[Loc] | None = None,
              phases: Phases | None = None, row_numbers: list[int] | None = None,
              backend: Backend = LOCAL) -> DedupRun:
    """`dedup_records`, also returning the cluster lines; `backend` says where sketching and
    candidate verification run (this process and its pool, or Ray)."""
    rejects = Rejects("raise") if rejects is None else rejects  # an empty Rejects is falsy
    numbers = range(len(records)) if row_numbers is None else row_numbers
    with_ids = [record if "id" in record else {"id": number, **record}
                for number, record in zip(numbers, records, strict=True)]
    return _Dedup(records, with_ids, options, rejects, locs, phases or Phases(), backend).run()


class _Dedup:
    """One run. Arrays indexed by "record" cover usable records in input order; arrays
    indexed by "text" cover their distinct normalised texts (``unique``)."""

    def __init__(self, inputs: list[dict[str, Any]], records: list[dict[str, Any]],
                 options: DedupOptions, rejects: Rejects, locs: list[Loc] | None,
                 phases: Phases, backend: Backend) -> None:
        self.options, self.rejects, self.locs, self.phases = options, rejects, locs, phases
        self.backend = backend
        self.inputs, self.records = inputs, records  # as given (for rejects), and with ids
        self.near = options.method != "exact"
        self.spec = SketchSpec(ngram=options.ngram, num_perm=options.num_perm if self.near else 0,
                               seed=options.seed, fold_digits=options.fold_digits)
        self.bands, self.rows = (None, None)
        if self.near:
            self.bands, self.rows = ((options.bands, options.rows) if options.bands else
                                     derive_bands(options.threshold, options.num_perm,
                                                  verify=options.verify))
        self.similarity = Similarity(options.threshold, verify=options.verify,
                                     ngram=options.ngram, fold_digits=options.fold_digits)
        self.seconds: dict[str, float] = {}
        self.stats: dict[str, Any] = {}

    def run(self) -> DedupRun:
        started = time.perf_counter()
        with self._phase("views", len(self.records)) as advance:
            self._read_views()
            advance(len(self.records))
        with self._phase("sketch", len(self.texts)) as advance:
            sketches = self.backend.sketch(self.texts, self.spec, self.options.workers, advance)
        self.keys, self.signatures = sketches.keys, sketches.signatures
        usable = self._reject_bad(sketches.words)
        if len(usable) < len(sketches.words):
            self.keys, self.signatures = self.keys[usable], self.signatures[usable]
        self.representative = first_of_group(self.keys)
        self.unique = np.flatnonzero(self.representative == np.arange(len(self.keys)))
        self.text_of = np.searchsorted(self.unique, self.representative)
        self.side = Side(self.texts, self.signatures, self.unique)  # distinct texts
        self.band_keys = None
        if self.near:
            with self._phase("bands", len(self.unique)) as advance:
                self.band_keys = self._band_keys(self.signatures, self.unique, advance)
        self.match = np.full(len(self.unique), -1, np.int64)
        self.match_score = np.zeros(len(self.unique))
        if self.options.against:
            self._match_against()
        roots = self._cluster()
        with self._phase("survivors"):
            result = self._outputs(roots)
        self.seconds["total"] = round(time.perf_counter() - started, 4)
        return result

    def _band_keys(self, signatures: np.ndarray, rows: np.ndarray,
                   advance: Advance | None = None) -> np.ndarray:
        """Band keys of ``signatures[rows]``, a slice at a time (no copy of the matrix)."""
        out = np.empty((len(rows), self.bands), np.uint32)
        for start in range(0, len(rows), 1 << 16):
            chunk = rows[start:start + (1 << 16)]
            out[start:start + len(chunk)] = band_keys(signatures[chunk], self.bands, self.rows)
            if advance:
                advance(len(chunk))
        return out

    @contextmanager
    def _phase(self, name: str, total: int | None = None) -> Iterator[Advance]:
        started = time.perf_counter()
        with self.phases.phase(name, total) as advance:
            yield advance
        self.seconds[name] = round(time.perf_counter() - started, 4)

    # -- input ---------------------------------------------------------------------------

    def _read_views(self) -> None:
        """Texts (and keep values) of records; problems are noted for `_reject_bad`."""
        opts = self.options
        column = None if opts.keep in KEEP_POLICIES else opts.keep
        self.texts: list[str] = []
        self.positions: list[int] = []
        self.problems: list[tuple[int, str, str, str]] = []
        values: list[float] = []
        for position, record in enumerate(self.records):
            try:
                text = text_view(record, opts.field)
            except KeyError:
                self.problems.append((position, opts.field, "missing", "missing_field"))
                continue
            except (TypeError, AttributeError) as exc:
                self.problems.append((position, opts.field, f"unreadable ({exc})", "bad_field"))
                continue
            if column is not None:
                try:
                    values.append(keep_value(record, column))
                except BadKeepValue as exc:
                    self.problems.append((position, column, str(exc), "bad_keep_value"))
                    continue
            self.texts.append(text)
            self.positions.append(position)
        self.values = np.array(values) if column is not None else None

    def _reject_bad(self, words: np.ndarray) -> np.ndarray:
        """Reject, in input order, records noted as bad or whose text has no words; return
        the indices of the usable texts."""
        usable = np.flatnonzero(words > 0)
        self.problems += [(self.positions[i], self.options.field,
                           "empty text (no words after normalisation)", "empty_text")
                          for i in np.flatnonzero(words == 0).tolist()]
        for position, field_name, message, reason in sorted(self.problems):
            loc = self.locs[position] if self.locs else Loc("<records>", position + 1)
            self.rejects(BadRecord(loc, field_name, message, reason=reason,
                                   record=self.inputs[position]))
        if len(usable) < len(words):
            self.texts = [self.texts[i] for i in usable.tolist()]
            self.positions = [self.positions[i] for i in usable.tolist()]
            if self.values is not None:
                self.values = self.values[usable]
        return usable

    # -- against -------------------------------------------------------------------------

    def _match_against(self) -> None:
        """Set `match` (index into the reference) and `match_score` of each distinct text."""
        opts = self.options
        reference = load_reference(opts.against, opts, self.spec, self.phases,
                                   self.rejects.mode).collapsed()
        self.reference = reference
        self.stats.update(reference_records=len(reference), reference_skipped=reference.skipped)
        with self._phase("against", len(self.unique)) as advance:
            self.match = exact_matches(self.keys[self.unique], reference.keys)
            self.match_exact = self.match >= 0
            self.match_score = self.match_exact.astype(np.float64)
            open_ = np.flatnonzero(self.match < 0)
            if self.near and len(reference) and len(open_):
                queries = Side(self.texts, self.signatures, self.unique[open_])
                references = Side(reference.texts, reference.signatures)
                best, score = near_matches(
                    self.band_keys[open_],
                    self._band_keys(reference.signatures, np.arange(len(reference))),
                    lambda q, r: self.similarity.scores(queries, q, references, r),
                    opts.threshold)
                self.match[open_], self.match_score[open_] = best, np.where(best >= 0, score, 0)
            advance(len(self.unique))

    # -- clusters ------------------------------------------------------------------------

    def _cluster(self) -> np.ndarray:
        """Root (smallest member) of each distinct text's cluster over verified pairs."""
        union_find = UnionFind(len(self.unique))
        if not self.near:
            return union_find.roots()
        open_ = np.flatnonzero(self.match < 0)
        keys = self.band_keys if len(open_) == len(self.unique) else self.band_keys[open_]
        self.band_keys = None  # freed before verification (when nothing else holds them)
        self.stats.update(self.backend.link(keys, open_, self.side, self.similarity, union_find,
                                            self._phase))
        return union_find.roots()

    # -- outputs -------------------------------------------------------------------------

    def _outputs(self, roots: np.ndarray) -> DedupRun:
        opts = self.options
        record_count = len(self.positions)
        against = self.match[self.text_of] >= 0
        # A record matched to a reference leaves alone; the others cluster among themselves.
        labels = np.where(against, -1 - np.arange(record_count), roots[self.text_of])
        lengths = np.array([len(text) for text in self.texts])
        survivor = survivors(labels, priority(opts.keep, lengths, self.values))
        duplicate = np.flatnonzero(survivor != np.arange(record_count))
        similarity = np.ones(record_count)
        near = duplicate[self.text_of[duplicate] != self.text_of[survivor[duplicate]]]
        if len(near):
            similarity[near] = self.similarity.exact(self.side, self.text_of[near],
                                                     self.side, self.text_of[survivor[near]])
        cluster_of = _number_clusters(labels, survivor, duplicate)

        removed: dict[int, dict[str, Any]] = {}
        for index in duplicate.tolist():
            best = survivor[index]
            removed[self.positions[index]] = removal(
                self._record(index), self._reason(self.text_of[index] == self.text_of[best]),
                STEP, cluster_id=int(cluster_of[index]), duplicate_of=self._record(best)["id"],
                similarity=round(float(similarity[index]), 4))
        for index in np.flatnonzero(against).tolist():
            text = self.text_of[index]
            reference, match = self.reference, int(self.match[text])
            removed[self.positions[index]] = removal(
                self._record(index), self._reason(self.match_exact[text]), STEP,
                cluster_id=None, duplicate_of=reference.ids[match],
                similarity=round(float(self.match_score[text]), 4),
                reference=reference.sources[match])
        kept_mask = np.ones(record_count, bool)
        kept_mask[duplicate] = False
        kept_mask[against] = False
        kept = [self._record(index) for index in np.flatnonzero(kept_mask).tolist()]
        clusters = self._cluster_lines(cluster_of, survivor, similarity)
        self.stats.update(
            method=opts.method, field=opts.field, threshold=opts.threshold, ngram=opts.ngram,
            num_perm=opts.num_perm if self.near else None, bands=self.bands, rows=self.rows,
            verify=opts.verify, keep=opts.keep, workers=opts.workers,
            distinct_texts=len(self.unique), clusters=len(clusters),
            exact_checks=self.similarity.exact_checks,
            removed_against=int(against.sum()), phase_seconds=self.seconds)
        return DedupRun(StepResult(kept, [removed[p] for p in sorted(removed)], self.stats),
                        clusters)

    def _record(self, index: int) -> dict[str, Any]:
        return self.records[self.positions[index]]

    def _reason(self, same_text: bool) -> str:
        method = self.options.method
        exact = method == "exact" or (method == "both" and same_text)
        return "exact_duplicate" if exact else "near_duplicate"

    def _cluster_lines(self, cluster_of: np.ndarray, survivor: np.ndarray,
                       similarity: np.ndarray) -> list[dict[str, Any]]:
        """One line per cluster: members in input order, survivor, min/max similarity of the
        removed members to the survivor (cluster ids are 0, 1, .. with no gaps)."""
        members = np.flatnonzero(cluster_of >= 0)
        if not len(members):
            return []
        members = members[np.argsort(cluster_of[members], kind="stable")]
        starts = np.flatnonzero(run_starts(cluster_of[members]))
        removed = members[survivor[members] != members]  # every cluster has at least one
        removed_starts = np.flatnonzero(run_starts(cluster_of[removed]))
        low, high = ([round(x, 4) for x in reduce.reduceat(similarity[removed], removed_starts)
                      .tolist()] for reduce in (np.minimum, np.maximum))
        ids = [self._record(index)["id"] for index in members.tolist()]
        best = [self._record(index)["id"] for index in survivor[members[starts]].tolist()]
        bounds = [*starts.tolist(), len(members)]
        return [{"cluster_id": cluster, "size": bounds[cluster + 1] - bounds[cluster],
                 "survivor": best[cluster], "members": ids[bounds[cluster]:bounds[cluster + 1]],
                 "min_similarity": low[cluster], "max_similarity": high[cluster]}
                for cluster in range(len(starts))]


def _number_clusters(labels: np.ndarray, survivor: np.ndarray,
                     duplicate: np.ndarray) -> np.ndarray:
    """Cluster ids 0, 1, .. in order of each cluster's earliest record; -1 outside clusters.

    Labels are the smallest distinct-text index of a cluster, and distinct texts are
    numbered by first occurrence, so sorting labels sorts clusters by earliest record.
    """
    out = np.full(len(labels), -1, np.int64)
    members = sorted_unique(np.concatenate([duplicate, survivor[duplicate]]))
    if len(members):
        _, out[members] = np.unique(labels[members], return_inverse=True)
    return out

