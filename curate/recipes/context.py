"""What a recipe step is: its options model, how it runs, and the paths its options name.

* `read`: names the input; its records are not copied, the next step reads the files.
* `record`: a per-record step (`curate.steps`); consecutive ones run as one chain, a batch
  at a time, each still writing its own output.
* `global`: a multi-stage step (dedup, select, pairs, OASST trees) with its own driver,
  `run(inputs, out, options, *, on_error, engine, sharding, known_rejects, quiet)`.
* `write`: copies the records to a file or directory of the user's.

`convert` is a record step, or a global one for OASST trees (decided from the data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

StepKind = Literal["read", "record", "global", "convert", "write"]


@dataclass(frozen=True)
class StepType:
    options: type[BaseModel]
    kind: StepKind
    run: Callable[..., Any] | None = None  # the driver of a global step
    inputs: tuple[str, ...] = ()  # option fields naming files that must exist
    paths: tuple[str, ...] = ()  # option fields that may name files (models, presets)
    cacheable: bool = True  # False for steps with effects outside the run dir (write)
