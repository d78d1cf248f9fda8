"""Ray Data, started on first use, and a way to map rows through it in order.

`ray.init()` connects to `RAY_ADDRESS` when it is set (a cluster), else starts Ray here.
Row order is kept (`preserve_order`): the Ray engine's output must equal the local one's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

BATCH = 1000

Rows = list[dict[str, Any]]


def ray_data() -> Any:
    """The `ray.data` module, with Ray started and Data's per-dataset logging quietened."""
    try:
        import ray
        import ray.data  # configures its loggers on import
    except ImportError:
        raise ValueError("--engine ray needs Ray: pip install '.[ray]'") from None
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False, configure_logging=False)
    for name in ("ray.data", "ray.data._internal.execution.streaming_executor"):
        logging.getLogger(name).setLevel(logging.ERROR)  # else several lines per dataset
    context = ray.data.DataContext.get_current()
    context.execution_options.preserve_order = True
    context.enable_progress_bars = False
    return ray.data


def map_rows(rows: Rows, function: Callable[[Rows], Rows], *, batch_size: int = BATCH) -> Rows:
    """`function(batch of rows) -> rows` over `rows` as Ray Data `map_batches`, in order."""
    if not rows:
        return []
    data = ray_data()
    blocks = max(1, min(64, len(rows) // batch_size))
    dataset = data.from_items(rows, override_num_blocks=blocks)
    out = dataset.map_batches(lambda batch: _columns(function(_rows(batch))),
                              batch_format="numpy", batch_size=batch_size)
    return [dict(row) for row in out.take_all()]


def _rows(batch: dict[str, Any]) -> Rows:
    names = list(batch)
    return [dict(zip(names, values, strict=True)) for values in zip(*batch.values(), strict=True)]


def _columns(rows: Rows) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in rows[0]} if rows else {}
