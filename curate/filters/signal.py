"""A signal is one named score, a pure function of a `Doc`, with its default rule.

Signals come in families that share work (one tokenisation, one model call).
A family scores a batch of docs at once, so model-backed families (toxicity,
language, tokens) batch their calls and rule families simply loop.

A signal defined only where words are separated by spaces (`spaced_only`) scores
`None` on Chinese, Japanese or Thai text: the rule does not apply there, and the
filter counts it as not applicable instead of removing or keeping silently.

Reason tags are derived from the score name, so they are stable and
predictable: a value below a rule's `min` is removed as `<name>_below_min`,
above its `max` as `<name>_above_max`, and a true flag as `<name>`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curate.filters.text import Doc

NOT_APPLICABLE = ("defined only for text with spaces between words; this text is written "
                  "without (Chinese, Japanese, Thai, ...)")

Value = float | int | bool | str | None


@dataclass(frozen=True)
class Signal:
    """One score: `name` (its key in `scores`), how it is computed and its documented default."""

    name: str
    compute: Callable[[Doc], Value] | None
    """The pure function of one doc; `None` in model-backed families, which score batches."""
    default: dict[str, Any] | bool | None
    """`{"min": x}` / `{"max": y}` for a number, `True` for a flag that removes by default,
    `False` for a flag that is only reported, `None` for a score with no default rule."""
    doc: str
    spaced_only: bool = False
    """Defined only for text with spaces between words (mean word length, English stop words,
    word n-gram repetition, short lines): `None` for text written without spaces, and named
    in the record's `not_applicable` scores."""
    explain: Callable[[Doc], dict[str, Any] | None] | None = None
    """For a flag: what made it true in a doc (pattern, span, matched text), or `None`."""

    @property
    def is_flag(self) -> bool:
        return isinstance(self.default, bool)


def ratio(part: float, whole: float) -> float:
    """`part / whole` to 6 decimals (exact enough for any threshold, readable in output);
    0 for an empty whole."""
    return round(part / whole, 6) if whole else 0.0


def below_min(name: str) -> str:
    return f"{name}_below_min"


def above_max(name: str) -> str:
    return f"{name}_above_max"


@dataclass(frozen=True)
class Family:
    """Signals computed together. `batch` overrides the per-doc loop for model-backed families.

    A text-level family scores each chosen view (the prompt's scores get a `prompt_` prefix);
    a record-level family (`record_level=True`) scores the record once, reading the answer
    as `doc.text` and the prompt as `doc.prompt`. `reads_prompt` says that the answer's scores
    depend on the prompt too (true of record-level families, and of language).
    """

    name: str
    signals: tuple[Signal, ...]
    doc: str
    batch: Callable[[Sequence[Doc], Any], list[dict[str, Value]]] | None = None
    record_level: bool = False
    reads_prompt: bool = False
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(signal.name for signal in self.signals))
        object.__setattr__(self, "reads_prompt", self.reads_prompt or self.record_level)

    def score(self, docs: Sequence[Doc], options: Any = None) -> list[dict[str, Value]]:
        """The family's scores for each doc, in order."""
        if self.batch is not None:
            return self.batch(docs, options)
        return [{signal.name: None if signal.spaced_only and doc.unspaced else signal.compute(doc)
                 for signal in self.signals} for doc in docs]
