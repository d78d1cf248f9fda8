"""The engine on Ray: the same tasks, run by Ray Data on the cluster's workers.

`ray.init()` joins the cluster named by `RAY_ADDRESS` when it is set (`ray start --head` on
one machine, `ray start --address=HEAD:6379` on the others, or a KubeRay cluster), else
starts Ray on this machine.

* `RayExecutor.map` runs a task function over task descriptors as Ray Data `map_batches`,
  one task per batch: workers read their splits and write their parts themselves, and the
  driver receives only each task's small result (counts and part names). A task is a pure
  function of its descriptor that writes its files under a temporary name and renames them
  when done, so a task that Ray retries after a worker dies writes the same bytes.
* Dedup's LSH buckets form by Ray's hash shuffle: each sketch task's band keys become rows
  `(group, key, doc)`, grouped with `groupby(...).map_groups`. A group is one band, split
  by key into `ceil(documents / GROUP_ROWS)` parts, so no group outgrows a worker whatever
  the input's size; a bucket (one key in one band) never straddles two groups.

The run directory must be on storage every node sees (NFS, a mounted bucket): tasks on any
node read the inputs and write the parts there.
"""

from __future__ import annotations

import logging
import pickle
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from curate.engine import Executor
from curate.progress import progress

T = TypeVar("T")
R = TypeVar("R")
TASK_RETRIES = 3
GROUP_ROWS = 2_000_000  # band-key rows per shuffle group at most (20 bytes each)
# Ray's shuffle map coalesces its input up to 1 GiB by default before partitioning it: one
# map task grew to 1.6 GB at 1M documents. 64 MiB bounds it (0.68 GB at 1M, 0.97 GB at 3M).
SHUFFLE_INPUT_BYTES = 64 << 20


def ray_data() -> Any:
    """The `ray.data` module, with Ray started (or joined) and Data's logging quietened."""
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
    context.shuffle_input_batch_bytes = SHUFFLE_INPUT_BYTES
    context.enable_progress_bars = False
    return ray.data


def _run_pickled(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Unpickle each (function, item), run it, pickle the result (with the node it ran on)."""
    import ray

    _fault_once()
    results = []
    for blob in batch["task"]:
        function, item = pickle.loads(blob)
        try:
            outcome = ("ok", function(item))
        except (ValueError, OSError) as exc:  # bad input or options: the driver re-raises it
            outcome = ("error", exc)
        results.append(pickle.dumps(outcome))
    node = ray.get_runtime_context().get_node_id()
    return {"result": np.array(results, dtype=object), "node": np.array([node] * len(results))}


def _fault_once() -> None:
    """Test hook: with `PREFKIT_KILL_ONE_WORKER=DIR`, the first task to get here kills its own
    worker process (kill -9), once per DIR; Ray must retry the task elsewhere."""
    import os
    import signal
    from pathlib import Path

    directory = os.environ.get("PREFKIT_KILL_ONE_WORKER")
    if not directory:
        return
    try:
        fd = os.open(Path(directory) / "killed", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


NODES_SEEN: set[str] = set()  # node ids that ran this process's tasks (tests check the spread)


class RayExecutor(Executor):
    """Runs tasks on a Ray cluster, results in task order."""

    def __init__(self) -> None:
        import ray

        self.data = ray_data()
        self.workers = int(ray.cluster_resources().get("CPU", 1))

    def map(self, function: Callable[[T], R], items: Sequence[T], *, label: str = "tasks",
            prefix: str = "curate") -> list[R]:
        items = list(items)
        if not items:
            return []
        blobs = [{"task": pickle.dumps((function, item))} for item in items]
        dataset = self.data.from_items(blobs, override_num_blocks=len(blobs))
        with warnings.catch_warnings():  # Ray 2.60 deprecates `max_retries` here, yet has
            # no named parameter for it; without it a task whose worker keeps dying is retried
            # forever
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            mapped = dataset.map_batches(_run_pickled, batch_size=1, batch_format="numpy",
                                         num_cpus=1, max_retries=TASK_RETRIES)
        out: list[R] = []
        with progress(prefix, label, len(items), unit="tasks", quiet=len(items) < 2) as advance:
            for row in mapped.iter_rows():
                kind, value = pickle.loads(row["result"])
                if kind == "error":
                    raise value
                out.append(value)
                NODES_SEEN.add(str(row["node"]))
                advance()
        return out


# --- dedup's buckets by Ray's shuffle -----------------------------------------------------------

def _band_rows(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One sketch task's band keys as rows (group, key, doc) of its active documents."""
    from curate.dedup.stages import inactive_mask

    keys, groups, docs = [], [], []
    for blob in batch["task"]:
        plan, layout, number, parts = pickle.loads(blob)
        doc = np.arange(layout.offsets[number], layout.offsets[number + 1])
        active = ~inactive_mask(plan, layout)[doc]
        for band in range(plan.bands):
            key = plan.band_keys_of(number, band)[active].astype(np.uint32)
            keys.append(key)
            groups.append(band * parts + (key % parts).astype(np.int64))
            docs.append(doc[active])
    if not keys:
        return {"group": np.zeros(0, np.int64), "key": np.zeros(0, np.uint32),
                "doc": np.zeros(0, np.int64)}
    return {"group": np.concatenate(groups), "key": np.concatenate(keys),
            "doc": np.concatenate(docs)}


def _bucket_group(plan: Any, parts: int) -> Callable[[dict[str, np.ndarray]],
                                                     dict[str, np.ndarray]]:
    def bucket(group: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        from curate.dedup.stages import buckets_of, save_buckets

        number = int(group["group"][0])
        members, sizes = buckets_of(group["key"], group["doc"])
        save_buckets(plan, number // parts, members, sizes, part=number % parts)
        return {"group": np.array([number]), "buckets": np.array([len(sizes)])}

    return bucket


def ray_buckets(plan: Any, layout: Any) -> list[dict[str, Any]]:
    """The buckets of every band, through Ray's shuffle (the same buckets as `bucket_task`'s,
    in one file per group)."""
    data = ray_data()
    parts = max(1, -(-layout.offsets[-1] // GROUP_ROWS))
    tasks = [{"task": pickle.dumps((plan, layout, number, parts))}
             for number in range(len(layout.offsets) - 1)]
    rows = data.from_items(tasks, override_num_blocks=max(1, len(tasks))) \
        .map_batches(_band_rows, batch_size=1, batch_format="numpy")
    grouped = rows.groupby("group", num_partitions=max(200, plan.bands * parts)) \
        .map_groups(_bucket_group(plan, parts), batch_format="numpy")
    buckets = [0] * plan.bands  # a group where no document is active has no file
    for row in grouped.iter_rows():
        buckets[int(row["group"]) // parts] += int(row["buckets"])
    return [{"buckets": n, "members": 0} for n in buckets]
