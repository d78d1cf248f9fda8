"""A/B labeling items (`schemas.labeling.Item`) from model outputs or existing preference pairs.

* `pair_outputs`: two models' answers to the same prompts, joined on a key (the prompt
  text by default), as AlpacaEval's `*_outputs.json` files are;
* `blind_pairs`: existing chosen/rejected pairs re-labeled blind. Which side becomes A
  is drawn per pair from the seed and the pair's id, and the truth is kept in
  `meta.truth`, so agreement with the original labels can be measured. A seeded share
  of them can be marked gold (`--gold-fraction`);
* `candidate_items`: K responses per prompt (`train generate -k K`, or any file with a list
  of responses per prompt) as all C(K,2) A/B items, or as one K-way ranking item
  (`schemas.labeling.MultiItem`). Each response keeps its source model.
"""

from __future__ import annotations

import hashlib
import itertools
import random
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.io import BadRecord, Loc, Rejects
from curate.step import StepResult, removal
from curate.views import text_view
from schemas import PreferencePair, first_error
from schemas.labeling import MAX_RESPONSES, Item, MultiItem, as_text

STEP = "pairs"
_TEXT_FIELDS = frozenset({"messages", "prompt", "instruction", "input", "question", "problem",
                          "query", "output", "answer", "solution", "response", "completion",
                          "chosen", "rejected", "text"})
_SOURCE_FIELDS = ("generator", "model", "model_id", "source")
RESPONSE_LISTS = ("responses", "outputs", "completions", "candidates", "generations")
"""Fields that hold a list of responses to one prompt (`--from-candidates`)."""
_RESPONSE_TEXT = ("content", "text", "output", "response", "completion")

Row = tuple[Loc, dict[str, Any]]


