"""Instruction-data rules: problems web filters miss in prompt/answer pairs.

The text of the doc is the answer and `doc.prompt` the instruction (`None` for
a plain document). Each rule is a flag (true when the problem is present)
except `prompt_overlap`, a fraction. Flags about the whole record (template
tokens, images, figure code, LaTeX, markdown) look at the prompt and the
answer; the others at the answer only.
"""

from __future__ import annotations

import re

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc
from curate.filters.tokenizer import word_tokens

_CODE = re.compile(r"```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`", re.DOTALL)

PLACEHOLDERS = frozenset((
    "n/a", "na", "none", "null", "nil", "nan", "no output", "no answer", "noinput", "nooutput",
    "<noinput>", "<nooutput>", "<no input>", "<no output>", "todo", "tbd", "-", "--", "...", "?",
    "empty", "no response", "not applicable", "[insert answer here]", "<answer>", "answer",
))
# A short answer that is a note to fill it in: "TODO: fill in answer", "[Insert answer here]".
_PLACEHOLDER_NOTE = re.compile(
    r"^(?:todo|tbd|fixme|xxx)\b|^[\[<(]?\s*insert\b|\b(?:answer|response|text) goes here\b"
    r"|\byour (?:answer|response) here\b", re.IGNORECASE)
_PLACEHOLDER_WORDS = 8

_REFUSAL = re.compile(
    r"\b(?:I(?:'m| am) (?:sorry|afraid),? (?:but )?I (?:can(?:'t|not)|won't|am unable|'m unable|"
    r"am not able|'m not able)"
    r"|I (?:can(?:'t|not)|won't|will not) (?:help|assist|provide|comply|fulfill|do that|"
    r"create|generate|write|engage|support|answer)"
    r"|I(?:'m| am) (?:unable|not able) to (?:help|assist|provide|comply|fulfill|answer)"
    r"|I must (?:decline|refuse)|I(?:'m| am) not comfortable (?:with|providing|helping))",
    re.IGNORECASE)
_AI_BOILERPLATE = re.compile(
    r"\bas an? (?:AI|artificial intelligence)(?: language)?(?: model| assistant| chatbot)?\b"
    r"|\bas an? (?:large )?language model\b|\bI(?:'m| am) (?:just |only )?an? (?:AI|language model)\b"
    r"|\b(?:my|the) (?:knowledge|training data)(?: cut-?off| cutoff)\b"
    r"|\bas of my (?:last|latest) (?:knowledge |training )?(?:update|cut-?off)\b"
    r"|\b(?:developed|trained|created) by OpenAI\b",
    re.IGNORECASE)
_TEMPLATE_TOKENS = re.compile(
    r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|"
    r"end_of_text|user|assistant|system|end|pad|eos|bos)\|>"
    r"|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|^<s>|</s>\s*$|<(?:bos|eos|pad|unk)>"
    r"|^\s*### (?:Instruction|Response|Input):|(?:^|\n\n)(?:Human|Assistant):",
    re.MULTILINE)
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|\[(?:image|img|figure|photo)\]|<image>",
                             re.IGNORECASE)
_HTML_IMAGE = re.compile(r"<img\b", re.IGNORECASE)  # in a prompt; an answer may write HTML
_IMAGE_REFERENCE = re.compile(
    r"\b(?:in|from|see|on) the (?:figure|image|picture|diagram|graph|photo|chart) "
    r"(?:below|above|shown|provided|attached)\b"
    r"|\b(?:shown|pictured|depicted|illustrated) (?:in|on) the (?:figure|image|picture|diagram|"
    r"graph|photo)\b"
    r"|\b(?:attached|following|given|provided) (?:figure|image|picture|diagram|photo)\b",
    re.IGNORECASE)
_FIGURE_CODE = re.compile(r"\[asy\]|\\begin\{tikzpicture\}|\\includegraphics\b|\[/asy\]")
_API_ERROR = re.compile(
    r"^\s*(?:Error|ERROR|Exception)\b[:\s]|Traceback \(most recent call last\)|"
    r"\b(?:RateLimitError|APIError|APIConnectionError|ServiceUnavailableError|InternalServerError|"
    r"context_length_exceeded|rate_limit_exceeded|insufficient_quota)\b|"
    r"\bRequest timed out\b|\b(?:429 Too Many Requests|500 Internal Server Error|"
    r"502 Bad Gateway|503 Service Unavailable)\b|^\s*\{\s*\"error\"\s*:")
