"""Instruction-data rules: problems web filters miss in prompt/answer pairs.

The text of the doc is the answer and `doc.prompt` the instruction (`None` for
a plain document). Each rule is a flag (true when the problem is present)
except `prompt_overlap`, a fraction. Flags about the whole record (template
tokens, images, figure code, LaTeX, markdown) look at the prompt and the
answer; the others at the answer only. Code (fenced blocks and inline code)
is not prose: it is not read for template tokens, images, LaTeX or markdown.

Every flag has a finder that returns its evidence (`{"rule", "pattern", "span",
"match"}`: what matched and where, `span` counting characters of the answer,
or of the prompt when `"in": "prompt"`); the flag is true when there is some.
A removed record carries it (`curate.filtering.explain`).

English and Chinese (with some Japanese) patterns stand side by side:
refusals ("I can't help with that", "抱歉，我无法"), assistant boilerplate
("As an AI language model", "作为一个AI语言模型"), placeholders ("N/A", "无"),
and truncation (an English line ending on "the" or "and"; a Chinese line ending
without 。！？ or on "，"). Precision on 240 hand-labelled real answers is in
benchmarks/rules_eval.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc
from curate.filters.tokenizer import word_tokens
from curate.text.units import has_unspaced, split_characters

Evidence = dict[str, Any] | None

_CODE = re.compile(r"```.*?(?:```|$)|~~~.*?(?:~~~|$)|`[^`\n]*`", re.DOTALL)

PLACEHOLDERS = frozenset((
    "n/a", "na", "none", "null", "nil", "nan", "no output", "no answer", "noinput", "nooutput",
    "<noinput>", "<nooutput>", "<no input>", "<no output>", "todo", "tbd", "-", "--", "...", "?",
    "empty", "no response", "not applicable", "[insert answer here]", "<answer>", "answer",
    "无", "暂无", "无答案", "没有答案", "不适用", "空", "待补充", "待定", "略", "（空）", "なし",
))
# A short answer that is a note to fill it in: "TODO: fill in answer", "[Insert answer here]".
_PLACEHOLDER_NOTE = re.compile(
    r"^(?:todo|tbd|fixme|xxx)\b|^[\[<(]?\s*insert\b|\b(?:answer|response|text) goes here\b"
    r"|\byour (?:answer|response) here\b|^[\[【(（]?\s*(?:在此|此处)(?:填写|输入|插入)", re.IGNORECASE)
_PLACEHOLDER_WORDS = 8

_REFUSAL = re.compile(
    r"\b(?:I(?:'m| am|’m) (?:sorry|afraid),? (?:but )?I (?:can(?:'t|not|’t)|won't|am unable|'m unable|"
    r"am not able|'m not able)"
    r"|I apologi[sz]e,? (?:but )?I (?:can(?:'t|not|’t)|won't|am unable|am not able)"
    r"|I (?:can(?:'t|not|’t)|won't|will not) (?:help|assist|provide|comply|fulfill|do that|"
    r"create|generate|write|engage|support|answer|retrieve)"
    r"|I(?:'m| am|’m) (?:unable|not able) to (?:help|assist|provide|comply|fulfill|answer)"
    r"|I must (?:decline|refuse)|I(?:'m| am|’m) not comfortable (?:with|providing|helping))"
    r"|(?:抱歉|对不起|很抱歉|非常抱歉|不好意思)[，,、]?\s*(?:但(?:是)?)?我(?:不能|无法|没办法|不会|不可以)"
    r"|我(?:不能|无法|拒绝)(?:提供|帮助|协助|回答|满足|完成|生成|编写|创作)"
    r"|申し訳(?:ありません|ございません)が.{0,40}?(?:できません|お答えできません)",
    re.IGNORECASE)
# A policy statement, not a refusal of this request: "I cannot provide answers that are harmful",
# "I will not provide false or harmful information" (llama-2-chat writes them before complying).
_DISCLAIMER = re.compile(
    r"I (?:can(?:'t|not|’t)|won't|will not) provide (?:any )?(?:answers|responses|content|"
    r"information) that (?:is|are|may|might|could|would|promotes?|contains?|includes?)\b"
    r"|I (?:won't|will not) provide false", re.IGNORECASE)
_AI_BOILERPLATE = re.compile(
    r"\bas an? (?:open(?: and free)? )?(?:AI|artificial intelligence)(?: language)?"
    r"(?: model| assistant| chatbot)?\b"
    r"|\bas an? (?:large )?language model\b"
    r"|\bI(?:'m| am|’m) (?:just |only )?an? (?:AI|language model)\b"
    r"|\b(?:my|the) (?:knowledge|training data)(?: cut-?off| cutoff)\b"
    r"|\bas of my (?:last|latest) (?:knowledge |training )?(?:update|cut-?off)\b"
    r"|\bI (?:was|am|'m|’m) (?:developed|trained|created) by OpenAI\b"
    r"|作为(?:一个|一名)?(?:AI|人工智能|大型|大)?(?:语言模型|AI|人工智能|助手|助理)"
    r"|我(?:只)?是一个?(?:AI|人工智能|语言模型)|我的知识(?:截止|更新)"
    r"|AI(?:言語モデル|アシスタント)として|私は(?:AI|人工知能)(?:です|なので)",
    re.IGNORECASE)
_TEMPLATE_TOKENS = re.compile(
    r"<\|(?:im_start|im_end|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|"
    r"end_of_text|user|assistant|system|end|pad|eos|bos)\|>"
    r"|\[/?INST\]|<</?SYS>>|<(?:start|end)_of_turn>|^<s>|</s>\s*$|<(?:bos|eos|pad|unk)>"
    r"|^\s*### (?:Instruction|Response|Input):|(?:^|\n\n)(?:Human|Assistant):",
    re.MULTILINE)
# In a prompt, "Assistant:" alone may be a script the user wrote; a leaked transcript has both.
_ROLE_MARKERS = re.compile(r"(?:^|\n\n)(?:Human|Assistant):")
_ANY_ROLE = re.compile(r"\b(?:Human|Assistant):")
_MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^)\n]*\)|\[(?:image|img|figure|photo)\]|<image>",
                             re.IGNORECASE)
_HTML_IMAGE = re.compile(r"<img\b", re.IGNORECASE)  # in a prompt; an answer may write HTML
_IMAGE_REFERENCE = re.compile(
    r"\b(?:in|from|see|on) the (?:figure|image|picture|diagram|graph|photo|chart) "
    r"(?:below|above|shown|provided|attached)\b"
    r"|\b(?:shown|pictured|depicted|illustrated) (?:in|on) the (?:figure|image|picture|diagram|"
    r"graph|photo)\b"
    r"|\b(?:attached|following|given|provided) (?:figure|image|picture|diagram|photo)\b"
    r"|(?:如|见)(?:下|上)图|图中所示",
    re.IGNORECASE)
_FIGURE_CODE = re.compile(r"\[asy\]|\\begin\{tikzpicture\}|\\includegraphics\b|\[/asy\]")
_API_ERROR = re.compile(
    r"^\s*(?:Error|ERROR|Exception)\b[:\s]|Traceback \(most recent call last\)|"
    r"\b(?:RateLimitError|APIError|APIConnectionError|ServiceUnavailableError|InternalServerError|"
    r"context_length_exceeded|rate_limit_exceeded|insufficient_quota)\b|"
    r"\bRequest timed out\b|\b(?:429 Too Many Requests|500 Internal Server Error|"
    r"502 Bad Gateway|503 Service Unavailable)\b|^\s*\{\s*\"error\"\s*:")
# A fence line opens or closes a block; "```code```" on one line is inline code.
_FENCE = re.compile(r"^\s*(?:```|~~~)(?!.*(?:```|~~~))", re.MULTILINE)
_BOLD = re.compile(r"(?<![*\\])\*\*(?!\*)")
_DOLLAR = re.compile(r"(?<!\\)\$")
_CURRENCY = re.compile(r"(?<!\\)\$\s?\d")
# LaTeX commands have two letters or more: "\d", "\n" and "\w" are regex and string escapes.
_LATEX_MARKUP = re.compile(r"\\[a-zA-Z]{2,}|\$\$|[_^]\{")
_ENVIRONMENT = re.compile(r"\\(begin|end)\{([^}]*)\}")
_ESCAPED_BRACE = re.compile(r"\\[{}]")
_DISPLAY_DELIMITERS = re.compile(r"\\([\[\]()])")
_LIST_OR_TABLE = re.compile(r"^\s*(?:[-*+•|#>]|\d+[.)])")
# A line that ends in a comma, colon, opening bracket, backslash, a word's hyphen, or an
# operator after a space ("x = 3 +"; not "C++" nor a "---" rule), goes on. A trailing ";"
# ends a statement of code, so it is not here.
_CONTINUES = re.compile(r"(?:[,:(\[{&\\]|[^\s\-]-| [-+=*/])$")
_EMOTICON = re.compile(r"(?:^|\s)[:;=8xX][-^']?[()\[\]DPpO3/\\|]+$")
_NOT_PROSE = ("#", "@", "http", "www.")  # a last word that is a hashtag, handle or link
_QUESTION_START = re.compile(
    r"^(?:is|are|was|were|do|does|did|can|could|will|would|should|shall|may|have|has|had|what|"
    r"who|whom|whose|which|when|where|why|how|any|anything)\b", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r".*[.!?]\s+(?=\S)", re.DOTALL)
_TRAILING = {key: frozenset(value) for key, value in json.loads(
    Path(__file__).with_name("trailing_words.json").read_text(encoding="utf-8")).items()
    if isinstance(value, list)}
_CJK_TERMINAL = tuple("。！？…」』”’）)】》.!?~～")
_CJK_CONTINUES = tuple("，、：；（(「『《【")
_CJK_PROSE_CHARS = 15  # a Chinese/Japanese line this long ending in a character is cut off
_ERROR_WORDS = 60  # an answer longer than this only counts as an API error if it starts with one


def _evidence(rule: str, pattern: str, match: re.Match[str] | None, where: str = "answer",
              offset: int = 0) -> Evidence:
    if match is None:
        return None
    return {"rule": rule, "pattern": pattern, "in": where,
            "span": [match.start() + offset, match.end() + offset], "match": match.group()[:200]}


def _note(rule: str, pattern: str, text: str, where: str = "answer") -> Evidence:
    """Evidence that is not a regex match: a description and the text it is about."""
    return {"rule": rule, "pattern": pattern, "in": where, "match": text[-200:]}


def _search(rule: str, regex: re.Pattern[str], doc: Doc, *, prompt: bool = False,
            code: bool = True, limit: int | None = None) -> Evidence:
    """The first match of `regex` in the answer (and then in the prompt, if asked); with
    `code=False`, code blocks and inline code are blanked out first (offsets stay right)."""
    sources = [("answer", doc.text)] + ([("prompt", doc.prompt)] if prompt and doc.prompt else [])
    for where, text in sources:
        text = text if code else _blank_code(text)
        match = regex.search(text if limit is None else text[:limit])
        if match:
            return _evidence(rule, regex.pattern[:80], match, where)
    return None


def _tokens(text: str) -> list[str]:
    tokens = word_tokens(text.lower())
    return split_characters(tokens) if has_unspaced(text) else tokens


def _blank_code(text: str) -> str:
    """The text with fenced code blocks and inline code replaced by spaces (code is not
    markdown, LaTeX, an image reference nor a template token); offsets are kept."""
    if "`" not in text and "~~~" not in text:
        return text
    return _CODE.sub(lambda match: " " * len(match.group()), text)


def find_empty_answer(doc: Doc) -> Evidence:
    """The answer is empty or whitespace only."""
    return None if doc.text.strip() else _note("empty_answer", "empty or whitespace only", doc.text)


def find_placeholder(doc: Doc) -> Evidence:
    """The whole answer is a placeholder such as "N/A", "<noinput>", "TODO", "none" or "无", or
    a short note to fill it in ("TODO: fill in answer", "[Insert answer here]")."""
    answer = doc.text.strip().lower().rstrip(".。")
    if answer in PLACEHOLDERS or answer.strip("<>[]()（） ") in PLACEHOLDERS:
        return _note("placeholder", "a placeholder answer", doc.text.strip())
    if len(answer.split()) <= _PLACEHOLDER_WORDS and len(answer) <= 80:
        return _evidence("placeholder", _PLACEHOLDER_NOTE.pattern[:80],
                         _PLACEHOLDER_NOTE.search(answer))
    return None


def prompt_overlap(doc: Doc) -> float:
    """Fraction of the answer's token trigrams (lowercase words and punctuation; characters in
    Chinese or Japanese) found in the prompt: 1.0 when the answer only repeats the prompt (an
    answer under 3 tokens counts only when it is the whole prompt). Edit tasks ("reorder these
    sentences") score high by design."""
    if not doc.prompt:
        return 0.0
    answer, prompt = _tokens(doc.text), _tokens(doc.prompt)
    if len(answer) < 3:  # too short for trigrams: only a verbatim echo counts
        return float(bool(answer) and answer == prompt)
    answer_grams = list(zip(answer, answer[1:], answer[2:]))
    prompt_grams = set(zip(prompt, prompt[1:], prompt[2:]))
    return ratio(sum(gram in prompt_grams for gram in answer_grams), len(answer_grams))


def _cut_off_prose(last_line: str) -> str | None:
    """Why a last line of prose stops mid-sentence, or `None` when it may just lack its final
    mark (a complete sentence without a period, a question without "?")."""
    if _CONTINUES.search(last_line):
        return "ends on a comma, colon, open bracket or operator"
    if last_line.endswith(_CJK_CONTINUES):
        return "ends on a Chinese or Japanese comma or colon"
    if has_unspaced(last_line[-1]):
        if len(last_line) >= _CJK_PROSE_CHARS and not _LIST_OR_TABLE.match(last_line):
            return "Chinese or Japanese prose ends without 。！？"
        return None
    words = last_line.split()
    if _LIST_OR_TABLE.match(last_line) or words[-1].startswith(_NOT_PROSE) \
            or not last_line[-1].isalpha():
        return None
    last = words[-1].lower()
    if len(words) >= 2 and (last in _TRAILING["never"] or (
            last in _TRAILING["modal"] and words[-2].lower() not in _TRAILING["pronouns"])):
        return f"ends on {words[-1]!r}, a word no sentence ends on there"
    if _QUESTION_START.match(_SENTENCE_BREAK.sub("", last_line)):
        return None  # a question without its question mark may end on "with"
    if last in _TRAILING["statement"] and len(words) >= 2:
        return f"ends on {words[-1]!r}, a word no statement ends on"
    if len(last) == 1 and last not in ("a", "i") and len(words) >= 4:
        return "ends on a single letter: a word cut off"
    return None


def find_truncated(doc: Doc) -> Evidence:
    """The answer stops mid-sentence or inside an unclosed code block: its last line ends on a
    comma, colon, open bracket or operator, or on a word no English sentence ends on ("the",
    "and", "of": `trailing_words.json`), or is Chinese or Japanese prose without 。！？.
    A last line that only lacks its final period, a list item, a line of a poem, code ending in
    ";" or "}", a link or an emoticon is not truncation."""
    text = doc.text.rstrip()
    if not text:
        return None
    fences = list(_FENCE.finditer(text))
    if len(fences) % 2:
        return _evidence("truncated", "a code fence that is never closed", fences[-1])
    last_line = text.rsplit("\n", 1)[-1].strip()
    if _EMOTICON.search(last_line):
        return None
    why = _cut_off_prose(last_line)
    return _note("truncated", why, last_line) if why else None


def find_refusal(doc: Doc) -> Evidence:
    """The answer refuses ("I'm sorry, but I can't ...", "I cannot help with ...",
    "抱歉，我无法 ..."); a policy statement ("I cannot provide answers that are harmful")
    is not a refusal."""
    for match in _REFUSAL.finditer(doc.text[:600]):
        if not _DISCLAIMER.match(doc.text, match.start()):
            return _evidence("refusal", _REFUSAL.pattern[:80], match)
    return None


def find_ai_boilerplate(doc: Doc) -> Evidence:
    """The answer has assistant boilerplate: "as an AI language model", "my knowledge cutoff",
    "作为一个AI语言模型"."""
    return _search("ai_boilerplate", _AI_BOILERPLATE, doc)


def find_template_tokens(doc: Doc) -> Evidence:
    """Chat-template tokens left in the prompt or answer, outside code (<|im_end|>, [INST],
    </s>, "Human:"); in the prompt, turn markers count only when both roles are there (a
    leaked transcript, not a script with an "Assistant:" character)."""
    found = _search("template_tokens", _TEMPLATE_TOKENS, doc, code=False)
    if found or not doc.prompt:
        return found
    prompt = _blank_code(doc.prompt)
    for match in _TEMPLATE_TOKENS.finditer(prompt):
        if not _ROLE_MARKERS.fullmatch(match.group()) or \
                {marker.group() for marker in _ANY_ROLE.finditer(prompt)} == \
                {"Human:", "Assistant:"}:
            return _evidence("template_tokens", _TEMPLATE_TOKENS.pattern[:80], match, "prompt")
    return None


def find_missing_image(doc: Doc) -> Evidence:
    """The prompt or answer (outside code) embeds or refers to an image the record does not
    carry (`![...](...)`, "[image]", "the figure below", "如下图"; an HTML `<img>` in the
    prompt)."""
    if doc.has_images:
        return None
    return (_search("missing_image", _MARKDOWN_IMAGE, doc, prompt=True, code=False)
            or _search("missing_image", _IMAGE_REFERENCE, doc, prompt=True, code=False)
            or (_evidence("missing_image", _HTML_IMAGE.pattern, _HTML_IMAGE.search(doc.prompt),
                          "prompt") if doc.prompt else None))


def find_figure_code(doc: Doc) -> Evidence:
    """Figure source code in the prompt or answer: `[asy]` (Asymptote), TikZ, `\\includegraphics`."""
    return _search("figure_code", _FIGURE_CODE, doc, prompt=True)


def find_api_error(doc: Doc) -> Evidence:
    """The answer is an API or runtime error message instead of an answer."""
    limit = 200 if len(doc.text.split()) > _ERROR_WORDS else None
    return _search("api_error", _API_ERROR, doc, limit=limit)


def _latex_problem(text: str) -> str | None:
    text = _blank_code(text)
    if not _LATEX_MARKUP.search(text):  # prose with prices, regexes or code: not LaTeX
        return None
    dollars = len(_DOLLAR.findall(text))
    if dollars % 2 and not _CURRENCY.search(text):
        return "an odd number of $"
    stack: list[str] = []
    for kind, name in _ENVIRONMENT.findall(text):
        if kind == "begin":
            stack.append(name)
        elif not stack or stack.pop() != name:
            return f"\\end{{{name}}} without its \\begin"
    if stack:
        return f"\\begin{{{stack[-1]}}} without its \\end"
    delimiters = _DISPLAY_DELIMITERS.findall(text)
    if delimiters.count("[") != delimiters.count("]") or delimiters.count("(") != delimiters.count(")"):
        return "unmatched \\[ \\] or \\( \\)"
    unescaped = _ESCAPED_BRACE.sub("", text)
    if unescaped.count("{") != unescaped.count("}"):
        return "unbalanced braces"
    return None


def _in_answer_or_prompt(rule: str, check: Any, doc: Doc) -> Evidence:
    for where, text in (("answer", doc.text), ("prompt", doc.prompt)):
        if text is not None:
            why = check(text)
            if why:
                return _note(rule, why, text, where)
    return None


def find_broken_latex(doc: Doc) -> Evidence:
    """Unbalanced LaTeX in the prompt or answer: an odd `$` (currency aside), `\\begin` without its
    `\\end`, unmatched `\\[`/`\\]` or `\\(`/`\\)`, or unbalanced braces in math text."""
    return _in_answer_or_prompt("broken_latex", _latex_problem, doc)


def _bold_markers(text: str) -> int:
    """`**` markers outside code; a `**` between two letters ("f**k") censors, not bolds."""
    prose = _blank_code(text)
    return sum(1 for match in _BOLD.finditer(prose)
               if not (prose[match.start() - 1:match.start()].isalnum()
                       and prose[match.end():match.end() + 1].isalnum()))


def _markdown_problem(text: str) -> str | None:
    if len(_FENCE.findall(text)) % 2:
        return "a code fence that is never closed"
    if _bold_markers(text) % 2:
        return "an unclosed ** bold marker"
    return None


def find_broken_markdown(doc: Doc) -> Evidence:
    """Broken markdown in the prompt or answer: an unclosed code fence, or an unclosed `**` bold
    marker outside code."""
    return _in_answer_or_prompt("broken_markdown", _markdown_problem, doc)


def _flag(name: str, find: Any, default: bool) -> Signal:
    return Signal(name, lambda doc: find(doc) is not None, default, find.__doc__, explain=find)


FAMILY = Family(
    name="instruction",
    doc="Instruction/answer rules: empty, placeholder, echoed, truncated, refusing or broken answers.",
    record_level=True,
    signals=(
        _flag("empty_answer", find_empty_answer, True),
        _flag("placeholder", find_placeholder, True),
        Signal("prompt_overlap", prompt_overlap, {"max": 0.9}, prompt_overlap.__doc__),
        _flag("truncated", find_truncated, True),
        _flag("refusal", find_refusal, False),
        _flag("ai_boilerplate", find_ai_boilerplate, True),
        _flag("template_tokens", find_template_tokens, True),
        _flag("missing_image", find_missing_image, True),
        _flag("figure_code", find_figure_code, True),
        _flag("api_error", find_api_error, True),
        _flag("broken_latex", find_broken_latex, True),
        _flag("broken_markdown", find_broken_markdown, True),
    ),
)
