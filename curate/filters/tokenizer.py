"""spaCy's English word tokenizer, in plain Python, for the Gopher, C4 and FineWeb rules.

The published rules count words, n-grams and sentences the way datatrove does,
with spaCy's blank English tokenizer. spaCy itself is a heavy dependency and
dominates datatrove's run time, so this module reimplements its algorithm
(`Tokenizer.explain`): split on whitespace; strip prefixes and suffixes; keep
URLs and special cases (`spacy_en_exceptions.json`, spaCy 3.8's English
exceptions: "don't" -> do|n't, "Mr.", ":)"); split the rest on infixes. The rule
patterns below are spaCy's (`spacy/lang/punctuation.py`, English infixes), with
its long Unicode character classes shortened to the common scripts.

The exceptions file is spaCy's data (MIT licence), written out with
`{chunk: [token[ORTH] for token in tokens] for chunk, tokens in
spacy.blank("en").tokenizer.rules.items()}` (whitespace entries left out).

Whitespace-separated chunks repeat a lot, so each is tokenized once and cached, and
the common shapes (a word, a number, a word and its comma) skip the patterns. It
gives spaCy's tokens on every one of the 47k texts of benchmarks/filter_bench.py,
at a fraction of spaCy's cost.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache, partial
from itertools import chain, compress, count
from operator import is_
from pathlib import Path

# spaCy's character classes (spacy/lang/char_classes.py), Latin, Greek and Cyrillic spelled
# out and other scripts as blocks.
_UNCASED = (r"\u0591-\u05F4\u0620-\u064A\u066E-\u06D5\u0900-\u097F\u0980-\u09FF\u0B80-\u0C7F"
            r"\u0C80-\u0CFF\u0D80-\u0DFF\u1100-\u11FF\u1200-\u137F\u3040-\u30FF\u3400-\u4DBF"
            r"\u4E00-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF")
_EXTENDED_LATIN = r"\u0100-\u024F\u1E00-\u1EFF"  # both cases interleave: counted as both
LOWER = r"a-z\uFF41-\uFF5A\u00DF-\u00F6\u00F8-\u00FF" + _EXTENDED_LATIN + "ёа-яα-ωάέίόώήύ" + _UNCASED
UPPER = r"A-Z\uFF21-\uFF3A\u00C0-\u00D6\u00D8-\u00DE" + _EXTENDED_LATIN + "ЁА-ЯΑ-ΩΆΈΊΌΏΉΎ" + _UNCASED
ALPHA = LOWER + UPPER
ICONS = (r"\u00A6\u00A9\u00AE\u00B0\u2100\u2101\u2103-\u2106\u2108\u2109\u2114\u2116\u2117"
         r"\u211E-\u2123\u2125\u2127\u2129\u212E\u213A\u213B\u214A\u214C\u214D\u214F\u218A\u218B"
         r"\u2195-\u2199\u219C-\u219F\u21A1\u21A2\u21A4\u21A5\u21A7-\u21AD\u21AF-\u21CD\u21D0\u21D1"
         r"\u21D3\u21D5-\u21F3\u2300-\u2307\u230C-\u231F\u2322-\u2328\u232B-\u237B\u237D-\u239A"
         r"\u23B4-\u23DB\u23E2-\u2426\u2440-\u244A\u249C-\u24E9\u2500-\u25B6\u25B8-\u25C0"
         r"\u25C2-\u25F7\u2600-\u266E\u2670-\u2767\u2794-\u27BF\u2800-\u28FF\u2B00-\u2B2F"
         r"\u3200-\u321E\u322A-\u3247\u3260-\u327F\u328A-\u32B0\u32C0-\u32FE\u3300-\u33FF"
         r"\U0001F000-\U0001F0FF\U0001F300-\U0001F6FF\U0001F900-\U0001F9FF")

_PUNCT = [r"…", r"……", r",", r":", r";", r"\!", r"\?", r"¿", r"؟", r"¡", r"\(", r"\)", r"\[",
          r"\]", r"\{", r"\}", r"<", r">", r"_", r"#", r"\*", r"&", r"。", r"？", r"！", r"，", r"、",
          r"；", r"：", r"～", r"·", r"।", r"،", r"۔", r"؛", r"٪"]
_QUOTES = [r"\'", r'\"', r"”", r"“", r"`", r"‘", r"´", r"’", r"‚", r",", r"„", r"»", r"«", r"「",
           r"」", r"『", r"』", r"（", r"）", r"〔", r"〕", r"【", r"】", r"《", r"》", r"〈", r"〉", r"〈",
           r"〉", r"⟦", r"⟧"]
_CURRENCY = [r"\$", r"£", r"€", r"¥", r"฿", r"US\$", r"C\$", r"A\$", r"₽", r"﷼", r"₴", r"₠", r"₡",
             r"₢", r"₣", r"₤", r"₥", r"₦", r"₧", r"₨", r"₩", r"₪", r"₫", r"₭", r"₮", r"₯", r"₰",
             r"₱", r"₲", r"₳", r"₵", r"₶", r"₷", r"₸", r"₹", r"₺", r"₻", r"₼", r"₾", r"₿"]
_UNITS = ["km", "km²", "km³", "m", "m²", "m³", "dm", "dm²", "dm³", "cm", "cm²", "cm³", "mm",
          "mm²", "mm³", "ha", "µm", "nm", "yd", "in", "ft", "kg", "g", "mg", "µg", "t", "lb",
          "oz", "m/s", "km/h", "kmh", "mph", "hPa", "Pa", "mbar", "mb", "MB", "kb", "KB", "gb",
          "GB", "tb", "TB", "T", "G", "M", "K", "%"]
_HYPHENS = ["-", "–", "—", "--", "---", "——", "~"]
_ELLIPSES = [r"\.\.+", "…"]
_ICON = f"[{ICONS}]"
# spaCy pastes `|`-joined alternatives into this character class, so `|`, `(`, `?`, `:`, `)`
# belong to it too: kept, to split the same way.
_BEFORE_PERIOD = (f"[0-9{LOWER}%²\\-\\+{'|'.join(_PUNCT)}(?:{''.join(_QUOTES)})]")

PREFIXES = (["§", "%", "=", "—", "–", r"\+(?![0-9])"] + _PUNCT + _ELLIPSES + _QUOTES + _CURRENCY
            + [_ICON])
SUFFIXES = (_PUNCT + _ELLIPSES + _QUOTES + [_ICON, "'s", "'S", "’s", "’S", "—", "–",
            r"(?<=[0-9])\+", r"(?<=°[FfCcKk])\.", f"(?<=[0-9])(?:{'|'.join(_CURRENCY)})",
            f"(?<=[0-9])(?:{'|'.join(_UNITS)})", f"(?<={_BEFORE_PERIOD})\\.",
            f"(?<=[{UPPER}][{UPPER}])\\."])
INFIXES = (_ELLIPSES + [_ICON, r"(?<=[0-9])[+\-\*^](?=[0-9-])",
                        f"(?<=[{LOWER}{''.join(_QUOTES)}])\\.(?=[{UPPER}{''.join(_QUOTES)}])",
                        f"(?<=[{ALPHA}]),(?=[{ALPHA}])",
                        f"(?<=[{ALPHA}0-9])(?:{'|'.join(_HYPHENS)})(?=[{ALPHA}])",
                        f"(?<=[{ALPHA}0-9])[:<>=/](?=[{ALPHA}])"])

_prefix_match = re.compile("|".join(f"^{piece}" for piece in PREFIXES)).match
_suffix_search = re.compile("|".join(f"{piece}$" for piece in SUFFIXES)).search
_infixes = re.compile("|".join(INFIXES)).finditer
# spaCy's URL_MATCH (spacy/lang/tokenizer_exceptions.py).
_url = re.compile(
    r"(?u)^(?:(?:[\w+\-.]{2,})://)?(?:\S+(?::\S*)?@)?"
    r"(?:(?!(?:10|127)(?:\.\d{1,3}){3})(?!(?:169\.254|192\.168)(?:\.\d{1,3}){2})"
    r"(?!172\.(?:1[6-9]|2\d|3[0-1])(?:\.\d{1,3}){2})"
    r"(?:[1-9]\d?|1\d\d|2[01]\d|22[0-3])(?:\.(?:1?\d{1,2}|2[0-4]\d|25[0-5])){2}"
    r"(?:\.(?:[1-9]\d?|1\d\d|2[0-4]\d|25[0-4]))"
    r"|(?:(?:[A-Za-z0-9\u00a1-\uffff][A-Za-z0-9\u00a1-\uffff_-]{0,62})?[A-Za-z0-9\u00a1-\uffff]\.)+"
    rf"(?:[{LOWER}]{{2,63}}))(?::\d{{2,5}})?(?:[/?#]\S*)?$").match

SPECIAL_CASES: dict[str, tuple[str, ...]] = {
    chunk: tuple(tokens) for chunk, tokens in json.loads(
        (Path(__file__).with_name("spacy_en_exceptions.json")).read_text(encoding="utf-8")).items()}

_LONGEST_SPECIAL = max(map(len, SPECIAL_CASES))  # characters, so at most as many tokens
_SPECIAL_PREFIXES = {chunk[:end] for chunk in SPECIAL_CASES for end in range(1, len(chunk))}

_CACHE: dict[str, tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000  # chunks (some tens of MB); the cache is emptied when it grows past this
_is_none = partial(is_, None)

# Shortcuts around the patterns, for the common cases.
_CURRENCY_PREFIXES = ("US$", "C$", "A$")  # the only prefixes that start with a letter
_DIGIT = re.compile("[0-9]")
_ALWAYS_SUFFIX = frozenset(",;:!?)]}\"'”’")  # suffixes with no condition
_SUFFIX_WINDOW = 8  # characters: every suffix is shorter, except a long run of dots


def _prefix(text: str) -> int:
    """Length of the prefix to split off `text` (0: none)."""
    if not text or (text[0].isalnum() and not text.startswith(_CURRENCY_PREFIXES)):
        return 0  # every prefix starts with a symbol: skip the regex for words and numbers
    match = _prefix_match(text)
    return match.end() if match else 0


def _suffix(text: str) -> int:
    """Where the suffix to split off `text` starts (`len(text)`: none). Searches only the end of
    the text (lookbehinds still see before it) unless the match may reach further left."""
    if not text or "0" <= text[-1] <= "9":
        return len(text)  # no suffix ends in a digit
    if text[-1].isalnum() and not _DIGIT.search(text, max(0, len(text) - 6)) \
            and text[-2:-1] not in ("'", "’"):
        return len(text)  # ends in a letter, not a unit after a number nor 's
    start = max(0, len(text) - _SUFFIX_WINDOW)
    match = _suffix_search(text, start)
    if match and start and match.start() == start:
        match = _suffix_search(text)
    return match.start() if match else len(text)


def split_chunk(chunk: str) -> tuple[str, ...]:
    """The tokens of one whitespace-free chunk, as spaCy's `Tokenizer.explain` splits it."""
    if chunk in SPECIAL_CASES:
        return SPECIAL_CASES[chunk]
    if chunk.isalpha() or chunk.isdecimal():  # no rule splits these: the common case, fast
        return (chunk,)
    head, last = chunk[:-1], chunk[-1]
    if head.isalpha() and head not in SPECIAL_CASES and (
            last in _ALWAYS_SUFFIX or (last == "." and "a" <= head[-1] <= "z")):
        return (head, last)  # a word and its punctuation: the next most common case
    tokens: list[str] = []
    suffixes: list[str] = []
    rest = chunk
    while True:
        prefix = _prefix(rest)
        if not prefix and _suffix(rest) == len(rest):
            break
        if rest in SPECIAL_CASES:
            tokens += SPECIAL_CASES[rest]
            rest = ""
            break
        if prefix:
            tokens.append(rest[:prefix])
            rest = rest[prefix:]
            if rest in SPECIAL_CASES:
                continue
        suffix = _suffix(rest)
        if suffix < len(rest):
            suffixes.append(rest[suffix:])
            rest = rest[:suffix]
    if rest:
        if _url(rest):
            tokens.append(rest)
        elif rest in SPECIAL_CASES:
            tokens += SPECIAL_CASES[rest]
        else:
            tokens += _split_infixes(rest)
    tokens += reversed(suffixes)
    return _merge_special_cases(tokens) if len(tokens) > 1 else tuple(tokens)


