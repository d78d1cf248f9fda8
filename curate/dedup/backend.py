"""Where the two heavy phases of dedup run: sketching, and linking LSH candidates.

The local backend sketches in this process or a process pool (`sketch_all`) and links
candidates with `buckets` + `connect`; `curate.dedup.on_ray` runs the same functions on
Ray. Both give the same clusters: roots are the smallest member of each connected
component of verified candidate pairs, whichever pairs were checked to find them.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.dedup.banding import buckets
from curate.dedup.clustering import connect
from curate.dedup.progress import Advance
from curate.dedup.similarity import Side, Similarity
from curate.dedup.sketch import Sketches, SketchSpec
from curate.dedup.unionfind import UnionFind
from curate.dedup.workers import sketch_all

Phase = Callable[..., AbstractContextManager[Advance]]  # phase(name, total) -> advance
Sketcher = Callable[[list[str], SketchSpec, int, Advance], Sketches]
Linker = Callable[[np.ndarray, np.ndarray, Side, Similarity, UnionFind, Phase], dict[str, Any]]


@dataclass(frozen=True)
class Backend:
    sketch: Sketcher  # (texts, spec, workers, advance) -> sketches, in order
    link: Linker  # join in union_find every verified candidate pair; returns stats


def link_locally(keys: np.ndarray, members: np.ndarray, side: Side, similarity: Similarity,
                 union_find: UnionFind, phase: Phase) -> dict[str, Any]:
    """Buckets of `keys` (band keys of the distinct texts `members`), checked by `connect`."""
    with phase("candidates", keys.shape[1]) as advance:
        found = buckets(keys)
        found.members = members[found.members].astype(np.int32)
        advance(keys.shape[1])
    with phase("verify") as advance:
        result = connect(found, lambda a, b: similarity.passes(side, a, side, b), union_find,
                         on_round=advance)
    return {"buckets": len(found), "candidate_pairs": result.candidate_pairs,
            "verified_pairs": result.verified_pairs, "verify_rounds": result.rounds}


def _sketch_locally(texts: list[str], spec: SketchSpec, workers: int,
                    advance: Advance) -> Sketches:
    return sketch_all(texts, spec, workers=workers, advance=advance)


LOCAL = Backend(_sketch_locally, link_locally)
