"""Text normalisation: what "the same text" means for dedup.

The documented rule, in order:

1. lowercase (Unicode-aware);
2. optionally fold digits: every decimal digit becomes ``0`` (so ``$1,299`` and ``$4,850``
   compare equal);
3. punctuation to space: every character that is not a letter, a combining mark or a
   number (Unicode categories L, M and N) is a separator, which covers punctuation,
   symbols, ``_`` and control characters;
4. whitespace collapsed: words are joined by one space, with none at either end.

``"Hello,  World!"`` and ``"hello world"`` normalise to the same ``"hello world"``.
The rule runs as Rust regexes over a whole batch in polars: on the benchmark corpus that
measured about twice as fast as ``re.sub`` plus ``str.split`` in Python.
"""

from __future__ import annotations

import polars as pl

_WORD = r"[\p{L}\p{M}\p{N}]+"
_DIGIT = r"\p{Nd}"


def word_lists(texts: list[str], *, fold_digits: bool = False) -> pl.Series:
    """The normalised words of each text, as a polars ``list[str]`` series."""
    series = pl.Series("text", texts, dtype=pl.String).str.to_lowercase()
    if fold_digits:
        series = series.str.replace_all(_DIGIT, "0")
    return series.str.extract_all(_WORD)


def normalise(text: str, *, fold_digits: bool = False) -> str:
    """One text normalised by the rule above."""
    return " ".join(word_lists([text], fold_digits=fold_digits)[0])
