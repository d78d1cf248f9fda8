"""A document's text, split once: tokens, words, lines, paragraphs.

Every signal is a pure function of a `Doc`; the splits are cached on the
`Doc`, so a dozen signals share one tokenisation.

The word tokenizer is a regular expression, not spaCy: it splits words from
punctuation the way spaCy's English tokenizer does for the cases the Gopher,
C4 and FineWeb rules are sensitive to (a punctuation mark is its own token,
an ellipsis is one token, numbers such as `3.5` and URLs stay whole, clitics
split off as in do|n't) many times faster (see benchmarks/filter_bench.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import filterfalse
from typing import Any, Generic, TypeVar

# A URL stays whole (trailing punctuation split off); then words with inner dots or
# apostrophes (3.5, U.S, o'clock); then an ellipsis; then any other non-space character as a
# token of its own.
_TOKEN = re.compile(
    r"https?://[^\s()<>\[\]{}\"']*[^\s()<>\[\]{}\"'.,;:!?]"
    r"|\w+(?:[.'’]\w+)*|\.\.\.+|…|[^\w\s]")
# spaCy splits English clitics off: do|n't, I|'m, John|'s, they|'re, we|'ll, I|'ve, he|'d.
_CLITIC = re.compile(r"(?i)^(.+?)(n['’]t|['’](?:s|m|d|ll|re|ve))$")
_PARAGRAPH_BREAK = re.compile(r"\n{2,}")
_LINE_BREAKS = re.compile(r"\n+")

# Characters that make a token "punctuation only": datatrove's PUNCTUATION_SET (ASCII, CJK and
# typographic marks, control characters, the common sentence terminators). A word is a token
# with any other character.
PUNCTUATION = frozenset(
    "!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_.\"}►»"
    "।॥؟۔‼⁇⁈⁉｡"
    + "".join(chr(c) for a, b in ((0, 9), (11, 13), (13, 32), (127, 160)) for c in range(a, b)))


T = TypeVar("T")


class cached_property(Generic[T]):
    """`functools.cached_property` without its per-access lock (Python 3.11 takes one), which
    costs more than most signals here; a Doc is never shared between threads."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute, self.name, self.__doc__ = compute, compute.__name__, compute.__doc__

    def __get__(self, doc: Any, owner: type | None = None) -> T:
        value = doc.__dict__[self.name] = self.compute(doc)
        return value


def word_tokens(text: str) -> list[str]:
    """Words and punctuation marks, in order (a fast regex stand-in for spaCy's tokenizer)."""
    tokens = _TOKEN.findall(text)
    if "'" not in text and "’" not in text:
        return tokens
    split = []
    for token in tokens:
        clitic = _CLITIC.match(token) if ("'" in token or "’" in token) else None
        if clitic:
            split += clitic.groups()
        else:
            split.append(token)
    return split


def is_word(token: str) -> bool:
    """True when the token has a character that is not punctuation."""
    return not PUNCTUATION.issuperset(token)


class Doc:
    """One text and its cached splits. Build one per text; signals only read it.

    `prompt` is the instruction the text answers, when there is one (instruction rules
    compare the two); it is `None` for a plain document. `has_images` says whether the
    record carries images, so a reference to one is not a missing image.
    """

    def __init__(self, text: str, prompt: str | None = None, has_images: bool = False) -> None:
        self.text = text
        self.prompt = prompt
        self.has_images = has_images
        self._memo: dict[Callable[[Doc], Any], Any] = {}

    @cached_property
    def tokens(self) -> list[str]:
        """Words and punctuation marks (what datatrove's `split_into_words` returns)."""
        return word_tokens(self.text)

    @cached_property
    def words(self) -> list[str]:
        """Tokens that are not punctuation only: what people count as words."""
        return list(filterfalse(PUNCTUATION.issuperset, self.tokens))

    @cached_property
    def lines(self) -> list[str]:
        """`str.splitlines()`: every line, empty ones included."""
        return self.text.splitlines()

    @cached_property
    def nonempty_lines(self) -> list[str]:
        """Lines split on `\\n` that hold something other than whitespace."""
        return [line for line in self.text.split("\n") if line.strip()]

    @cached_property
    def line_runs(self) -> list[str]:
        """The text split on runs of newlines (Gopher's line unit)."""
        return _LINE_BREAKS.split(self.text)

    @cached_property
    def paragraphs(self) -> list[str]:
        """The stripped text split on blank lines (Gopher's paragraph unit)."""
        return _PARAGRAPH_BREAK.split(self.text.strip())

    @cached_property
    def lower(self) -> str:
        return self.text.lower()

    def memo(self, compute: Callable[[Doc], Any]) -> Any:
        """`compute(self)`, computed once per doc: for work several signals of a family share."""
        try:
            return self._memo[compute]
        except KeyError:
            value = self._memo[compute] = compute(self)
            return value
