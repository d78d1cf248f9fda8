"""Which writing system a text is in, and which systems write words without spaces.

A character's script is read from its Unicode name ("CJK UNIFIED IDEOGRAPH-4E00",
"HIRAGANA LETTER A", "THAI CHARACTER KO KAI"), cached per character: the standard library
has no script property, and a few thousand distinct characters cover any real corpus.
Codes are ISO 15924 (`Latn`, `Hani`, `Hira`, ...). `Jpan` is reported for Han text with
kana in it, so Japanese is told from Chinese.

Scripts without spaces between words (Chinese, Japanese, Thai, Lao, Khmer, Myanmar) are
compared and counted character by character: see `curate.text.units`.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from functools import lru_cache
from pathlib import Path

COMMON = "Zyyy"  # no letters: digits, punctuation, emoji, whitespace
JAPANESE = "Jpan"
UNSPACED_SCRIPTS = frozenset({"Hani", "Hira", "Kana", JAPANESE, "Thai", "Laoo", "Khmr", "Mymr"})

# The same scripts as a regex character class, for `regex` (Python) and polars (Rust), which
# agree on these Script_Extensions (checked in tests/curate/test_text.py). Extensions bring the
# prolonged sound mark "ー" and iteration marks into Japanese; CJK punctuation they also bring
# is removed by intersecting with letters, marks and numbers where a unit is built.
UNSPACED_CLASS = (r"\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Thai}\p{scx=Lao}"
                  r"\p{scx=Khmer}\p{scx=Myanmar}")

_NAME_PREFIXES: dict[str, str] = json.loads(
    Path(__file__).with_name("script_names.json").read_text(encoding="utf-8"))
_SAMPLE = 4000  # characters: the majority script of a text is settled long before


@lru_cache(maxsize=1 << 16)
def script_of(char: str) -> str:
    """ISO 15924 code of one letter's script; `Zyyy` for anything that is not a letter."""
    if not char.isalpha():
        return COMMON
    name = unicodedata.name(char, "")
    for words in (2, 1):
        code = _NAME_PREFIXES.get(" ".join(name.split(" ", words)[:words]))
        if code:
            return code
    return "Zzzz"  # a letter of a script not in the table


_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_NON_LETTERS = bytes(c for c in range(128) if not chr(c).isalpha())


def script_counts(text: str) -> Counter[str]:
    """Letters per script in (the start of) a text. ASCII letters are counted in bytes and
    each distinct other character is looked up once, so English text costs microseconds."""
    sample = text[:_SAMPLE]
    counts: Counter[str] = Counter()
    latin = len(sample.encode("ascii", "ignore").translate(None, _ASCII_NON_LETTERS))
    if latin:
        counts["Latn"] = latin
    if not sample.isascii():
        for char, count in Counter(_NON_ASCII.findall(sample)).items():
            counts[script_of(char)] += count
    counts.pop(COMMON, None)
    return counts


def dominant_script(text: str) -> str:
    """The script most letters of the text are in; `Jpan` for Han text with kana in it (any
    kana makes Han text Japanese: Chinese never uses kana); `Zyyy` for text with no letters."""
    counts = script_counts(text)
    if not counts:
        return COMMON
    script = counts.most_common(1)[0][0]
    kana = counts["Hira"] + counts["Kana"]
    if kana and (script in ("Hani", "Hira", "Kana")):
        return JAPANESE
    return script


def is_unspaced(script: str) -> bool:
    """True for a script that writes words without spaces between them."""
    return script in UNSPACED_SCRIPTS
