"""Quality signals: pure functions of a text, grouped in families, each with its default rule.

| family            | scores                                                                |
|-------------------|-----------------------------------------------------------------------|
| counts            | chars, words, lines                                                   |
| tokens            | tokens (with --tokenizer)                                             |
| gopher_quality    | mean_word_length, symbol_word_ratio, bullet_lines, ellipsis_lines,   |
|                   | alpha_words, stop_words                                               |
| gopher_repetition | dup_para_frac, dup_para_char_frac, dup_line_frac, dup_line_char_frac, |
|                   | top_{2,3,4}gram_char_frac, dup_{5..10}gram_char_frac                  |
| c4                | c4_sentences, c4_lorem_ipsum, c4_curly_bracket                        |
| fineweb           | line_punct_ratio, short_line_ratio, char_dup_ratio, newline_ratio     |
| instruction       | empty_answer, placeholder, prompt_overlap, truncated, refusal,         |
|                   | ai_boilerplate, template_tokens, missing_image, figure_code,          |
|                   | api_error, broken_latex, broken_markdown                              |
| toxicity          | toxicity                                                              |
| language          | lang, lang_score                                                      |
| eval_overlap      | eval_overlap (with --against)                                         |

Text-level families score the chosen view; scores of the prompt view carry a
`prompt_` prefix. Record-level families (instruction, eval_overlap) score the
answer together with its prompt, once per record.
"""

from __future__ import annotations

from curate.filters import (
    c4,
    counts,
    eval_overlap,
    fineweb,
    gopher_quality,
    gopher_repetition,
    instruction,
    language,
    tokens,
    toxicity,
)
from curate.filters.signal import Family, Signal, above_max, below_min
from curate.filters.text import Doc, word_tokens

FAMILIES: dict[str, Family] = {family.name: family for family in (
    counts.FAMILY, tokens.FAMILY, gopher_quality.FAMILY, gopher_repetition.FAMILY, c4.FAMILY,
    fineweb.FAMILY, instruction.FAMILY, toxicity.FAMILY, language.FAMILY, eval_overlap.FAMILY)}

SIGNALS: dict[str, Signal] = {signal.name: signal for family in FAMILIES.values()
                              for signal in family.signals}
FAMILY_OF: dict[str, Family] = {signal.name: family for family in FAMILIES.values()
                                for signal in family.signals}
PROMPT_PREFIX = "prompt_"


def lookup(score: str) -> tuple[Signal, Family, bool]:
    """The signal behind a score name, its family, and whether it is the prompt view's."""
    name, on_prompt = score, False
    if name not in SIGNALS and name.startswith(PROMPT_PREFIX):
        name, on_prompt = name[len(PROMPT_PREFIX):], True
    if name not in SIGNALS or (on_prompt and FAMILY_OF[name].record_level):
        raise ValueError(f"unknown score {score!r}; known scores: {', '.join(SIGNALS)} "
                         f"(text-level ones also as {PROMPT_PREFIX}<name>)")
    return SIGNALS[name], FAMILY_OF[name], on_prompt


__all__ = ["FAMILIES", "FAMILY_OF", "PROMPT_PREFIX", "SIGNALS", "Doc", "Family", "Signal",
           "above_max", "below_min", "lookup", "word_tokens"]