class PairsOptions(BaseModel):
    """Options of `curate pairs` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    join_on: str = Field("prompt", description="Join key: a text view (prompt) or a column, "
                         "dotted paths allowed (meta.id).")
    source_a: str | None = Field(None, description="Name of model A; default: the records' "
                                 "generator/model field, else the file name.")
    source_b: str | None = None
    seed: int = Field(0, description="Seed of the A/B sides and of the gold draw "
                      "(--from-preference).")
    gold_fraction: float = Field(0.0, ge=0, le=1, description="Share of --from-preference items "
                                 "marked gold, with the original label as the answer.")
    task: Literal["pairwise", "ranking"] = Field(
        "pairwise", description="--from-candidates: every pair of responses as an A/B item "
        "(pairwise), or one item ranking all K (ranking).")


def pair_outputs(rows_a: list[Row], rows_b: list[Row], options: PairsOptions, *,
                 names: tuple[str, str], rejects: Rejects) -> StepResult:
    """One item per key found in both inputs, A's prompt first. Removed (per input record):
    `duplicate_key` (the key seen earlier in the same file), `unmatched` (key only in one
    file) and `identical_responses` (nothing to compare)."""
    items = positioned_pairs(list(enumerate(rows_a)), list(enumerate(rows_b, len(rows_a))),
                             options, names=names, rejects=rejects)
    return _result(items, "pairs")


def positioned_pairs(rows_a: list[tuple[Any, Row]], rows_b: list[tuple[Any, Row]],
                     options: PairsOptions, *, names: tuple[str, str],
                     rejects: Rejects) -> list[tuple[Any, str, dict[str, Any]]]:
    """`pair_outputs` over rows tagged with their input position: `(position, kind, line)`
    with kind `kept` (an item, at A's position) or `removed`."""
    out: list[tuple[Any, str, dict[str, Any]]] = []
    sides = [_index(rows, options.join_on, out, rejects) for rows in (rows_a, rows_b)]
    for own, other in ((sides[0], sides[1]), (sides[1], sides[0])):
        for key in own.keys() - other.keys():
            out.append((own[key]["position"], "removed",
                        removal(own[key]["record"], "unmatched", STEP, key=key)))
    for key, a in sides[0].items():
        b = sides[1].get(key)
        if b is None:
            continue
        if a["response"].strip() == b["response"].strip():
            for side in (a, b):
                out.append((side["position"], "removed",
                            removal(side["record"], "identical_responses", STEP, key=key)))
            continue
        source_a = options.source_a or _source(a["record"], names[0])
        source_b = options.source_b or _source(b["record"], names[1])
        item = Item(id=_item_id(key, source_a, source_b), prompt=a["prompt"],
                    response_a=a["response"], response_b=b["response"], source_a=source_a,
                    source_b=source_b, meta={"join_on": options.join_on,
                                             "a": _provenance(a["record"]),
                                             "b": _provenance(b["record"])})
        out.append((a["position"], "kept", item.model_dump(exclude_none=True)))
    return out


def _result(items: list[tuple[Any, str, dict[str, Any]]], counter: str) -> StepResult:
    items = sorted(items, key=lambda item: item[0])
    kept = [line for _, kind, line in items if kind == "kept"]
    removed = [line for _, kind, line in items if kind == "removed"]
    extra = {"pairs": len(kept)} if counter == "pairs" else \
        {"gold": sum("gold" in item for item in kept)}
    return StepResult(kept, removed, extra)


def _index(rows: list[tuple[Any, Row]], join_on: str, out: list[tuple[Any, str, dict[str, Any]]],
           rejects: Rejects) -> dict[str, dict[str, Any]]:
    """Key -> the first record with that key, its prompt, response and position."""
    index: dict[str, dict[str, Any]] = {}
    for position, (loc, record) in rows:
        try:
            key = " ".join(text_view(record, join_on).split())
            prompt, response = _prompt_and_response(record)
            Item(id="check", prompt=prompt, response_a=response, response_b=response)
        except KeyError as missing:
            rejects(BadRecord(loc, str(missing.args[0]), "missing (needed to build an A/B item)",
                              reason="missing_field", record=record))
            continue
        except (TypeError, AttributeError) as exc:
            rejects(BadRecord(loc, join_on, f"unreadable ({exc})", reason="bad_field",
                              record=record))
            continue
        except ValidationError as exc:
            field, message = first_error(exc)
            field = field.replace("response_a", "response")
            rejects(BadRecord(loc, field, message, reason="invalid_record", record=record))
            continue
        if not key:
            rejects(BadRecord(loc, join_on, "empty join key", reason="missing_field",
                              record=record))
        elif key in index:
            out.append((position, "removed",
                        removal(record, "duplicate_key", STEP, key=key, line=loc.line)))
        else:
            index[key] = {"record": record, "prompt": prompt, "response": response,
                          "position": position}
    return index


def _prompt_and_response(record: dict[str, Any]) -> tuple[Any, str]:
    """Chat records split at the last assistant turn; others use the prompt and response views."""
    messages = record.get("messages")
    if isinstance(messages, list):
        last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"),
                   default=None)
        if last is None:
            raise KeyError("messages")
        return messages[:last], messages[last]["content"]
    prompt, response = text_view(record, "prompt"), text_view(record, "response")
    if not prompt.strip():
        raise KeyError("prompt")
    if not response.strip():
        raise KeyError("response")
    return prompt, response


def _source(record: dict[str, Any], fallback: str) -> str:
    for field in _SOURCE_FIELDS:
        if isinstance(record.get(field), str) and record[field]:
            return record[field]
    return fallback


def _provenance(record: dict[str, Any]) -> dict[str, Any]:
    """The record's own fields minus the texts already in the item (nothing is lost)."""
    return {key: value for key, value in record.items() if key not in _TEXT_FIELDS}


def _item_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]


def blind_pairs(rows: list[Row], options: PairsOptions, *, rejects: Rejects) -> StepResult:
    """Items from `PreferencePair` records, chosen randomly as A or B (`meta.truth`).
    Removed: `duplicate_id`, degenerate pairs (`empty_chosen`, `empty_rejected`,
    `identical_chosen_rejected`)."""
    return _result(positioned_blind_pairs(list(enumerate(rows)), options, rejects=rejects),
                   "gold")


