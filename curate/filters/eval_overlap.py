"""Overlap with evaluation sets: shared n-grams of units (13 by default).

Texts are compared as sequences of units (`curate.text.units`): normalised words (NFKC,
invisible characters removed, case folded), and single characters in scripts written
without spaces, so changed whitespace, punctuation, case, width or Unicode form does not
hide a copy, and a one-character change in a Chinese or Japanese item still leaves shared
n-grams. An item written without spaces is indexed by n-grams of `char_ngram` characters
(13 by default, the same as `ngram`). An eval item shorter than its n-gram is matched whole,
when it has at least `min_words` units; shorter ones are too generic to match and are
counted as skipped. An n-gram
found in `boilerplate` or more eval items is template text, not a problem
(AIME's "... where m and n are relatively prime positive integers. Find m+n"),
and does not count as a match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from curate.filters.signal import Family, Signal, Value
from curate.filters.text import Doc
from curate.text.units import Mode, units, unspaced_count, uses_characters

NGRAM = 13
MIN_WORDS = 8
BOILERPLATE = 3


def eval_words(text: str, mode: Mode = "auto") -> list[str]:
    """The normalised unit sequence texts are compared on."""
    return units(text, mode)


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
    char_ngram: int | None = None
    """N-gram length for items written without spaces (`None`: `ngram`)."""
    mode: Mode = "auto"
    items: list[EvalItem] = field(default_factory=list)
    skipped: int = 0
    _grams: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    _lengths: set[int] = field(default_factory=set)

    def add(self, text: str, item: EvalItem) -> None:
        words = eval_words(text, self.mode)
        if len(words) < self.min_words:
            self.skipped += 1
            return
        number = len(self.items)
        self.items.append(item)
        ngram = self.ngram
        if self.char_ngram is not None and uses_characters(len(words), unspaced_count(words)):
            ngram = self.char_ngram
        size = min(ngram, len(words))
        self._lengths.add(size)
        for gram in dict.fromkeys(zip(*(words[i:] for i in range(size)))):
            self._grams.setdefault(gram, []).append(number)

    def matches(self, text: str) -> dict[int, tuple[str, ...]]:
        """Eval items sharing an n-gram with `text`: item number -> the first shared n-gram."""
        words = eval_words(text, self.mode)
        hits: dict[int, tuple[str, ...]] = {}
        for size in sorted(self._lengths, reverse=True):
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
                min_words: int = MIN_WORDS, boilerplate: int = BOILERPLATE,
                char_ngram: int | None = None, mode: Mode = "auto") -> EvalIndex:
    """Index the `field` text of every record of the eval files."""
    from curate.io import BadRecord, read_rows
    from curate.views import text_view

    index = EvalIndex(ngram=ngram, min_words=min_words, boilerplate=boilerplate,
                      char_ngram=char_ngram, mode=mode)
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
                 boilerplate: int, char_ngram: int | None = None,
                 mode: Mode = "auto") -> EvalIndex:
    return build_index(paths, field=field, ngram=ngram, min_words=min_words,
                       boilerplate=boilerplate, char_ngram=char_ngram, mode=mode)


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
