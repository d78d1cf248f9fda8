"""`curate convert` of OpenAssistant trees: shuffle rows by tree id, build and convert the
trees of one partition at a time, merge in input order (see `curate.grouped`)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from curate.convert import ConvertOptions, convert_oasst_partition, oasst_tree_key
from curate.dataflow import Sharding
from curate.engine import EngineOptions
from curate.grouped import run_grouped_step
from curate.io import Rejects
from curate.io.sources import Split
from schemas import StepStats


def group_trees(rows: list[Any], options: ConvertOptions,
                rejects: Rejects) -> list[tuple[Any, dict[str, Any]]]:
    items = []
    for position, payload in convert_oasst_partition(rows, options, rejects):
        if payload["kind"] == "kept":
            dropped = payload.pop("removed_pairs")
            items.append((position, {"kind": "kept", "records": payload["records"],
                                     "used": payload["used"]}))
            if dropped:
                counts: dict[str, int] = {}
                for line in dropped:
                    key = f"pairs_dropped:{line['reason']}"
                    counts[key] = counts.get(key, 0) + 1
                items.append((position, {"kind": "stats", "counts": counts}))
        elif payload["kind"] == "nodes":
            items.append((position, {"kind": "stats", "counts": payload["counts"]}))
        else:
            items.append((position, payload))
    return items


def _finish(options: ConvertOptions, extra: dict[str, int],
            counts: Any = None) -> dict[str, Any]:
    root_langs = {k.split(":", 1)[1]: v for k, v in extra.items() if k.startswith("root_lang:")}
    # every tree was removed for its language (a repeat of one too): a --lang that matches
    # nothing, not a result
    if options.lang and root_langs and counts is not None and not counts.n_out and \
            set(counts.removed) <= {"oasst_lang", "oasst_duplicate_tree"}:
        from curate.options import OptionsError

        seen = ", ".join(f"{lang} ({n:,})" for lang, n in
                         sorted(root_langs.items(), key=lambda kv: (-kv[1], kv[0])))
        raise OptionsError(f"--lang {','.join(options.lang)} matched no tree; the trees' "
                           f"languages: {seen}")
    out: dict[str, Any] = {}
    if root_langs:
        out["oasst_trees_removed_by_language"] = dict(sorted(root_langs.items()))
    nodes = {k: v for k, v in extra.items() if ":" not in k and not k.startswith("unranked_")}
    if nodes:
        out["oasst_nodes_dropped"] = dict(sorted(nodes.items()))
    unranked = {k: v for k, v in extra.items() if k.startswith("unranked_")}
    if unranked:
        out["oasst_unranked"] = dict(sorted(unranked.items()))
    pairs = {k.split(":", 1)[1]: v for k, v in extra.items() if k.startswith("pairs_dropped:")}
    if pairs:
        out["pairs_dropped"] = dict(sorted(pairs.items()))
    return out


def convert_oasst(inputs: list[str], splits: list[Split], out: str | Path,
                  options: ConvertOptions, *, on_error: str, engine: EngineOptions,
                  sharding: Sharding, quiet: bool = False,
                  known_rejects: bool = False) -> StepStats:
    return run_grouped_step(
        "convert", options, [(0, splits)], inputs, out, key=oasst_tree_key,
        group=functools.partial(group_trees), on_error=on_error, engine=engine,
        sharding=sharding, finish=functools.partial(_finish, options), quiet=quiet,
        known_sides=(0,) if known_rejects else ())


def convert_oasst_inputs(inputs: list[str], out: str | Path, options: ConvertOptions, *,
                         on_error: str, engine: EngineOptions, sharding: Sharding,
                         known_rejects: bool = False, split: str = "train",
                         quiet: bool = False) -> StepStats:
    """The recipe driver: OASST trees from `inputs` into `out`."""
    from curate.io.sources import plan_splits

    return convert_oasst(inputs, plan_splits(inputs, split=split), out, options,
                         on_error=on_error, engine=engine, sharding=sharding, quiet=quiet,
                         known_rejects=known_rejects)
