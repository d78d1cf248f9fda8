"""A document's text, split once: tokens, words, lines, paragraphs.

Every signal is a pure function of a `Doc`; the splits are cached on the
`Doc`, so a dozen signals share one tokenisation. Tokens come from
`tokenizer.word_tokens`, spaCy's English tokenizer rules without spaCy. In a text
written without spaces (Chinese, Japanese, Thai, ...: `curate.text.units`) every
character of such a script is a token and a word of its own, so word counts are
character counts there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import filterfalse
from typing import Any, Generic, TypeVar

from curate.filters.tokenizer import word_tokens
from curate.text.units import split_characters, writes_without_spaces

_PARAGRAPH_BREAK = re.compile(r"\n{2,}")

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
    def unspaced(self) -> bool:
        """Written without spaces between words (mostly Chinese, Japanese, Thai, ...)."""
        return writes_without_spaces(self.text)

    @cached_property
    def tokens(self) -> list[str]:
        """Words and punctuation marks (what datatrove's `split_into_words` returns); in a
        text written without spaces, each character of such a script is a token."""
        tokens = word_tokens(self.text)
        return split_characters(tokens) if self.unspaced else tokens

    @cached_property
    def words(self) -> list[str]:
        """Tokens that are not punctuation only: what people count as words."""
        return list(filterfalse(PUNCTUATION.issuperset, self.tokens))

    @cached_property
    def lines(self) -> list[str]:
        """`str.splitlines()`: every line, empty ones included."""
        return self.text.splitlines()

    @cached_property
    def newline_parts(self) -> list[str]:
        """The text split on every `\\n`."""
        return self.text.split("\n")

    @cached_property
    def nonempty_lines(self) -> list[str]:
        """Lines split on `\\n` that hold something other than whitespace."""
        return list(filter(str.strip, self.newline_parts))

    @cached_property
    def line_runs(self) -> list[str]:
        """The text split on runs of newlines (Gopher's line unit): the `\\n` parts without the
        empty ones between two newlines."""
        parts = self.newline_parts
        if len(parts) < 3:
            return parts
        return [parts[0], *filter(None, parts[1:-1]), parts[-1]]

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
