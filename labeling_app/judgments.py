"""Judgments as one polars frame, from a labeling database or a plain judgment file.

Accepted files (jsonl, json, csv, parquet), one pairwise judgment per row:

* prefkit's raw export (`label export --format judgments`): `item_id`, `user`, `choice`,
  `len_a`, `len_b` (or `response_a`/`response_b`), optional `left`, `source_a/b`, `gold`;
* AlpacaEval annotations: `instruction`, `output_1`, `output_2`, `preference` (1 or 2;
  1.5 or 0 is a tie), `generator_1/2`, `annotator`;
* Chatbot Arena battles: `model_a`, `model_b`, `winner` (`model_a`, `model_b`, `tie`,
  `tie (bothbad)`), `conversation_a/b`, `judge`; model A is the one shown on the left.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from curate.io import BadRecord, Loc, Rejects, read_rows
from curate.io.read import undecodable_line
from labeling_app.export import csv_unescape
from labeling_app.store import Store
from schemas.labeling import CHOICES, ORDINAL, STRENGTH, WINNER

FRAME_SCHEMA: dict[str, Any] = {
    "item_id": pl.String, "user": pl.String, "winner": pl.String, "choice": pl.String,
    "strength": pl.Float64, "ordinal": pl.Int64, "left": pl.String, "len_a": pl.Int64,
    "len_b": pl.Int64, "source_a": pl.String, "source_b": pl.String, "gold": pl.String,
    "seconds": pl.Float64, "simulated": pl.Boolean, "kind": pl.String, "item": pl.String,
    "unit": pl.Int64,
}
"""One row per vote on a pair of responses. `item_id` names the pair (an A/B item, or one
pair of a K-way item's responses: `item` names the item then); `unit` is a number for
`item_id` (the same within a frame for the same id) that metrics group on, since grouping
600k strings took a third of the K-way dashboard's time; `kind` is the voter's (`human` or
`ai`)."""
_ARENA_WINNER = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "both_bad"}


def judgments_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The metrics frame: skips dropped; `winner`, `strength` and `ordinal` derived from
    `choice` where a row has one."""
    frame = pl.from_dicts(rows, schema=FRAME_SCHEMA) if rows else pl.DataFrame(schema=FRAME_SCHEMA)
    return judgments_frame_from(frame)


def judgments_frame_from(frame: pl.DataFrame) -> pl.DataFrame:
    """`judgments_frame` of a polars frame with some of `FRAME_SCHEMA`'s columns."""
    frame = frame.with_columns(pl.lit(None, dtype=dtype).alias(name)
                               for name, dtype in FRAME_SCHEMA.items()
                               if name not in frame.columns and name != "unit")
    if "unit" not in frame.columns or frame["unit"].has_nulls():  # numbered here unless given
        frame = frame.with_columns(pl.col("item_id").rank("dense").cast(pl.Int64).alias("unit"))
    frame = frame.select(list(FRAME_SCHEMA))
    choice = pl.col("choice")
    return (frame.filter(choice.is_null() | (choice != "skip"))
            .with_columns(pl.coalesce("winner", choice.replace_strict(WINNER, default=None)),
                          pl.coalesce("strength", choice.replace_strict(STRENGTH, default=None)),
                          choice.replace_strict(ORDINAL, default=None, return_dtype=pl.Int64)
                          .alias("ordinal"),
                          pl.col("simulated").fill_null(False),
                          pl.col("kind").fill_null("human"), pl.coalesce("item", "item_id")))


def store_frame(store: Store) -> pl.DataFrame:
    """The metrics frame of every judgment in a labeling database.

    Votes and item facts are read apart and joined here: each item's facts become Python
    objects once, not once per vote (40% faster than the SQL join at 100k votes)."""
    votes = pl.DataFrame(store.vote_rows(), orient="row",
                         schema={name: FRAME_SCHEMA[name] for name in store.VOTE_COLUMNS})
    votes = votes.with_columns(pl.col("user").replace_strict(store.user_kinds(), default="human",
                                                             return_dtype=pl.String).alias("kind"))
    facts = pl.DataFrame(store.item_facts(), orient="row",
                         schema={name: FRAME_SCHEMA[name] for name in store.FACT_COLUMNS})
    return judgments_frame_from(votes.join(facts, on="item_id", how="left",
                                           maintain_order="left"))


def is_database(path: Path) -> bool:
    """True for a SQLite file (checked by its header, not its name)."""
    if not path.is_file():
        return False
    with open(path, "rb") as handle:
        return handle.read(16) == b"SQLite format 3\x00"


def load_judgments(source: str | Path, *, rejects: Rejects | None = None) -> pl.DataFrame:
    """The judgments frame of a labeling database or a judgment file."""
    path = Path(source)
    if is_database(path):
        with Store(path) as store:
            return store_frame(store)
    rejects = Rejects("raise") if rejects is None else rejects
    rows = []
    for loc, row in _rows(path, rejects):
        try:
            rows.append(normalize(loc, row))
        except BadRecord as error:
            rejects(error)
    return judgments_frame(rows)


def _rows(path: Path, rejects: Rejects) -> Iterator[tuple[Loc, dict[str, Any]]]:
    if path.suffix.lower() != ".csv":
        yield from read_rows(path, rejects=rejects)
        return
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            for row in reader:
                yield Loc(str(path), reader.line_num), {
                    k: (csv_unescape(v) if v != "" else None) for k, v in row.items()}
    except UnicodeDecodeError:
        raise undecodable_line(path) from None


def normalize(loc: Loc, row: dict[str, Any]) -> dict[str, Any]:
    """One judgment row in frame terms; `BadRecord` naming the field otherwise."""
    if "choice" in row:
        return _prefkit(loc, row)
    if "preference" in row:
        return _alpaca_eval(loc, row)
    if "winner" in row and "model_a" in row:
        return _arena(loc, row)
    raise BadRecord(loc, "<record>", "not a judgment: expected 'choice' (prefkit), 'preference' "
                    "(AlpacaEval) or 'winner' with 'model_a' (Chatbot Arena)",
                    reason="unknown_format", record=row)


def _prefkit(loc: Loc, row: dict[str, Any]) -> dict[str, Any]:
    if row["choice"] not in CHOICES:
        raise BadRecord(loc, "choice", f"must be one of {', '.join(CHOICES)}, not "
                        f"{row['choice']!r}", reason="invalid_choice", record=row)
    for field in ("item_id", "user"):
        if row.get(field) in (None, ""):
            raise BadRecord(loc, field, "is required", reason="missing_field", record=row)
    if row.get("left") not in (None, "a", "b"):
        raise BadRecord(loc, "left", "must be 'a' or 'b'", reason="invalid_left", record=row)
    simulated = row.get("simulated")
    return {**row, "item_id": str(row["item_id"]), "user": str(row["user"]),
            "len_a": _length(loc, row, "a"), "len_b": _length(loc, row, "b"),
            "seconds": float(row["seconds"]) if row.get("seconds") is not None else None,
            "simulated": simulated in (True, "true", "True", "1", 1)}


def _length(loc: Loc, row: dict[str, Any], side: str) -> int:
    if row.get(f"len_{side}") is not None:
        try:
            return int(row[f"len_{side}"])
        except ValueError:
            raise BadRecord(loc, f"len_{side}", "must be an integer", reason="invalid_length",
                            record=row) from None
    text = row.get(f"response_{side}")
    if isinstance(text, str):
        return len(text)
    raise BadRecord(loc, f"len_{side}", f"is required (or response_{side})",
                    reason="missing_field", record=row)


def _alpaca_eval(loc: Loc, row: dict[str, Any]) -> dict[str, Any]:
    for field in ("instruction", "output_1", "output_2"):
        if not isinstance(row.get(field), str):
            raise BadRecord(loc, field, "must be a string", reason="missing_field", record=row)
    try:
        preference = float(row["preference"])
    except (TypeError, ValueError):
        preference = math.nan
    if math.isnan(preference) or not (preference == 0 or 1 <= preference <= 2):
        raise BadRecord(loc, "preference", f"must be 1, 2, 1.5 or 0 (tie), not "
                        f"{row['preference']!r}", reason="invalid_preference", record=row)
    winner = "a" if 1 <= preference < 1.5 else "b" if preference > 1.5 else "tie"
    user = str(row.get("annotator") or "judge")
    if row.get("annotator_index") is not None:
        user += f"#{row['annotator_index']}"
    return {"item_id": _key(row["instruction"], row["output_1"], row["output_2"]), "user": user,
            "winner": winner, "len_a": len(row["output_1"]), "len_b": len(row["output_2"]),
            "source_a": row.get("generator_1"), "source_b": row.get("generator_2")}


def _arena(loc: Loc, row: dict[str, Any]) -> dict[str, Any]:
    winner = _ARENA_WINNER.get(row["winner"])
    if winner is None:
        raise BadRecord(loc, "winner", f"must be one of {', '.join(_ARENA_WINNER)}",
                        reason="invalid_winner", record=row)
    lengths = []
    for side in ("a", "b"):
        turns = row.get(f"conversation_{side}")
        if not isinstance(turns, list):
            raise BadRecord(loc, f"conversation_{side}", "must be a list of turns",
                            reason="missing_field", record=row)
        lengths.append(sum(len(t.get("content") or "") for t in turns
                           if isinstance(t, dict) and t.get("role") == "assistant"))
    item = str(row.get("question_id") or _key(str(row.get("conversation_a"))))
    return {"item_id": item, "user": str(row.get("judge") or "judge"), "winner": winner,
            "left": "a", "len_a": lengths[0], "len_b": lengths[1], "source_a": row["model_a"],
            "source_b": row["model_b"]}


def _key(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]
