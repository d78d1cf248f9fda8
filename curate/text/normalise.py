"""What "the same text" means when texts are matched (exact dedup, near-dup, decontamination).

The rule, in order:

1. Unicode NFKC: composed and decomposed accents agree (NFC = NFD), full-width letters and
   digits become ASCII ("ＡＢＣ１" -> "ABC1"), half-width katakana become full-width,
   ligatures are spelled out ("ﬁ" -> "fi");
2. invisible characters removed: zero-width space, non-joiner and joiner, word joiner, byte
   order mark, soft hyphen, variation selectors, and the bidirectional controls
   (`INVISIBLE`): "wo\\u200brd" and "word" agree;
3. case folded (optional, on by default): lower case, then the few full case folds lower case
   misses (German "ß" -> "ss", Greek final "ς" -> "σ", Cherokee), for every script
   (`case_folds.json`, written by `python -m curate.text.normalise`).

The same rule runs on one text in Python (`normalise`) and on a batch in polars
(`normalise_series`, Rust); tests check that they agree. A lone surrogate (invalid UTF-16
read from JSON, such as "\\ud800") becomes U+FFFD first, so it can be encoded. Splitting the
result into words and characters is `curate.text.units`.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

# Zero-width and formatting characters that change no visible text.
INVISIBLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u200b\u200c"
             "\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
             "\u2066\u2067\u2068\u2069\ufe00\ufe01\ufe02\ufe03\ufe04\ufe05\ufe06\ufe07\ufe08"
             "\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f\ufeff")
_INVISIBLE_CLASS = f"[{INVISIBLE}]"
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))
_FOLDS_FILE = Path(__file__).with_name("case_folds.json")
FOLDS: dict[str, str] = json.loads(_FOLDS_FILE.read_text(encoding="utf-8"))
_FOLD = str.maketrans(FOLDS)
_FOLD_CLASS = f"[{''.join(FOLDS)}]"
_FOLDABLE = re.compile(_FOLD_CLASS)
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD (they cannot be encoded as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def normalise(text: str, *, fold_case: bool = True) -> str:
    """One text under the rule above."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", valid_unicode(text)).translate(_DROP_INVISIBLE)
        if fold_case:
            text = text.lower()
            return text.translate(_FOLD) if _FOLDABLE.search(text) else text
    return text.lower() if fold_case else text


def normalise_series(texts: list[str], *, fold_case: bool = True) -> pl.Series:
    """A batch of texts under the rule above, as a polars string series."""
    import polars as pl  # here: the rules that only need `normalise` load faster without it

    try:
        series = pl.Series("text", texts, dtype=pl.String)
    except UnicodeEncodeError:
        series = pl.Series("text", list(map(valid_unicode, texts)), dtype=pl.String)
    series = series.str.normalize("NFKC").str.replace_all(_INVISIBLE_CLASS, "")
    if fold_case:
        series = series.str.to_lowercase()
        if series.str.contains(_FOLD_CLASS).any():
            series = series.str.replace_many(list(FOLDS), list(FOLDS.values()))
    return series


def _full_folds() -> dict[str, str]:
    """Characters whose full case fold differs from their lower case (after lowering)."""
    folds = {}
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        lowered = chr(code).lower()
        if len(lowered) == 1 and lowered.casefold() != lowered:
            folds[lowered] = lowered.casefold()
    return dict(sorted(folds.items()))


if __name__ == "__main__":  # rewrite case_folds.json (after a Python/Unicode upgrade)
    _FOLDS_FILE.write_text(json.dumps(_full_folds(), ensure_ascii=False, indent=0) + "\n",
                           encoding="utf-8")