def _merge_special_cases(tokens: list[str]) -> tuple[str, ...]:
    """spaCy's second pass: a run of tokens that spells a special case ("<" "3" -> "<3") becomes
    that special case's tokens; longer runs first, then earlier ones."""
    runs = [(end - start, start, end) for start, token in enumerate(tokens)
            if token in _SPECIAL_PREFIXES
            for end in range(start + 2, min(len(tokens), start + _LONGEST_SPECIAL) + 1)
            if "".join(tokens[start:end]) in SPECIAL_CASES]
    if not runs:
        return tuple(tokens)
    taken: set[int] = set()
    chosen: dict[int, int] = {}
    for _, start, end in sorted(runs, key=lambda run: (-run[0], run[1])):
        if start not in taken and end - 1 not in taken:
            chosen[start] = end
            taken.update(range(start, end))
    merged: list[str] = []
    index = 0
    while index < len(tokens):
        if index in chosen:
            merged += SPECIAL_CASES["".join(tokens[index:chosen[index]])]
            index = chosen[index]
        else:
            merged.append(tokens[index])
            index += 1
    return tuple(merged)


def _split_infixes(text: str) -> list[str]:
    tokens, offset = [], 0
    for match in _infixes(text):
        if offset == 0 and match.start() == 0:
            continue
        if match.start() > offset:
            tokens.append(text[offset:match.start()])
        if match.end() > match.start():
            tokens.append(text[match.start():match.end()])
        offset = match.end()
    if offset < len(text):
        tokens.append(text[offset:])
    return tokens


def chunk_tokens(chunk: str) -> tuple[str, ...]:
    """`split_chunk`, cached."""
    split = _CACHE.get(chunk)
    if split is None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        split = _CACHE[chunk] = split_chunk(chunk)
    return split


def word_tokens(text: str) -> list[str]:
    """Words and punctuation marks, in order, as spaCy's English tokenizer gives them."""
    chunks = text.split()
    splits = list(map(_CACHE.get, chunks))
    if None in splits:
        for index in compress(count(), map(_is_none, splits)):
            splits[index] = chunk_tokens(chunks[index])
    return list(chain.from_iterable(splits))


@lru_cache(maxsize=1 << 16)
def is_punct(token: str) -> bool:
    """spaCy's `is_punct`: every character is Unicode punctuation (category P*)."""
    return all(unicodedata.category(char).startswith("P") for char in token)