_FENCE = re.compile(r"^\s*(?:```|~~~)", re.MULTILINE)
_BOLD = re.compile(r"(?<![*\\])\*\*(?!\*)")
_DOLLAR = re.compile(r"(?<!\\)\$")
_CURRENCY = re.compile(r"(?<!\\)\$\s?\d")
_LATEX_MARKUP = re.compile(r"\\[a-zA-Z]+|\$\$|[_^]\{")
_ENVIRONMENT = re.compile(r"\\(begin|end)\{([^}]*)\}")
_ESCAPED_BRACE = re.compile(r"\\[{}]")
_DISPLAY_DELIMITERS = re.compile(r"\\([\[\]()])")
_LIST_OR_TABLE = re.compile(r"^\s*(?:[-*+•|#>]|\d+[.)])")
# A line that ends in a comma, colon, opening bracket, backslash, a word's hyphen, or an
# operator after a space ("x = 3 +"; not "C++" nor a "---" rule), goes on.
_CONTINUES = re.compile(r"(?:[,:;(\[{&\\]|[^\s\-]-| [-+=*/])$")
_NOT_PROSE = ("#", "@", "http", "www.")  # a last word that is a hashtag, handle or link
_ERROR_WORDS = 60  # an answer longer than this only counts as an API error if it starts with one


def _tokens(text: str) -> list[str]:
    return word_tokens(text.lower())


def _without_code(text: str) -> str:
    """The text with fenced code blocks and inline code removed (code is not markdown, LaTeX
    or an image reference)."""
    return _CODE.sub(" ", text) if "`" in text or "~~~" in text else text


def _record_text(doc: Doc) -> str:
    answer = _without_code(doc.text)
    return answer if not doc.prompt else f"{doc.prompt}\n\n{answer}"


def empty_answer(doc: Doc) -> bool:
    """The answer is empty or whitespace only."""
    return not doc.text.strip()


def placeholder(doc: Doc) -> bool:
    """The whole answer is a placeholder such as "N/A", "<noinput>", "TODO" or "none", or a
    short note to fill it in ("TODO: fill in answer", "[Insert answer here]")."""
    answer = doc.text.strip().lower().rstrip(".")
    return answer in PLACEHOLDERS or answer.strip("<>[]() ") in PLACEHOLDERS or (
        len(answer.split()) <= _PLACEHOLDER_WORDS and _PLACEHOLDER_NOTE.search(answer) is not None)


def prompt_overlap(doc: Doc) -> float:
    """Fraction of the answer's token trigrams (lowercase words and punctuation) found in the
    prompt: 1.0 when the answer only repeats the prompt (an answer under 3 tokens counts only
    when it is the whole prompt). Edit tasks ("reorder these sentences") score high by design."""
    if not doc.prompt:
        return 0.0
    answer, prompt = _tokens(doc.text), _tokens(doc.prompt)
    if len(answer) < 3:  # too short for trigrams: only a verbatim echo counts
        return float(bool(answer) and answer == prompt)
    answer_grams = list(zip(answer, answer[1:], answer[2:]))
    prompt_grams = set(zip(prompt, prompt[1:], prompt[2:]))
    return ratio(sum(gram in prompt_grams for gram in answer_grams), len(answer_grams))


def truncated(doc: Doc) -> bool:
    """The answer stops mid-sentence (a prose line ending in a word, comma or colon) or inside an
    unclosed code block."""
    text = doc.text.rstrip()
    if not text:
        return False
    if len(_FENCE.findall(text)) % 2:
        return True
    last_line = text.rsplit("\n", 1)[-1].strip()
    if _CONTINUES.search(last_line):
        return True
    words = last_line.split()
    if _LIST_OR_TABLE.match(last_line) or len(words) < 8 or words[-1].startswith(_NOT_PROSE):
        return False
    return last_line[-1].isalpha() and words[-1][0].islower()  # "... -C.S. Lewis" ends fine


def refusal(doc: Doc) -> bool:
    """The answer refuses ("I'm sorry, but I can't ...", "I cannot help with ...")."""
    return _REFUSAL.search(doc.text[:600]) is not None


