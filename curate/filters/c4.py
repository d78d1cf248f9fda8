"""C4 rules (Raffel et al. 2020, section 2.2; tensorflow_datasets `c4_utils`).

C4 keeps only lines that end in terminal punctuation, have at least 3 words,
do not mention "javascript" or a cookie/terms-of-use phrase and have no word
over 1,000 characters; a page is dropped when the kept lines hold fewer than
5 sentences, contain "lorem ipsum", or contain a curly bracket. Sentences are
counted as spaCy's sentencizer counts them (datatrove's reference does the same).
In text written without spaces (Chinese, Japanese, Thai) the same rules apply with
that script's units: a line must end in terminal punctuation or a closing quote
(。！？」』 as well as . ? ! " '), its words are characters (`curate.text.units`), and
each character is a token for the sentencizer.
Here the text is never rewritten: the line rules only decide what the
page-level signals see. The bad-words list rule of the paper is not applied
(use `toxicity`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import compress, count, islice

from curate.filters.signal import Family, Signal
from curate.filters.text import Doc
from curate.filters.tokenizer import chunk_tokens, is_punct, word_tokens
from curate.text.units import count_units, split_characters

END_PUNCTUATION = (".", "?", "!", '"', "'")
UNSPACED_END_PUNCTUATION = END_PUNCTUATION + ("。", "！", "？", "」", "』", "”", "’", "）", "…")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                  "use of cookies", "use cookies")
_POLICY = re.compile("|".join(map(re.escape, POLICY_PHRASES)))
MIN_WORDS_PER_LINE = 3
MAX_WORD_LENGTH = 1000
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
# spaCy's sentencizer ends a sentence at these marks (its default `punct_chars`, the Basic
# Multilingual Plane part); a new one starts at the next token that is not punctuation.
SENTENCE_ENDS = frozenset("!.?։؟۔܀܁܂߹।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᰻᰼᱾᱿‼‽⁇⁈⁉⸮⸼。꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟"
                          "꫰꫱꯫﹒﹖﹗！．？｡")
_SPACES = re.compile(r"(\s+)")
_WIDE_SPACE = re.compile(r"\s\s|[^\S ]")  # whitespace that spaCy makes a token of
_SENTENCE_END = re.compile(f"[{re.escape(''.join(SENTENCE_ENDS))}]")


@dataclass(frozen=True)
class _Page:
    sentences: int
    lorem_ipsum: bool
    curly_bracket: bool


def count_sentences(line: str, unspaced: bool = False) -> int:
    """Sentences in one line, as spaCy's sentencizer splits its tokens: a sentence ends at a
    mark of `SENTENCE_ENDS`, and the next one starts at the next token that is not punctuation
    (spaCy makes a token of any whitespace but a single space, and such a token counts).
    `unspaced`: each character of a script without spaces is a token."""
    if _SENTENCE_END.search(line, 0, len(line) - 1) is None:
        return 1 if line.strip() else 0  # no mark before the last character: one sentence
    if unspaced:
        tokens = split_characters(word_tokens(line))
    elif _WIDE_SPACE.search(line) is None:
        tokens = word_tokens(line)
    else:
        tokens = []
        for position, part in enumerate(_SPACES.split(line)):  # chunks and the spaces between
            if position % 2 == 0:
                tokens += chunk_tokens(part) if part else ()
            elif part != " ":
                tokens.append(part)
    sentences = min(1, len(tokens))
    for end in compress(count(), map(SENTENCE_ENDS.__contains__, tokens)):
        for token in islice(tokens, end + 1, None):  # what comes after this mark decides
            if token in SENTENCE_ENDS:
                break  # another mark: it decides instead
            if not is_punct(token):
                sentences += 1
                break
    return sentences


def _page(doc: Doc) -> _Page:
    """C4's line rules in datatrove's order: a line rule skips the line, a page rule marks it."""
    sentences, lorem, curly = 0, False, False
    unspaced = doc.unspaced
    ends = UNSPACED_END_PUNCTUATION if unspaced else END_PUNCTUATION
    for line in doc.lines:
        line = line.strip()
        if "[" not in line and not line.endswith(ends):
            continue  # the terminal-punctuation rule below, checked early because it is cheap
        words = line.split()
        if len(line) > MAX_WORD_LENGTH and any(len(word) > MAX_WORD_LENGTH for word in words):
            continue
        if "[" in line:
            line = _CITATION.sub("", line)
        if not line.endswith(ends) or line.endswith("...") \
                or (count_units(line) if unspaced else len(words)) < MIN_WORDS_PER_LINE:
            continue
        lowered = line.lower()
        lorem = lorem or "lorem ipsum" in lowered
        if "javascript" in lowered:
            continue
        curly = curly or "{" in line
        if _POLICY.search(lowered):
            continue
        sentences += count_sentences(line, unspaced)
    return _Page(sentences, lorem, curly)


def c4_sentences(doc: Doc) -> int:
    """Sentences on the lines C4's line rules keep; published minimum 5."""
    return doc.memo(_page).sentences


def c4_lorem_ipsum(doc: Doc) -> bool:
    """A kept line contains "lorem ipsum" (placeholder text); removes by default."""
    return doc.memo(_page).lorem_ipsum


def c4_curly_bracket(doc: Doc) -> bool:
    """A kept line contains "{" (code, not prose); removes by default."""
    return doc.memo(_page).curly_bracket


FAMILY = Family(
    name="c4",
    doc="C4 page rules: enough sentences on clean lines, no lorem ipsum, no curly brackets.",
    signals=(
        Signal("c4_sentences", c4_sentences, {"min": 5}, c4_sentences.__doc__),
        Signal("c4_lorem_ipsum", c4_lorem_ipsum, True, c4_lorem_ipsum.__doc__),
        Signal("c4_curly_bracket", c4_curly_bracket, True, c4_curly_bracket.__doc__),
    ),
)
