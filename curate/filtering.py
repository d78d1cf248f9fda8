"""Filtering: thresholds on score columns, computing only the scores that are missing.

Rules come from presets (`curate/presets/*.yaml`), then the `--config` file,
then flags, each layer overriding the one before per score and per bound:

* `flags: {refusal: true}` removes a record whose flag score is true;
* `lang: [en]` keeps only those languages (`min_lang_score` adds a confidence floor);
* `thresholds: {words: {min: 50, max: 100000}}` removes a record whose score falls
  outside; `lang: [en]` inside a threshold applies it to those languages only.

A removed record's `reason` is its first failing rule in that order (flags, language,
thresholds); `reasons` lists them all. Reason tags: the flag's name, `lang_mismatch`,
`<score>_below_min` and `<score>_above_max`. The removal line shows the evidence:
the failing `score`, its `value` and the `threshold`, and for a flag what matched
(`evidence`: the pattern, its span and the matched text).

Languages are codes (`curate.text.languages`): matched without regard to case,
`pt` matches `pt-BR`, and a name such as `english` is refused. A removal line
carries the record's `lang` and `script` when they were scored; the report reads
the others' languages itself, to break every removal reason down by language
(identifying them here would cost about a tenth of the Gopher rules' time). A
rule that does not apply to a text's script (mean word length on Chinese) is
counted under `not_applicable`, never silently used to remove or keep.

`filter_records` works on one batch; `merge_filter_stats` adds the batches' `extra`
up and `check_filter_stats` fails a step whose requested language matched no record.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate.filters import FAMILIES, SIGNALS, Doc, above_max, below_min, lookup
from curate.filters.toxicity import DEFAULT_MODEL
from curate.presets import load_preset
from curate.scoring import (
    NOT_APPLICABLE,
    ScoreOptions,
    TextOptions,
    comma_list,
    gc_paused,
    has_images,
    record_texts,
    score_records,
    sign_scores,
)
from curate.step import StepResult, removal
from curate.text.languages import matches_any, no_match_message, parse_code

STEP = "filter"
LANG_MISMATCH = "lang_mismatch"
UNKNOWN_LANG = "und"


def _codes(value: Any) -> Any:
    """Comma lists of language codes, checked (`english` is refused) and canonical."""
    value = comma_list(value)
    return [parse_code(code) for code in value] if isinstance(value, list) else value


class Rule(BaseModel):
    """Bounds on one score; either may be left out. `lang` limits the rule to those languages."""

    model_config = ConfigDict(extra="forbid")

    min: float | None = None
    max: float | None = None
    lang: list[str] | None = None

    _lists = field_validator("lang", mode="before")(_codes)


class FilterOptions(TextOptions):
    """Options of `curate filter` (and of the `filter` recipe step)."""

    preset: list[str] = Field(default_factory=list, description="Preset names or YAML paths, "
                              "applied in order under the config file and flags.")
    flags: dict[str, bool] = Field(default_factory=dict,
                                   description="Flag score -> remove the record when it is true.")
    thresholds: dict[str, Rule] = Field(default_factory=dict, description="Score -> {min, max}.")
    lang: list[str] | None = Field(None, description="Keep only these languages (e.g. en,de).")
    min_lang_score: float | None = Field(None, ge=0, le=1)
    min_words: int | None = Field(None, ge=0)
    max_words: int | None = Field(None, ge=0)
    min_tokens: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=0)
    max_toxicity: float | None = Field(None, ge=0, le=1)
    strip_scores: bool = Field(False, description="Drop the `scores` object from kept records.")
    report: bool = Field(True, description="Write OUT.report.html next to the output.")

    _lists = field_validator("preset", mode="before")(comma_list)
    _langs = field_validator("lang", mode="before")(_codes)

    @model_validator(mode="before")
    @classmethod
    def _apply_presets(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("preset"):
            return data
        merged: dict[str, Any] = {}
        for name in comma_list(data["preset"]):
            merged = _merge(merged, load_preset(name))
        return {**_merge(merged, data), "preset": data["preset"]}

    @model_validator(mode="after")
    def _shortcuts_and_names(self) -> FilterOptions:
        shortcuts = {("words", "min"): self.min_words, ("words", "max"): self.max_words,
                     ("tokens", "min"): self.min_tokens, ("tokens", "max"): self.max_tokens,
                     ("toxicity", "max"): self.max_toxicity, ("lang_score", "min"): self.min_lang_score}
        for (score, bound), value in shortcuts.items():
            if value is not None:
                rule = self.thresholds.setdefault(score, Rule())
                setattr(rule, bound, value)
        if self.against and "eval_overlap" not in self.thresholds:
            self.thresholds["eval_overlap"] = Rule(max=0)  # eval sets given: remove overlaps
        for score in self.flags:
            if not lookup(score)[0].is_flag:
                raise ValueError(f"flags: {score!r} is not a flag; put it under thresholds")
        for score, rule in self.thresholds.items():
            if lookup(score)[0].name == "lang":
                raise ValueError(f"thresholds: {score!r} is a language code; use lang: [en, ...]")
            if lookup(score)[0].is_flag:
                raise ValueError(f"thresholds: {score!r} is a flag; put it under flags")
            if rule.min is not None and rule.max is not None and rule.min > rule.max:
                raise ValueError(f"thresholds: {score!r} has min {rule.min} > max {rule.max}")
        if any(lookup(score)[1].name == "tokens" for score in self.thresholds) and not self.tokenizer:
            raise ValueError("token thresholds need a tokenizer (--tokenizer PATH_OR_ID)")
        if any(lookup(score)[1].name == "eval_overlap" for score in self.thresholds) \
                and not self.against:
            raise ValueError("eval_overlap thresholds need eval sets (--against EVAL.jsonl)")
        return self

    def rules(self) -> dict[str, Any]:
        """The resolved rules, as written to the stats file and shown in the report."""
        return {
            "preset": self.preset,
            "flags": {name: on for name, on in self.flags.items() if on},
            "lang": self.lang,
            "thresholds": {name: rule.model_dump(exclude_none=True)
                           for name, rule in self.thresholds.items()
                           if rule.min is not None or rule.max is not None},
        }

    def score_options(self) -> ScoreOptions:
        """What to score: the families the rules read. Language is left out when it only
        limits rules to some languages: `filter_records` then identifies it only for the
        records such a rule would remove."""
        names = [name for name, on in self.flags.items() if on] + list(self.thresholds)
        if self.lang:
            names.append("lang")
        families, prompt_view = [], False
        for name in names:
            _, family, on_prompt = lookup(name)
            prompt_view = prompt_view or on_prompt
            if family.name not in families:
                families.append(family.name)
        text = self.model_dump(include=set(TextOptions.model_fields))
        return ScoreOptions(**text, view="both" if prompt_view else "response",
                            signals=[name for name in FAMILIES if name in families])


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """`top` over `base`; `flags` and `thresholds` merge per score and per bound."""
    merged = {**base, **{key: value for key, value in top.items() if key != "preset"}}
    for key in ("flags", "thresholds"):
        if isinstance(base.get(key), dict) and isinstance(top.get(key), dict):
            combined = dict(base[key])
            for name, value in top[key].items():
                if key == "thresholds" and isinstance(combined.get(name), dict) \
                        and isinstance(value, dict):
                    value = {**combined[name], **value}
                combined[name] = value
            merged[key] = combined
    return merged


def failures(scores: dict[str, Any], options: FilterOptions) -> list[tuple[str, str, Any, Any]]:
    """Every failing rule of one scored record: `(reason, score, value, threshold)`, in order."""
    failed = []
    for name, on in options.flags.items():
        if on and scores.get(name):
            failed.append((name, name, True, True))
    lang = scores.get("lang")
    if options.lang and not matches_any(options.lang, lang):
        failed.append((LANG_MISMATCH, "lang", lang, options.lang))
    for name, rule in options.thresholds.items():
        value = scores.get(name)
        if value is None or (rule.lang and lang is not None and not matches_any(rule.lang, lang)):
            continue
        if rule.min is not None and value < rule.min:
            failed.append((below_min(name), name, value, rule.min))
        elif rule.max is not None and value > rule.max:
            failed.append((above_max(name), name, value, rule.max))
    return failed


def _language_decides(scores: dict[str, Any], options: FilterOptions) -> bool:
    """True when a rule limited to some languages would remove this record."""
    if "lang" in scores:
        return False
    for name, rule in options.thresholds.items():
        value = scores.get(name)
        if rule.lang and value is not None and (
                (rule.min is not None and value < rule.min) or
                (rule.max is not None and value > rule.max)):
            return True
    return False


def _add_language(scored: list[dict[str, Any]], positions: list[int],
                  options: ScoreOptions) -> None:
    """Identify the language of the records at `positions` (the scores are re-signed)."""
    if not positions:
        return
    texts = [record_texts(scored[i], options)[1:] for i in positions]
    docs = [Doc(main, prompt) for main, prompt in texts]
    for i, (main, prompt), values in zip(positions, texts,
                                         FAMILIES["language"].score(docs, options)):
        scored[i]["scores"].update(values)
        sign_scores(scored[i]["scores"], main, prompt)


def _scored(records: list[dict[str, Any]], options: FilterOptions) -> list[dict[str, Any]]:
    """Score what the rules need; identify the language only where it changes a decision."""
    scored = score_records(records, options.score_options())
    _add_language(scored, [i for i, record in enumerate(scored)
                           if _language_decides(record["scores"], options)],
                  options.score_options())
    return scored


def filter_records(records: list[dict[str, Any]], options: FilterOptions) -> StepResult:
    """Keep the records that pass every rule; the others become `removal` lines with
    `reason` (the first failing rule), `reasons` (all of them), the failing `score`,
    its `value` and the `threshold` it broke. Kept records keep their `scores`.
    """
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    all_reasons: Counter[str] = Counter()
    not_applicable: Counter[str] = Counter()
    langs: Counter[str] = Counter()
    ruled = set(options.thresholds) | {name for name, on in options.flags.items() if on}
    with gc_paused():
        scored = _scored(records, options)
        for record in scored:
            failed = failures(record["scores"], options)
            scores = record["scores"]
            not_applicable.update(ruled.intersection(scores.get(NOT_APPLICABLE, ())))
            if "lang" in scores:
                langs[scores["lang"] or UNKNOWN_LANG] += 1
            if not failed:
                if options.strip_scores:
                    record = {key: value for key, value in record.items() if key != "scores"}
                kept.append(record)
                continue
            reason, score, value, threshold = failed[0]
            all_reasons.update(tag for tag, *_ in failed)
            details = {"reasons": [tag for tag, *_ in failed], "score": score, "value": value,
                       "threshold": threshold}
            evidence = explain(record, score, options)
            if evidence:
                details["evidence"] = evidence
            removed.append(removal(record, reason, STEP, lang=scores.get("lang"),
                                   script=scores.get("script"), **details))
    return StepResult(kept, removed, {
        "rules": options.rules(), "failed_by_rule": dict(sorted(all_reasons.items())),
        "not_applicable": dict(sorted(not_applicable.items())),
        # the languages of the input, when every record's language was identified
        "langs_seen": dict(sorted(langs.items())) if sum(langs.values()) == len(scored) else {}})


def explain(record: dict[str, Any], score: str, options: FilterOptions) -> dict[str, Any] | None:
    """What made a rule fail in this record: for a flag `{"pattern", "span", "match"}`, for
    toxicity the words that drove it (see `Signal.explain`); `None` when there is nothing
    more to show than the value and threshold."""
    signal = SIGNALS.get(score)
    if signal is None or signal.explain is None:
        return None
    if score == "toxicity" and options.toxicity_model != DEFAULT_MODEL:
        return None  # the words shown are profanity-check's, not another model's
    _, main, prompt = record_texts(record, options)
    return signal.explain(Doc(main, prompt, has_images(record)))


_COUNTED = ("failed_by_rule", "not_applicable", "langs_seen")


def merge_filter_stats(options: FilterOptions, extras: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The `extra` of many `filter_records` batches added up: what the step's stats hold."""
    totals: dict[str, Counter[str]] = {key: Counter() for key in _COUNTED}
    for extra in extras:
        for key in _COUNTED:
            totals[key].update(extra.get(key, {}))
    return {"rules": options.rules(),
            **{key: dict(sorted(counts.items())) for key, counts in totals.items()}}


def check_filter_stats(options: FilterOptions, stats: dict[str, Any], records_in: int) -> None:
    """End-of-step check on the merged stats: raises `ValueError` (one line) when a requested
    language matched no record, naming the languages the data has. A step with no input
    passes (there was nothing to match)."""
    if not options.lang or not records_in:
        return
    message = no_match_message(options.lang, stats.get("langs_seen", {}))
    if message:
        raise ValueError(message)