def ai_boilerplate(doc: Doc) -> bool:
    """The answer has assistant boilerplate: "as an AI language model", "my knowledge cutoff"."""
    return _AI_BOILERPLATE.search(doc.text) is not None


def template_tokens(doc: Doc) -> bool:
    """Chat-template tokens left in the prompt or answer (<|im_end|>, [INST], </s>, "Human:")."""
    return _TEMPLATE_TOKENS.search(doc.text) is not None or \
        (doc.prompt is not None and _TEMPLATE_TOKENS.search(doc.prompt) is not None)


def missing_image(doc: Doc) -> bool:
    """The prompt or answer (outside code) embeds or refers to an image the record does not
    carry (`![...](...)`, "[image]", "the figure below"; an HTML `<img>` in the prompt)."""
    if doc.has_images:
        return False
    text = _record_text(doc)
    return _MARKDOWN_IMAGE.search(text) is not None or _IMAGE_REFERENCE.search(text) is not None \
        or (doc.prompt is not None and _HTML_IMAGE.search(doc.prompt) is not None)


def figure_code(doc: Doc) -> bool:
    """Figure source code in the prompt or answer: `[asy]` (Asymptote), TikZ, `\\includegraphics`."""
    return _FIGURE_CODE.search(_record_text(doc)) is not None


def api_error(doc: Doc) -> bool:
    """The answer is an API or runtime error message instead of an answer."""
    text = doc.text
    if len(text.split()) > _ERROR_WORDS:
        text = text[:200]
    return _API_ERROR.search(text) is not None


def _latex_broken(text: str) -> bool:
    text = _without_code(text)
    if not _LATEX_MARKUP.search(text):  # prose with prices, or code: not LaTeX
        return False
    dollars = len(_DOLLAR.findall(text))
    if dollars % 2 and not _CURRENCY.search(text):
        return True
    stack: list[str] = []
    for kind, name in _ENVIRONMENT.findall(text):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return True
    if stack:
        return True
    delimiters = _DISPLAY_DELIMITERS.findall(text)
    if delimiters.count("[") != delimiters.count("]") or delimiters.count("(") != delimiters.count(")"):
        return True
    unescaped = _ESCAPED_BRACE.sub("", text)
    return unescaped.count("{") != unescaped.count("}")


def broken_latex(doc: Doc) -> bool:
    """Unbalanced LaTeX in the prompt or answer: an odd `$` (currency aside), `\\begin` without its
    `\\end`, unmatched `\\[`/`\\]` or `\\(`/`\\)`, or unbalanced braces in math text."""
    return _latex_broken(doc.text) or (doc.prompt is not None and _latex_broken(doc.prompt))


def _markdown_broken(text: str) -> bool:
    return len(_FENCE.findall(text)) % 2 == 1 or len(_BOLD.findall(_without_code(text))) % 2 == 1


def broken_markdown(doc: Doc) -> bool:
    """Broken markdown in the prompt or answer: an unclosed code fence, or an unclosed `**` bold
    marker outside code."""
    return _markdown_broken(doc.text) or (doc.prompt is not None and _markdown_broken(doc.prompt))


FAMILY = Family(
    name="instruction",
    doc="Instruction/answer rules: empty, placeholder, echoed, truncated, refusing or broken answers.",
    record_level=True,
    signals=(
        Signal("empty_answer", empty_answer, True, empty_answer.__doc__),
        Signal("placeholder", placeholder, True, placeholder.__doc__),
        Signal("prompt_overlap", prompt_overlap, {"max": 0.9}, prompt_overlap.__doc__),
        Signal("truncated", truncated, True, truncated.__doc__),
        Signal("refusal", refusal, False, refusal.__doc__),
        Signal("ai_boilerplate", ai_boilerplate, True, ai_boilerplate.__doc__),
        Signal("template_tokens", template_tokens, True, template_tokens.__doc__),
        Signal("missing_image", missing_image, True, missing_image.__doc__),
        Signal("figure_code", figure_code, True, figure_code.__doc__),
        Signal("api_error", api_error, True, api_error.__doc__),
        Signal("broken_latex", broken_latex, True, broken_latex.__doc__),
        Signal("broken_markdown", broken_markdown, True, broken_markdown.__doc__),
    ),
)