def positioned_blind_pairs(rows: list[tuple[Any, Row]], options: PairsOptions, *,
                           rejects: Rejects) -> list[tuple[Any, str, dict[str, Any]]]:
    """`blind_pairs` over rows tagged with their input position (ids repeat only within a
    partition of the shuffle by id, so duplicates are found there)."""
    from curate.convert import degenerate_pair

    out: list[tuple[Any, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for position, (loc, record) in sorted(rows, key=lambda row: row[0]):
        try:
            pair = PreferencePair.model_validate(record)
        except ValidationError as exc:
            field, message = first_error(exc)
            rejects(BadRecord(loc, field, message, reason="invalid_record", record=record))
            continue
        if pair.id in seen:
            out.append((position, "removed", removal(record, "duplicate_id", STEP, line=loc.line)))
            continue
        seen.add(pair.id)
        chosen = [m.model_dump() for m in pair.chosen]
        rejected = [m.model_dump() for m in pair.rejected]
        if reason := degenerate_pair({"chosen": chosen, "rejected": rejected}):
            out.append((position, "removed", removal(record, reason, STEP, line=loc.line)))
            continue
        draw = random.Random(f"{options.seed}:{pair.id}")  # per pair: stable under filtering
        truth = "a" if draw.random() < 0.5 else "b"
        gold = truth if draw.random() < options.gold_fraction else None
        a, b = (chosen, rejected) if truth == "a" else (rejected, chosen)
        try:
            item = Item(id=pair.id, prompt=pair.prompt, response_a=a, response_b=b,
                        source_a="chosen" if truth == "a" else "rejected",
                        source_b="rejected" if truth == "a" else "chosen", gold=gold,
                        meta={"truth": truth, "seed": options.seed, "pair_meta": pair.meta})
        except ValidationError as exc:
            field, message = first_error(exc)
            rejects(BadRecord(loc, field, message, reason="invalid_record", record=record))
            continue
        out.append((position, "kept", item.model_dump(exclude_none=True)))
    return out


# -- candidates: K responses per prompt -----------------------------------------------------

def candidate_key(record: dict[str, Any]) -> str:
    """The shuffle key of a candidates record: its id, else its prompt text."""
    if isinstance(record.get("id"), str | int) and str(record["id"]):
        return f"id:{record['id']}"
    try:
        return "prompt:" + " ".join(text_view(record, "prompt").split())
    except (KeyError, TypeError, AttributeError):
        return ""  # the conversion rejects it with the field it lacks


def candidate_items(rows: list[Row], options: PairsOptions, *, source: str,
                    rejects: Rejects) -> StepResult:
    """Items from candidates records (see `positioned_candidate_items`)."""
    items = positioned_candidate_items(list(enumerate(rows)), options, source=source,
                                       rejects=rejects)
    kept = [line for _, kind, line in sorted(items, key=lambda x: x[0]) if kind == "kept"]
    removed = [line for _, kind, line in sorted(items, key=lambda x: x[0]) if kind == "removed"]
    return StepResult(kept, removed)


def positioned_candidate_items(rows: list[tuple[Any, Row]], options: PairsOptions, *,
                               source: str, rejects: Rejects
                               ) -> list[tuple[Any, str, dict[str, Any]]]:
    """Per candidates record, in input order: its C(K,2) A/B items (`pairwise`) or its
    ranking item, as `(position, "kept", item)`, or `(position, "removed", line)` with the
    reason: `duplicate_id` (an id seen earlier), `fewer_than_two_responses`,
    `too_many_responses` (ranking: over `MAX_RESPONSES`), `no_distinct_pair` (pairwise:
    every pair identical or with an empty side). Pairs left out of a record that gave
    items are counted (`(position, "stats", counts)`): `identical_pairs`, `empty_pairs`.
    `source` names the model of responses that name none (the file name by default)."""
    out: list[tuple[Any, str, dict[str, Any]]] = []
    seen: set[str] = set()
    for position, (loc, record) in sorted(rows, key=lambda row: row[0]):
        try:
            parsed = read_candidates(loc, record, source)
        except BadRecord as error:
            rejects(error)
            continue
        item_id, prompt, responses, sources, provenance = parsed
        if item_id in seen:
            out.append((position, "removed", removal(record, "duplicate_id", STEP, id=item_id,
                                                     line=loc.line)))
            continue
        seen.add(item_id)
        k = len(responses)
        if k < 2:
            out.append((position, "removed", removal(record, "fewer_than_two_responses", STEP,
                                                     k=k)))
            continue
        meta = {"candidates_id": item_id, "k": k, **provenance}
        if options.task == "ranking":
            if k > MAX_RESPONSES:
                out.append((position, "removed",
                            removal(record, "too_many_responses", STEP, k=k, limit=MAX_RESPONSES,
                                    hint="--task pairwise makes A/B items of any K")))
                continue
            item = MultiItem(id=item_id, prompt=prompt, responses=responses, sources=sources,
                             meta=meta)
            out.append((position, "kept", item.model_dump(exclude_none=True)))
            continue
        counts = {"identical_pairs": 0, "empty_pairs": 0}
        made = []
        for i, j in itertools.combinations(range(k), 2):
            first, second = (as_text(responses[n]).strip() for n in (i, j))
            if not first or not second:
                counts["empty_pairs"] += 1
            elif first == second:
                counts["identical_pairs"] += 1
            else:
                made.append(Item(id=f"{item_id}:{i}-{j}", prompt=prompt, response_a=responses[i],
                                 response_b=responses[j], source_a=sources[i],
                                 source_b=sources[j], meta={**meta, "pair": [i, j]}))
        if not made:
            out.append((position, "removed", removal(record, "no_distinct_pair", STEP, k=k,
                                                     **counts)))
            continue
        out.extend((position, "kept", item.model_dump(exclude_none=True)) for item in made)
        if any(counts.values()):
            out.append((position, "stats", counts))
    return out


def read_candidates(loc: Loc, record: dict[str, Any], source: str
                    ) -> tuple[str, Any, list[Any], list[str], dict[str, Any]]:
    """`(id, prompt, responses, sources, provenance)` of one candidates record, or a
    `BadRecord` naming the field. Accepted: `train generate`'s lines (`prompt` turns,
    `responses: [{"content", "source"}]`) and any record with a prompt (`prompt`,
    `messages`, `instruction` + `input`, `question`, ...) and a list of responses under one
    of `RESPONSE_LISTS`, each a string, chat turns, or an object with its text under
    content/text/output/response/completion (and its model under source/model/generator)."""
    field = next((name for name in RESPONSE_LISTS if name in record), None)
    if field is None:
        raise BadRecord(loc, "responses", "no list of responses (a candidates record has one "
                        f"under {', '.join(RESPONSE_LISTS)})", reason="missing_field",
                        record=record)
    listed = record[field]
    if not isinstance(listed, list):
        raise BadRecord(loc, field, f"must be a list of responses, not {type(listed).__name__}",
                        reason="bad_field", record=record)
    default_source = _source(record, source)
    responses, sources = [], []
    for index, entry in enumerate(listed):
        where = f"{field}[{index}]"
        if isinstance(entry, dict):
            text = next((entry[key] for key in _RESPONSE_TEXT if key in entry), None)
            if not isinstance(text, str | list):
                raise BadRecord(loc, where, "an object needs its text under one of "
                                f"{', '.join(_RESPONSE_TEXT)}", reason="bad_field", record=record)
            sources.append(_source(entry, default_source))
        elif isinstance(entry, str | list):
            text = entry
            sources.append(default_source)
        else:
            raise BadRecord(loc, where, f"a response is text, chat turns or an object, not "
                            f"{type(entry).__name__}", reason="bad_field", record=record)
        responses.append(text)
    prompt = _candidate_prompt(loc, record)
    checks = [("prompt", {"prompt": prompt, "responses": ["", ""]})] + \
        [(f"{field}[{index}]", {"prompt": "x", "responses": [response, ""]})
         for index, response in enumerate(responses)]
    checked = []
    for where, fields in checks:
        try:
            checked.append(MultiItem(id="check", **fields))
        except ValidationError as exc:
            inner, message = first_error(exc)
            raise BadRecord(loc, where if where != "prompt" else inner, message,
                            reason="invalid_record", record=record) from None
    prompt, responses = checked[0].prompt, [item.responses[0] for item in checked[1:]]
    raw_id = record.get("id")
    item_id = str(raw_id) if isinstance(raw_id, str | int) and str(raw_id) else \
        _item_id(as_text(prompt))
    provenance = {("candidates_meta" if key == "meta" else key): value
                  for key, value in record.items()
                  if key not in _TEXT_FIELDS and key not in (field, "id")}
    return item_id, prompt, responses, sources, provenance


def _candidate_prompt(loc: Loc, record: dict[str, Any]) -> Any:
    for name in ("prompt", "messages"):
        value = record.get(name)
        if isinstance(value, str) or (isinstance(value, list) and value):
            return value
    try:
        text = text_view(record, "prompt")
    except KeyError:
        text = ""
    if not text.strip():
        raise BadRecord(loc, "prompt", "no prompt (prompt, messages, instruction, question, "
                        "problem or query)", reason="missing_field", record=record)
    return text

