"""C4 rules (Raffel et al. 2020, section 2.2; tensorflow_datasets `c4_utils`).

C4 keeps only lines that end in terminal punctuation, have at least 3 words,
do not mention "javascript" or a cookie/terms-of-use phrase and have no word
over 1,000 characters; a page is dropped when the kept lines hold fewer than
5 sentences, contain "lorem ipsum", or contain a curly bracket. Here the text
is never rewritten: the line rules only decide what the page-level signals see.
The bad-words list rule of the paper is not applied (use `toxicity`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from curate.filters.signal import Family, Signal
from curate.filters.text import Doc

END_PUNCTUATION = (".", "?", "!", '"', "'")
POLICY_PHRASES = ("terms of use", "privacy policy", "cookie policy", "uses cookies",
                  "use of cookies", "use cookies")
MIN_WORDS_PER_LINE = 3
MAX_WORD_LENGTH = 1000
_CITATION = re.compile(r"\[\d*]|\[edit]|\[citation needed]")
# A sentence ends at a run of . ! ? (plus closing quotes or brackets) followed by a space or the
# end of the line, except after common abbreviations, as spaCy's sentencizer does.
_ABBREVIATIONS = ("Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "vs", "etc", "Inc", "Ltd", "Prof", "Fig")
_SENTENCE_END = re.compile(r"(?=[.!?])" + "".join(rf"(?<!\b{word})" for word in _ABBREVIATIONS)
                           + r"[.!?]+[\"'”’)\]]*(?:\s+|$)")


@dataclass(frozen=True)
class _Page:
    sentences: int
    lorem_ipsum: bool
    curly_bracket: bool


def count_sentences(line: str) -> int:
    """Sentences in one line (at least one)."""
    return max(1, len(_SENTENCE_END.findall(line)))


def _page(doc: Doc) -> _Page:
    sentences, lorem, curly = 0, False, False
    for line in doc.lines:
        line = line.strip()
        words = line.split()
        if len(line) > MAX_WORD_LENGTH and any(len(word) > MAX_WORD_LENGTH for word in words):
            continue
        if "[" in line:
            line = _CITATION.sub("", line)
        if not line.endswith(END_PUNCTUATION) or line.endswith("...") \
                or len(words) < MIN_WORDS_PER_LINE:
            continue
        lowered = line.lower()
        lorem = lorem or "lorem ipsum" in lowered
        if "javascript" in lowered:
            continue
        curly = curly or "{" in line
        if any(phrase in lowered for phrase in POLICY_PHRASES):
            continue
        sentences += count_sentences(line)
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
