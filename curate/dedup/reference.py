"""Read and sketch the `--against` reference datasets."""

from __future__ import annotations

import numpy as np

from curate.dedup.against import Reference
from curate.dedup.options import DedupOptions
from curate.dedup.progress import Phases
from curate.dedup.sketch import SketchSpec
from curate.dedup.workers import sketch_all
from curate.io import OnError, Rejects, read_rows
from curate.views import text_view


def load_reference(paths: list[str], options: DedupOptions, spec: SketchSpec, phases: Phases,
                   on_error: OnError = "raise") -> Reference:
    """Every reference record with a non-empty text view, sketched like the input.

    A record's id is its ``id`` or its 0-based row in its file (malformed rows count, as in
    the input). Records without the compared text are skipped (counted in
    `Reference.skipped`); malformed rows raise, or are skipped too with ``on_error="skip"``.
    """
    ids, sources, texts = [], [], []
    rejects = Rejects(on_error)
    skipped = 0
    for path in paths:
        rejected_before = len(rejects)
        for position, (_, record) in enumerate(read_rows(path, rejects=rejects)):
            try:
                texts.append(text_view(record, options.field))
            except (KeyError, TypeError, AttributeError):
                skipped += 1
                continue
            ids.append(record["id"] if "id" in record else
                       position + len(rejects) - rejected_before)
            sources.append(str(path))
    with phases.phase("reference", len(texts)) as advance:
        sketches = sketch_all(texts, spec, workers=options.workers, advance=advance)
    usable = np.flatnonzero(sketches.words > 0)
    return Reference([ids[i] for i in usable], [sources[i] for i in usable],
                     [texts[i] for i in usable], sketches.keys[usable],
                     sketches.signatures[usable], skipped + len(rejects) + len(texts) - len(usable))
