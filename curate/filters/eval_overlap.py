"""Overlap with evaluation sets: shared word n-grams (13 by default).

Texts are compared as lowercase word sequences (`\\w+` runs), so changed
whitespace, punctuation or case does not hide a copy. An eval item shorter
than `ngram` words is matched whole, when it has at least `min_words` words;
shorter ones are too generic to match and are counted as skipped. An n-gram
found in `boilerplate` or more eval items is template text, not a problem
(AIME's "... where m and n are relatively prime positive integers. Find m+n"),
and does not count as a match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.filters.signal import Family, Signal, Value
from curate.filters.text import Doc

_WORD = re.compile(r"\w+")
NGRAM = 13
MIN_WORDS = 8
BOILERPLATE = 3


def eval_words(text: str) -> list[str]:
    """The normalised word sequence texts are compared on."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class EvalItem:
    """One eval record: where it comes from and a short preview."""

    source: str
    item: str
    preview: str


@dataclass
class EvalIndex:
    """Word n-grams of eval items, to look training texts up against."""

    ngram: int = NGRAM
    min_words: int = MIN_WORDS
    boilerplate: int = BOILERPLATE
    items: list[EvalItem] = field(default_factory=list)
    skipped: int = 0
    _grams: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    _short_lengths: set[int] = field(default_factory=set)

    def add(self, text: str, item: EvalItem) -> None:
        words = eval_words(text)
        if len(words) < self.min_words:
            self.skipped += 1
            return
        number = len(self.items)
        self.items.append(item)
        size = min(self.ngram, len(words))
        if size < self.ngram:
            self._short_lengths.add(size)
        for gram in dict.fromkeys(zip(*(words[i:] for i in range(size)))):
            self._grams.setdefault(gram, []).append(number)

    def matches(self, text: str) -> dict[int, tuple[str, ...]]:
        """Eval items sharing an n-gram with `text`: item number -> the first shared n-gram."""
        words = eval_words(text)
        hits: dict[int, tuple[str, ...]] = {}
        for size in (self.ngram, *self._short_lengths):
            for gram in zip(*(words[i:] for i in range(size))):
                numbers = self._grams.get(gram, ())
                if len(numbers) < self.boilerplate:
                    for number in numbers:
                        hits.setdefault(number, gram)
        return hits

    @property
    def boilerplate_ngrams(self) -> int:
        """N-grams shared by so many eval items that they are ignored."""
        return sum(len(numbers) >= self.boilerplate for numbers in self._grams.values())

    def __len__(self) -> int:
        return len(self.items)


def _item_name(record: dict[str, Any], line: int) -> str:
    for key in ("id", "unique_id", "idx", "task_id", "problem_id"):
        if record.get(key) is not None:
            return str(record[key])
    return f"line {line}"


def build_index(paths: Iterable[str], *, field: str = "prompt", ngram: int = NGRAM,
                min_words: int = MIN_WORDS, boilerplate: int = BOILERPLATE) -> EvalIndex:
    """Index the `field` text of every record of the eval files."""
    from curate.io import BadRecord, read_rows
    from curate.views import text_view

    index = EvalIndex(ngram=ngram, min_words=min_words, boilerplate=boilerplate)
    for path in paths:
        for loc, record in read_rows(path):
            try:
                text = text_view(record, field)
            except KeyError:
                raise BadRecord(loc, field, f"eval record has no {field!r} text "
                                "(choose another with --eval-field)") from None
            preview = " ".join(text.split())[:160]
            index.add(text, EvalItem(Path(path).name, _item_name(record, loc.line), preview))
    return index


@lru_cache(maxsize=4)
def cached_index(paths: tuple[str, ...], field: str, ngram: int, min_words: int,
                 boilerplate: int) -> EvalIndex:
    return build_index(paths, field=field, ngram=ngram, min_words=min_words,
                       boilerplate=boilerplate)


def index_for(options: Any) -> EvalIndex:
    """The eval index an options object (`against`, `eval_field`, `ngram`, ...) asks for."""
    if not options.against:
        raise ValueError("eval overlap needs eval sets (--against EVAL.jsonl ...)")
    return cached_index(tuple(str(path) for path in options.against), options.eval_field,
                        options.ngram, options.min_eval_words, BOILERPLATE)


def _batch(docs: Sequence[Doc], options: Any) -> list[dict[str, Value]]:
    index = index_for(options)
    return [{"eval_overlap": len(index.matches(f"{doc.prompt or ''}\n{doc.text}"))} for doc in docs]


FAMILY = Family(
    name="eval_overlap",
    doc="Eval items sharing a word n-gram with the prompt or answer (needs --against).",
    record_level=True,
    signals=(Signal("eval_overlap", None, {"max": 0},
                    "Eval items that share a 13-word n-gram with the prompt or answer; "
                    "default maximum 0."),),
    batch=_batch,
)
