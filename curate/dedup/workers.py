"""Sketch a corpus in batches, in this process or in a pool of worker processes.

Workers come from a ``forkserver`` that has already imported this package: starting them
is cheap, and, unlike a plain ``fork``, safe next to rich's and polars' threads. Each batch
is sketched by the same pure function, so the result does not depend on the number of
workers. As with any multiprocessing, a script calling this with ``workers > 1`` needs the
``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat

import numpy as np

from curate.dedup.progress import Advance
from curate.dedup.sketch import Sketches, SketchSpec, sketch

BATCH = 4096


def sketch_all(texts: list[str], spec: SketchSpec, *, workers: int = 1,
               advance: Advance | None = None) -> Sketches:
    """Sketches of all `texts`, in order, filled batch by batch into preallocated arrays."""
    out = Sketches(np.zeros((len(texts), 2), np.uint64), np.zeros(len(texts), np.int64),
                   np.zeros((len(texts), spec.num_perm), np.uint32))
    starts = range(0, len(texts), BATCH)
    for start, part in zip(starts, _sketches([texts[s:s + BATCH] for s in starts], spec, workers)):
        stop = start + len(part.words)
        out.keys[start:stop], out.words[start:stop] = part.keys, part.words
        out.signatures[start:stop] = part.signatures
        if advance:
            advance(stop - start)
    return out


def _sketches(batches: list[list[str]], spec: SketchSpec, workers: int) -> Iterator[Sketches]:
    if workers <= 1 or len(batches) <= 1:
        yield from (sketch(batch, spec) for batch in batches)
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["__main__", "curate.dedup.sketch"])
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        yield from pool.map(sketch, batches, repeat(spec))
