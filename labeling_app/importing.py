"""`label import`: validate items, then add them to the database in one transaction.

The first import sets the project's task: pairwise for A/B items, ranking (or, with
`--task ratings`, ratings) for items with K responses (`curate pairs --from-candidates
--task ranking`). A ratings project takes its criteria from `--criteria FILE` or the bundled
ones (`labeling_app.project`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.io import BadRecord, Loc, Rejects, read_rows, write_json, write_records
from curate.progress import progress
from labeling_app.project import Project, ratings_project
from labeling_app.store import ItemConflict, Store
from schemas import StepStats, first_error
from schemas.chat import check_turn_order
from schemas.labeling import Item, MultiItem, as_messages

STEP = "label import"
TEXT_FIELDS = ("prompt", "response_a", "response_b")


class ImportOptions(BaseModel):
    """Options of `label import` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    overlap: int = Field(3, ge=1, description="Judgments each item needs, from different "
                         "labelers.")
    max_chars: int = Field(100_000, ge=100, description="Characters one text may have (a "
                           "prompt, a response, or one turn of either): labelers read every "
                           "item in a browser, and a 1 MB one froze the page.")
    truncate: bool = Field(False, description="Cut a longer text to max_chars with a marker "
                           "saying how much was cut (counted in the stats and in the item's "
                           "meta.truncated) instead of rejecting the item.")
    task: Literal["pairwise", "ranking", "ratings"] | None = Field(
        None, description="The project's task, set at the first import: pairwise (A/B items), "
        "ranking or ratings (items with K responses). Default: the database's task, else "
        "from the items (ranking for items with responses).")
    criteria: Path | None = Field(None, description="Ratings: a YAML file of criteria (name, "
                                  "low, high, guideline) and flags; default: helpful, truthful, "
                                  "harmless on 1-7 and flags unsafe, hallucination, refusal.")


def choose_project(options: ImportOptions, current: Project | None,
                   first: dict[str, Any] | None) -> Project:
    """The project these items go into: the options' task, else the database's, else what
    the first record looks like."""
    task = options.task or (current.task if current else None) or \
        ("ranking" if isinstance(first, dict) and "responses" in first else "pairwise")
    if options.criteria is not None and task != "ratings":
        raise ValueError("--criteria goes with a ratings project (--task ratings)")
    if task != "ratings":
        return Project(task=task)
    if options.criteria is None and current is not None and current.task == "ratings":
        return current
    return ratings_project(options.criteria)


def import_items(source: str, store: Store, options: ImportOptions, *, rejects: Rejects,
                 split: str = "train", quiet: bool = False) -> StepStats:
    """Add every valid item of `source`; all or nothing in `raise` mode.

    Re-importing an item is harmless (`unchanged`, or `updated` when only the overlap
    differs); the same id with other content is bad input (`conflicting_item`). A file
    with no record at all is an error, not an import of nothing.
    """
    started = time.perf_counter()
    locs: list[Loc] = []
    items: list[Item] = []
    rows = list(read_rows(source, rejects=rejects, split=split))
    n_in = len(rows) + len(rejects)  # bad lines are rejected while reading
    if n_in == 0:
        raise ValueError(f"{source}: no items in the file (it is empty)")
    project = choose_project(options, store.project(), rows[0][1] if rows else None)
    model = MultiItem if project.multi else Item
    truncated = 0
    with progress(STEP, "validating items", len(rows), unit="items", quiet=quiet) as advance:
        for loc, record in rows:
            advance()
            try:
                _check_kind(loc, record, project)
                item = model.model_validate(record)
                check_pairable(item, loc, record)
                item, cuts = cap_texts(item, options, loc, record)
            except ValidationError as exc:
                field, message = first_error(exc)
                rejects(BadRecord(loc, field, message, reason="invalid_item", record=record))
                continue
            except BadRecord as error:
                rejects(error)
                continue
            truncated += bool(cuts)
            items.append(item)
            locs.append(loc)
    try:
        statuses = store.add_items(items, overlap=options.overlap,
                                   all_or_nothing=rejects.mode == "raise", project=project)
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
                     output=str(store.path), overlap=options.overlap,
                     max_chars=options.max_chars, truncated=truncated, task=project.task,
                     **counts)


def _check_kind(loc: Loc, record: dict[str, Any], project: Project) -> None:
    """An A/B item in a K-way project (or the reverse) is bad input, said plainly."""
    if not isinstance(record, dict):
        return
    if project.multi and "responses" not in record:
        raise BadRecord(loc, "responses", f"is required: this is a {project.task} project (K "
                        "responses per item; make them with `curate pairs --from-candidates "
                        "--task ranking`)", reason="invalid_item", record=record)
    if not project.multi and "responses" in record:
        raise BadRecord(loc, "responses", "this is a pairwise project (A/B items); K-way items "
                        "go in a new database with --task ranking or ratings",
                        reason="invalid_item", record=record)


def check_pairable(item: Item | MultiItem, loc: Loc, record: dict[str, Any]) -> None:
    """Each response must continue the prompt as a conversation (`PreferencePair`'s rule), or
    the item could be judged but never exported: e.g. two assistant turns in a row."""
    prompt = as_messages(item.prompt, "user")
    sides = [(f"responses[{i}]", r) for i, r in enumerate(item.responses)] \
        if isinstance(item, MultiItem) else \
        [(side, getattr(item, side)) for side in ("response_a", "response_b")]
    for side, value in sides:
        try:
            check_turn_order(prompt + as_messages(value, "assistant"))
        except ValueError as exc:
            raise BadRecord(loc, side, f"does not continue the prompt: {exc}",
                            reason="invalid_item", record=record) from None


def cap_texts(item: Item | MultiItem, options: ImportOptions, loc: Loc,
              record: dict[str, Any]) -> tuple[Item | MultiItem, dict[str, int]]:
    """The item with every text within `max_chars`: a `BadRecord` (reason `too_long`)
    naming the first text over it, or with `truncate` the texts cut with a marker, and
    `{field: characters cut}` (also kept in `meta.truncated`)."""
    limit, cuts = options.max_chars, {}

    def capped(name: str, value: Any) -> Any:
        texts = [(name, value)] if isinstance(value, str) else \
            [(f"{name}[{i}].content", turn.content) for i, turn in enumerate(value)]
        over = {path: len(text) - limit for path, text in texts if len(text) > limit}
        if not over:
            return value
        if not options.truncate:
            path, extra = next(iter(over.items()))
            raise BadRecord(loc, path, f"has {limit + extra:,} characters, over --max-chars "
                            f"{limit:,} (raise it, or pass --truncate to cut with a marker)",
                            reason="too_long", record=record)
        cuts.update(over)
        if isinstance(value, str):
            return _cut(value, limit)
        return [turn.model_copy(update={"content": _cut(turn.content, limit)})
                if len(turn.content) > limit else turn for turn in value]

    if isinstance(item, MultiItem):
        update = {"prompt": capped("prompt", item.prompt),
                  "responses": [capped(f"responses[{i}]", response)
                                for i, response in enumerate(item.responses)]}
    else:
        update = {name: capped(name, getattr(item, name)) for name in TEXT_FIELDS}
    if not cuts:
        return item, cuts
    meta = {**item.meta, "truncated": {"max_chars": limit, "cut_characters": cuts}}
    return item.model_copy(update={**update, "meta": meta}), cuts


def _cut(text: str, limit: int) -> str:
    return (text[:limit] + f"\n\n[... {len(text) - limit:,} more characters cut by label "
            f"import --max-chars {limit:,}]")


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
