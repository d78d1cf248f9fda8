"""Scoring: add a `scores` object to every record; remove nothing.

Scores are computed on text views. The answer (or, for a plain document, its
`text`) gets plain names: `scores.words`, `scores.toxicity`, `scores.lang`.
With `view="prompt"` or `"both"` the prompt gets the same scores under a
`prompt_` prefix (`scores.prompt_words`). Record-level rules (instruction
rules, eval overlap) compare the answer with its prompt and have one score each;
a short answer's language is read together with its prompt.

Only missing scores are computed, so a scored file can be refiltered with new
thresholds for free. A score also counts as missing when what it was computed
with changed; the `scores` object records that under the keys `field`,
`prompt_field`, `tokenizer`, `toxicity_model` and `eval_sets`.

Scores are trusted only when we wrote them for this very text: `scores.scored_by`
holds our scorer's version and a digest of the scored texts and of every score
(`SCORES_VERSION`, xxh3). A `scores` object without it (written by another tool
or by hand), with another version, or whose texts or values changed since, is
discarded and recomputed, so `toxicity: 0.0` typed into a file does not pass a
toxic text. (The digest catches edits and foreign scores, not a forger who
recomputes it.)

A rule defined only for text with spaces between words (mean word length,
English stop words, word n-gram repetition, short lines) scores `None` on text
written without spaces, and its name is listed in `scores.not_applicable`.

`score_records` is a function of a batch (a list of dicts), so it runs
unchanged in a process pool or as a Ray Data `map_batches` function.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

import orjson
import xxhash
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate.filters import FAMILIES, PROMPT_PREFIX, SIGNALS, Doc, Family
from curate.filters.eval_overlap import MIN_WORDS, NGRAM
from curate.filters.toxicity import DEFAULT_MODEL
from curate.views import text_view

AUTO = "auto"
_IMAGE_KEYS = ("images", "image")
SCORES_VERSION = "prefkit-scores/2"  # bump when a score's definition changes
SCORED_BY = "scored_by"
NOT_APPLICABLE = "not_applicable"


def comma_list(value: Any) -> Any:
    """Accept `"a,b"` or `"a"` where a list is expected (flags and YAML alike)."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class TextOptions(BaseModel):
    """Which texts are scored and with what; shared by `score`, `filter` and recipes."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(AUTO, description="Main text: 'auto' (the answer, else `text`), a view "
                       "(response, prompt, all, text) or a column such as 'solution' or 'meta.body'.")
    prompt_field: str = Field("prompt", description="The prompt: the 'prompt' view or a column.")
    response_field: str = Field("response", description="The answer when field='auto': the "
                                "'response' view or a column such as 'solution'.")
    tokenizer: str | None = Field(None, description="HF tokenizer (path or hub id) for `tokens`.")
    toxicity_model: str = Field(DEFAULT_MODEL, description="'profanity-check' or a HF "
                                "text-classification model (path or hub id).")
    toxicity_batch_size: int = Field(64, ge=1)
    device: str | None = Field(None, description="torch device for HF models; default: GPU if any.")
    against: list[str] = Field(default_factory=list, description="Eval sets for `eval_overlap`.")
    eval_field: str = Field("prompt", description="Text of an eval record to match against.")
    ngram: int = Field(NGRAM, ge=1, description="Words in an n-gram shared with an eval item.")
    min_eval_words: int = Field(MIN_WORDS, ge=1, description="Shorter eval items are skipped.")

    _list_fields = field_validator("against", mode="before")(comma_list)


class ScoreOptions(TextOptions):
    """Options of `curate score`."""

    view: Literal["response", "prompt", "both"] = Field(
        "response", description="Score the answer (main text), the prompt, or both.")
    signals: list[str] | None = Field(None, description="Families to compute; default: all that "
                                      "need no extra input (tokens with a tokenizer, "
                                      "eval_overlap with eval sets).")
    recompute: bool = Field(False, description="Recompute scores that are already present.")

    @field_validator("signals", mode="before")
    @classmethod
    def _known_families(cls, value: Any) -> Any:
        value = comma_list(value)
        for name in value or []:
            if name not in FAMILIES:
                raise ValueError(f"unknown signal family {name!r}; choose from {', '.join(FAMILIES)}")
        return value

    @model_validator(mode="after")
    def _inputs_present(self) -> ScoreOptions:
        if self.signals and "tokens" in self.signals and not self.tokenizer:
            raise ValueError("the tokens family needs a tokenizer (--tokenizer PATH_OR_ID)")
        if self.signals and "eval_overlap" in self.signals and not self.against:
            raise ValueError("the eval_overlap family needs eval sets (--against EVAL.jsonl)")
        return self

    def families(self) -> list[Family]:
        if self.signals is not None:
            return [FAMILIES[name] for name in self.signals]
        return [family for name, family in FAMILIES.items()
                if (name != "tokens" or self.tokenizer) and (name != "eval_overlap" or self.against)]


def record_texts(record: dict[str, Any], options: TextOptions) -> tuple[str, str, str | None]:
    """`(main_field, main_text, prompt_text)`. Raises `KeyError` naming a missing main text,
    or a missing prompt column given on purpose; a record with no prompt view has none."""
    if options.field == AUTO:
        try:
            main_field, main = options.response_field, text_view(record, options.response_field)
        except KeyError:
            if "text" not in record:
                raise KeyError(options.response_field) from None
            main_field, main = "text", text_view(record, "text")
    else:
        main_field, main = options.field, text_view(record, options.field)
    try:
        prompt = text_view(record, options.prompt_field)
    except KeyError:
        if options.prompt_field != "prompt":  # a column named on purpose must be there
            raise
        prompt = None
    return main_field, main, prompt


def _provenance(options: TextOptions, main_field: str) -> dict[str, str | None]:
    return {
        "field": main_field,
        "prompt_field": options.prompt_field,
        "tokenizer": options.tokenizer,
        "toxicity_model": options.toxicity_model,
        "eval_sets": (",".join(options.against) + f"|n={options.ngram},{options.eval_field}"
                      if options.against else None),
    }


def _depends_on(family: Family, prompt_view: bool) -> tuple[str, ...]:
    """The provenance keys whose change makes a family's scores stale."""
    texts = ("prompt_field",) if prompt_view else \
        ("field", "prompt_field") if family.reads_prompt else ("field",)
    model = {"tokens": ("tokenizer",), "toxicity": ("toxicity_model",),
             "eval_overlap": ("eval_sets",)}.get(family.name, ())
    return texts + model


