r"""Final answers: extract them from worked solutions or model outputs, and compare them.

Extraction looks, in order, for GSM8K's `#### N`, the last `\boxed{...}` (or `\fbox{...}`),
and the last number in the text (`1,234`, `-0.5`, `3/4`; a minus sign counts only when no
digit or letter stands before it, so `10-2` ends in `2`).

Comparison first normalises both sides (a `\boxed{}` wrapper, LaTeX spacing,
`\left`/`\right`, `\dfrac`, `\frac12`, units in `\text{}`, degrees, thousands separators,
a leading `x =`) and compares the strings,
then exact rational values (`\frac{1}{2}` == `1/2` == `0.5`). Only when that cannot decide
does it ask Math-Verify (SymPy) for symbolic equivalence: the fast path answers a GSM8K
integer comparison in microseconds, Math-Verify takes 5-100 ms per pair.
"""

from __future__ import annotations

import re
import threading
from fractions import Fraction

_GSM8K = re.compile(r"####\s*([^\n]*)")
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*")
_NUMBER = re.compile(r"(?:(?<![\w)\]}])-)?(?:\d+(?:,\d{3})+(?:\.\d+)?|\d+/\d+|\d*\.\d+|\d+)")
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_DECIMAL = re.compile(r"^-?(?:\d+\.?\d*|\.\d+)$")
_FRACTION = re.compile(r"^(-?)\\frac\{(-?\d+)\}\{(-?\d+)\}$|^(-?\d+)/(-?\d+)$")
_TEXT_COMMANDS = re.compile(r"\\(?:text|textbf|mathrm|mbox|mathbf)\{([^{}]*)\}")
_SHORT_FRACTION = re.compile(r"\\frac(\d)(\d)")
_SHORT_SQRT = re.compile(r"\\sqrt(\w)")
_ASSIGNMENT = re.compile(r"^[a-zA-Z]\s*=\s*(?=\S)")
_DROPPED = ("\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\displaystyle",
            "^{\\circ}", "^\\circ", "\\circ", "\\%", "%", "\\$", "$")


def extract_answer(text: str) -> str | None:
    r"""The final answer in `text`: `#### N`, else the last `\boxed{}`, else the last number."""
    if found := _GSM8K.findall(text):
        answer = found[-1].strip()
        if answer:
            return answer
    if (boxed := last_boxed(text)) is not None:
        return boxed
    numbers = _NUMBER.findall(text)
    return numbers[-1] if numbers else None


def last_boxed(text: str) -> str | None:
    r"""The content of the last `\boxed{...}` / `\fbox{...}` (nested braces kept), or None."""
    matches = list(_BOXED.finditer(text))
    for match in reversed(matches):
        start = match.end()
        if start < len(text) and text[start] == "{":
            depth = 0
            for index in range(start, len(text)):
                depth += {"{": 1, "}": -1}.get(text[index], 0)
                if depth == 0:
                    return text[start + 1:index].strip()
        elif bare := re.match(r"[^\s$]+", text[start:]):  # `\boxed 5`
            return bare.group(0)
    return None


def normalize_answer(answer: str) -> str:
    """A canonical string form of an answer, for exact comparison."""
    text = answer.strip()
    if (boxed := last_boxed(text)) is not None:
        text = boxed
    for opening, closing in (("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if text.startswith(opening) and text.endswith(closing) and len(text) > 1:
            text = text[len(opening):len(text) - len(closing)]
    text = _TEXT_COMMANDS.sub(r"\1", text)
    text = text.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    for token in _DROPPED:
        text = text.replace(token, "")
    text = re.sub(r"\s+", "", _ASSIGNMENT.sub("", text.strip())).rstrip(".")
    text = _SHORT_FRACTION.sub(r"\\frac{\1}{\2}", text)
    text = _SHORT_SQRT.sub(r"\\sqrt{\1}", text)
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    return text


def as_number(answer: str) -> Fraction | None:
    """The exact rational value of a normalised plain number or simple fraction, else None."""
    if _DECIMAL.match(answer):
        return Fraction(answer)
    if match := _FRACTION.match(answer):
        sign, numerator, denominator = (match.group(1, 2, 3) if match.group(2) is not None
                                        else ("", *match.group(4, 5)))
        if int(denominator) == 0:
            return None
        value = Fraction(int(numerator), int(denominator))
        return -value if sign else value
    return None


def answers_match(predicted: str | None, reference: str) -> bool:
    """Whether `predicted` states the same answer as `reference` (see module docstring)."""
    if predicted is None:
        return False
    left, right = normalize_answer(predicted), normalize_answer(reference)
    if left == right:
        return True
    left_value, right_value = as_number(left), as_number(right)
    if left_value is not None and right_value is not None:
        return left_value == right_value
    return _symbolically_equal(predicted, reference)


def _symbolically_equal(predicted: str, reference: str) -> bool:
    from math_verify import parse, verify

    # Math-Verify's timeouts use SIGALRM, which only the main thread may set.
    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    gold = parse(f"${reference}$", parsing_timeout=timeout)
    target = parse(f"${predicted}$", parsing_timeout=timeout)
    return bool(gold and target and verify(gold, target, timeout_seconds=timeout))
