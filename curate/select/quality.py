"""The quality stage: `curate filter` itself (`filter_records`) with the `reasoning` preset.

The preset drops empty or error answers, `[asy]` figure code, missing images and broken
markdown or LaTeX. A kept record leaves the stage untouched (the filter's `scores` are not
copied into the selection); a dropped one keeps the filter's reason and failing score.

The filter is a function of a batch: batches of 4,096 records run in this process or, with
`workers > 1`, in a pool of worker processes; the result does not depend on which.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import repeat
from typing import Any

from curate.select.options import SelectOptions
from curate.select.progress import Advance
from curate.step import StepResult, removal

BATCH = 4096
_POSITION = "__select_position__"  # rides along through the filter to map records back


def quality_stage(records: list[dict[str, Any]], options: SelectOptions,
                  advance: Advance = lambda count: None) -> tuple[list[int], list[dict[str, Any]]]:
    """Positions of the records that pass, and removal lines (stage `quality`) for the rest."""
    from curate.filtering import FilterOptions

    filter_options = FilterOptions(preset=[options.quality_preset], report=False,
                                   prompt_field=options.prompt_field or "prompt",
                                   response_field=options.answer_field or "response")
    tagged = [{**record, _POSITION: position} for position, record in enumerate(records)]
    batches = [tagged[start:start + BATCH] for start in range(0, len(tagged), BATCH)]
    passed: list[int] = []
    removed: list[dict[str, Any]] = []
    for batch, result in zip(batches, _filtered(batches, filter_options, options.workers)):
        passed += [record[_POSITION] for record in result.kept]
        for line in result.removed:
            details = {key: value for key, value in line.items()
                       if key not in ("reason", "step", "record")}
            original = records[line["record"][_POSITION]]
            removed.append(removal(original, line["reason"], "select", stage="quality", **details))
        advance(len(batch))
    return passed, removed


def _filtered(batches: list[list[dict[str, Any]]], filter_options: Any,
              workers: int) -> Iterator[StepResult]:
    from curate.filtering import filter_records

    if workers <= 1 or len(batches) <= 1:
        yield from (filter_records(batch, filter_options) for batch in batches)
        return
    # A forkserver that has imported the filters: cheap workers, safe next to rich's threads.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["curate.filtering"])
    with ProcessPoolExecutor(max_workers=min(workers, len(batches)), mp_context=context) as pool:
        yield from pool.map(filter_records, batches, repeat(filter_options))
