"""`curate pairs` out of core: the inputs are shuffled by the join key (two models' outputs),
by pair id (blind preference pairs) or by record id (candidates), each partition is paired
alone, and the items are merged in input order (`curate.grouped`)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from curate.dataflow import Sharding
from curate.engine import EngineOptions
from curate.grouped import run_grouped_step
from curate.io import Rejects
from curate.io.sources import plan_splits
from curate.pairs import (
    STEP,
    PairsOptions,
    candidate_key,
    positioned_blind_pairs,
    positioned_candidate_items,
    positioned_pairs,
)
from curate.views import text_view
from schemas import StepStats


def join_key(record: dict[str, Any], *, join_on: str) -> str:
    try:
        return " ".join(text_view(record, join_on).split())
    except KeyError:
        return ""  # the group function rejects it with the field it lacks


def pair_id(record: dict[str, Any]) -> str:
    return str(record.get("id", ""))


def _payloads(items: list[tuple[Any, str, dict[str, Any]]]) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    for position, kind, line in items:
        if kind == "kept":
            out.append((position, {"kind": "kept", "records": [line], "used": 0}))
        else:
            out.append((position, {"kind": "removed", "line": line}))
    return out


def group_outputs(rows: list[Any], options: dict[str, Any],
                  rejects: Rejects) -> list[tuple[Any, dict[str, Any]]]:
    plain, names = options["options"], options["names"]
    side_a = [(row.position, (row.loc, row.record)) for row in rows if row.side == 0]
    side_b = [(row.position, (row.loc, row.record)) for row in rows if row.side == 1]
    items = positioned_pairs(side_a, side_b, plain, names=names, rejects=rejects)
    payloads = _payloads(items)
    for _, payload in payloads:
        if payload["kind"] == "kept":
            payload["used"] = 2  # one record of each side
    return payloads


def group_blind(rows: list[Any], options: PairsOptions,
                rejects: Rejects) -> list[tuple[Any, dict[str, Any]]]:
    payloads = _payloads(positioned_blind_pairs([(row.position, (row.loc, row.record))
                                                 for row in rows], options, rejects=rejects))
    gold = []
    for position, payload in payloads:
        if payload["kind"] == "kept":
            payload["used"] = 1
            if "gold" in payload["records"][0]:
                gold.append((position, {"kind": "stats", "counts": {"gold": 1}}))
    return payloads + gold


def group_candidates(rows: list[Any], options: dict[str, Any],
                     rejects: Rejects) -> list[tuple[Any, dict[str, Any]]]:
    """Each candidates record's items as one payload (they keep its place in the input)."""
    items = positioned_candidate_items([(row.position, (row.loc, row.record)) for row in rows],
                                       options["options"], source=options["source"],
                                       rejects=rejects)
    out: list[tuple[Any, dict[str, Any]]] = []
    for position, kind, line in items:
        if kind == "kept":
            if out and out[-1][0] == position and out[-1][1]["kind"] == "kept":
                out[-1][1]["records"].append(line)
            else:
                out.append((position, {"kind": "kept", "records": [line], "used": 1}))
        elif kind == "removed":
            out.append((position, {"kind": "removed", "line": line}))
        else:
            out.append((position, {"kind": "stats", "counts": line}))
    return out


def candidates_inputs(inputs: list[str], out: str | Path, options: PairsOptions, *,
                      on_error: str = "raise", split: str = "train",
                      engine: EngineOptions = EngineOptions(), sharding: Sharding = Sharding(),
                      source: str | None = None, quiet: bool = False) -> StepStats:
    """A/B items (every pair) or ranking items from K responses per prompt."""
    source = source or Path(str(inputs[0])).name.split(".")[0]
    counters = ("identical_pairs", "empty_pairs")
    return run_grouped_step(
        STEP, {"options": options, "source": source}, [(0, plan_splits(inputs, split=split))],
        inputs, out, key=candidate_key, group=group_candidates, on_error=on_error,
        engine=engine, sharding=sharding, quiet=quiet,
        finish=lambda extra, counts: {"task": options.task, "items": counts.n_out,
                                      **{name: extra.get(name, 0) for name in counters}})


def pair_outputs_inputs(inputs_a: list[str], inputs_b: list[str], out: str | Path,
                        options: PairsOptions, *, on_error: str = "raise",
                        split: str = "train", engine: EngineOptions = EngineOptions(),
                        sharding: Sharding = Sharding(), known_rejects: bool = False,
                        names: tuple[str, str] | None = None, quiet: bool = False) -> StepStats:
    """Items from model A's outputs (`inputs_a`) joined with model B's (`inputs_b`)."""
    names = names or tuple(Path(str(files[0])).name.split(".")[0].removesuffix("_outputs")
                           for files in (inputs_a, inputs_b))
    sides = [(0, plan_splits(inputs_a, split=split)), (1, plan_splits(inputs_b, split=split))]
    return run_grouped_step(
        STEP, {"options": options, "names": names}, sides, [*inputs_a, *inputs_b], out,
        key=functools.partial(join_key, join_on=options.join_on), group=group_outputs,
        on_error=on_error, engine=engine, sharding=sharding,
        finish=lambda extra, counts: {"pairs": counts.n_out}, quiet=quiet,
        known_sides=(0,) if known_rejects else ())


def blind_pairs_inputs(inputs: list[str], out: str | Path, options: PairsOptions, *,
                       on_error: str = "raise", split: str = "train",
                       engine: EngineOptions = EngineOptions(), sharding: Sharding = Sharding(),
                       known_rejects: bool = False, quiet: bool = False) -> StepStats:
    """Blind A/B items from preference pairs."""
    return run_grouped_step(
        STEP, options, [(0, plan_splits(inputs, split=split))], inputs, out, key=pair_id,
        group=group_blind, on_error=on_error, engine=engine, sharding=sharding,
        finish=lambda extra, counts: {"gold": extra.get("gold", 0)}, quiet=quiet,
        known_sides=(0,) if known_rejects else ())