def _drop_stale(scores: dict[str, Any], made_with: dict[str, Any]) -> None:
    """Forget scores made with another field or model than the ones asked for now."""
    if not scores:
        return
    changed = {key for key, value in made_with.items()
               if value is not None and key in scores and scores[key] != value}
    if not changed:
        return
    for family in FAMILIES.values():
        for prefix in ("",) if family.record_level else ("", PROMPT_PREFIX):
            if changed.intersection(_depends_on(family, bool(prefix))):
                for name in family.names:
                    scores.pop(prefix + name, None)


def _missing(scores: dict[str, Any], family: Family, prefix: str) -> bool:
    return any(prefix + name not in scores for name in family.names)


def score_digest(scores: dict[str, Any], main: str, prompt: str | None) -> str:
    """xxh3 of the scored texts and every score but `scored_by` itself."""
    values = {key: value for key, value in scores.items() if key != SCORED_BY}
    digest = xxhash.xxh3_64(SCORES_VERSION.encode())
    for text in (main, prompt or ""):
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    try:  # orjson (a gradio dependency) serialises the ~40 scores about 10x faster than json
        digest.update(orjson.dumps(values, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # a value orjson cannot write (a foreign scores object): compare as text
        digest.update(json.dumps(values, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def trusted(scores: dict[str, Any], main: str, prompt: str | None) -> bool:
    """True when `scores` carry our provenance and still match the texts they score."""
    mark = scores.get(SCORED_BY)
    return isinstance(mark, dict) and mark.get("version") == SCORES_VERSION \
        and mark.get("digest") == score_digest(scores, main, prompt)


def sign_scores(scores: dict[str, Any], main: str, prompt: str | None) -> None:
    scores[SCORED_BY] = {"version": SCORES_VERSION, "digest": score_digest(scores, main, prompt)}


def _not_applicable(scores: dict[str, Any], values: dict[str, Any], prefix: str) -> None:
    """Name the rules that do not apply to this text (a `None` score of a spaced-only rule)."""
    skipped = [prefix + name for name, value in values.items()
               if value is None and SIGNALS[name].spaced_only]
    if skipped:
        scores[NOT_APPLICABLE] = sorted({*scores.get(NOT_APPLICABLE, ()), *skipped})


def has_images(record: dict[str, Any]) -> bool:
    return any(record.get(key) for key in _IMAGE_KEYS)


def score_records(records: list[dict[str, Any]], options: ScoreOptions) -> list[dict[str, Any]]:
    """Return the records with a `scores` object holding every requested score.

    Scores already present (ours, for this text, made with the same fields and models) are
    kept as they are; only missing ones are computed. Input records are not modified.
    """
    families = options.families()
    views = {"response": ("",), "prompt": (PROMPT_PREFIX,), "both": ("", PROMPT_PREFIX)}[options.view]
    out: list[dict[str, Any]] = []
    texts: list[tuple[str, str | None]] = []
    made_with: list[dict[str, Any]] = []
    fresh: list[bool] = []  # no scores yet: every family is missing
    provenance: dict[str, dict[str, Any]] = {}  # per main field: shared, never modified
    for position, record in enumerate(records):
        try:
            main_field, main, prompt = record_texts(record, options)
        except KeyError as exc:
            raise ValueError(f"record {position} (id={record.get('id')!r}) has no text under "
                             f"{exc.args[0]!r}; choose one with field/response_field") from None
        existing = record.get("scores") or {}
        if not isinstance(existing, dict):
            raise TypeError(f"record {position} (id={record.get('id')!r}) has a 'scores' column "
                            "that is not an object; rename it, scores are written there")
        scores = {} if options.recompute or not trusted(existing, main, prompt) \
            else dict(existing)
        if main_field not in provenance:
            provenance[main_field] = _provenance(options, main_field)
        made_with.append(provenance[main_field])
        _drop_stale(scores, made_with[-1])
        fresh.append(not scores)
        out.append({**record, "scores": scores})
        texts.append((main, prompt))

    docs: dict[tuple[int, str], Doc] = {}  # one Doc per record and view: families share its splits

    def doc(position: int, prefix: str) -> Doc:
        key = (position, prefix)
        if key not in docs:
            main, prompt = texts[position]
            docs[key] = Doc(prompt) if prefix else Doc(main, prompt, has_images(records[position]))
        return docs[key]

    with gc_paused():
        for family in families:
            for prefix in ("",) if family.record_level else views:
                todo = [i for i, record in enumerate(out)
                        if (fresh[i] or _missing(record["scores"], family, prefix))
                        and (not prefix or texts[i][1] is not None)]
                if not todo:
                    continue
                results = family.score([doc(i, prefix) for i in todo], options)
                depends = _depends_on(family, bool(prefix))
                for i, values in zip(todo, results):
                    scores = out[i]["scores"]
                    scores.update({prefix + name: value for name, value in values.items()}
                                  if prefix else values)
                    scores.update({key: made_with[i][key] for key in depends
                                   if made_with[i][key] is not None})
                    _not_applicable(scores, values, prefix)
        for record, (main, prompt) in zip(out, texts):
            sign_scores(record["scores"], main, prompt)
    return out


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector paused. Scoring makes millions of short-lived lists and tuples
    but no reference cycles, and the collector's repeated passes over them cost about a fifth
    of the scoring time (benchmarks/filter_bench.py); reference counting still frees them."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class Unreadable(Exception):
    """A record a step cannot read: which field, why, and the reject reason."""

    def __init__(self, field: str, message: str, reason: str) -> None:
        super().__init__(message)
        self.field, self.message, self.reason = field, message, reason


def text_check(options: Any) -> Callable[[dict[str, Any]], None]:
    """A record check: the texts the options ask for exist, and `scores` is free or an object."""

    def check(record: dict[str, Any]) -> None:
        try:
            record_texts(record, options)
        except KeyError as exc:
            raise Unreadable(str(exc.args[0]), "no such text in this record (choose another with "
                             "--field/--prompt-field/--response-field)", "missing_text") from None
        if not isinstance(record.get("scores") or {}, dict):
            raise Unreadable("scores", "not an object; rename this column, scores are written "
                             "there", "bad_scores")

    return check


class ScoreSummary:
    """Per score over all records: min, mean and max of numbers, how often a flag is true,
    the most common languages. Written to OUT.stats.json under `scores`."""

    def __init__(self) -> None:
        self.numbers: dict[str, list[float]] = {}
        self.flags: Counter[str] = Counter()
        self.labels: dict[str, Counter[str]] = {}

    def add(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            for name, value in record["scores"].items():
                if isinstance(value, bool):
                    self.flags[name] += value
                elif isinstance(value, (int, float)):
                    self.numbers.setdefault(name, []).append(value)
                elif name.endswith(("lang", "script")) and isinstance(value, str):
                    self.labels.setdefault(name, Counter())[value] += 1

    def as_dict(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            name: {"min": min(values), "mean": round(sum(values) / len(values), 4),
                   "max": max(values)} for name, values in self.numbers.items()}
        summary.update({name: {"true": count} for name, count in self.flags.items()})
        summary.update({name: dict(counts.most_common(10)) for name, counts in self.labels.items()})
        return summary
