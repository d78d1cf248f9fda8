"""`label import`: validate items, then add them to the database in one transaction."""

from __future__ import annotations

import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import track

from curate.io import BadRecord, Loc, Rejects, read_rows, write_json, write_records
from labeling_app.store import ItemConflict, Store
from schemas import StepStats, first_error
from schemas.labeling import Item

STEP = "label import"


class ImportOptions(BaseModel):
    """Options of `label import` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    overlap: int = Field(3, ge=1, description="Judgments each item needs, from different "
                         "labelers.")


def import_items(source: str, store: Store, options: ImportOptions, *, rejects: Rejects,
                 split: str = "train") -> StepStats:
    """Add every valid item of `source`; all or nothing in `raise` mode.

    Re-importing an item is harmless (`unchanged`, or `updated` when only the overlap
    differs); the same id with other content is bad input (`conflicting_item`).
    """
    started = time.perf_counter()
    locs: list[Loc] = []
    items: list[Item] = []
    rows = list(read_rows(source, rejects=rejects, split=split))
    n_in = len(rows) + len(rejects)  # bad lines are rejected while reading
    for loc, record in track(rows, description="validating items", transient=True,
                             console=Console(stderr=True)):
        try:
            items.append(Item.model_validate(record))
            locs.append(loc)
        except ValidationError as exc:
            field, message = first_error(exc)
            rejects(BadRecord(loc, field, message, reason="invalid_item", record=record))
    try:
        statuses = store.add_items(items, overlap=options.overlap,
                                   all_or_nothing=rejects.mode == "raise")
    except ItemConflict as conflict:
        raise _conflict(locs[conflict.index], items[conflict.index]) from None
    for loc, item, status in zip(locs, items, statuses, strict=True):
        if status == "conflict":
            rejects(_conflict(loc, item))
    counts = {status: statuses.count(status) for status in ("added", "updated", "unchanged")}
    seconds = time.perf_counter() - started
    return StepStats(step=STEP, n_in=n_in, n_out=sum(counts.values()), rejected=len(rejects),
                     rejected_by_reason=dict(rejects.by_reason), seconds=round(seconds, 4),
                     docs_per_s=round(n_in / seconds, 1) if seconds else 0.0, inputs=[source],
                     output=str(store.path), overlap=options.overlap, **counts)


def _conflict(loc: Loc, item: Item) -> BadRecord:
    return BadRecord(loc, "id", f"item {item.id!r} is already in the database with other "
                     "content", reason="conflicting_item", record=item.model_dump())


def write_import_sidecars(db: Path, stats: StepStats, rejects: Rejects) -> Path:
    """`labels.import.stats.json` (and `.import.rejects.jsonl` in skip mode) beside the db."""
    if rejects.mode == "skip":
        write_records(db.with_suffix(".import.rejects.jsonl"), rejects.records)
    path = db.with_suffix(".import.stats.json")
    write_json(path, stats.model_dump(by_alias=True))
    return path
