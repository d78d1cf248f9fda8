"""Rankings and ratings of K responses: checking a submission, mapping it from the screen to
the item, and turning it into preferences between pairs of responses. Pure functions.

Vocabulary:

* a **ranking** is a list of ranks, one per response (1 is best; equal ranks are ties);
* a **ratings** value is `{"scores": {criterion: [score per response]}, "flags": [[flag...]
  per response]}`;
* the **shown order** of an assignment lists, for each position on the screen, the index of
  the response shown there (`order[p] = i`). Submissions arrive in screen positions and are
  stored in item order (`to_item_order`), with the shown order beside them.
* a **pair preference** `(i, j, winner, gap)`, `i < j`, says which of responses i and j is
  better: `a` (i), `b` (j) or `tie`; `gap` is how much (ranks apart, or score points).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from labeling_app.project import Project


class BadSubmission(ValueError):
    """A ranking or ratings value that does not fit the item or the project."""


def to_item_order(values: Sequence[Any], order: Sequence[int]) -> list[Any]:
    """Values by screen position -> values by response index."""
    out: list[Any] = [None] * len(order)
    for position, index in enumerate(order):
        out[index] = values[position]
    return out


def to_screen_order(values: Sequence[Any], order: Sequence[int]) -> list[Any]:
    """The inverse of `to_item_order`."""
    return [values[index] for index in order]


def _whole(value: Any) -> int:
    """An int, or a string of one ("3"); an error for anything else (2.5, True, [3])."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(value)
    return int(value)


def _number(value: Any) -> float:
    """A real number, or a string of one; an error for anything else (True, [3], "nan")."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TypeError(value)
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(value)
    return number


def check_ranking(ranks: Sequence[Any], k: int) -> list[int]:
    """A ranking of k responses as ints 1..k; `BadSubmission` naming what is missing."""
    if len(ranks) != k:
        raise BadSubmission(f"a ranking needs a rank for each of the {k} responses")
    missing = [str(p + 1) for p, rank in enumerate(ranks) if rank in (None, "")]
    if missing:
        raise BadSubmission(f"rank every response (missing: response {', '.join(missing)})")
    try:
        out = [_whole(rank) for rank in ranks]
    except (TypeError, ValueError):
        raise BadSubmission("ranks must be whole numbers") from None
    if not all(1 <= rank <= k for rank in out):
        raise BadSubmission(f"ranks go from 1 (best) to {k}")
    return out


def check_ratings(scores: dict[str, Sequence[Any]], flags: Sequence[Sequence[str]],
                  project: Project, k: int) -> dict[str, Any]:
    """A ratings value with every response scored on every criterion, on its scale, and
    only the project's flags."""
    out: dict[str, list[float]] = {}
    for criterion in project.criteria:
        given = list(scores.get(criterion.name) or [])
        if len(given) != k or any(score in (None, "") for score in given):
            unrated = [str(p + 1) for p in range(k) if p >= len(given) or given[p] in (None, "")]
            raise BadSubmission(f"rate every response on {criterion.name!r} (missing: "
                                f"response {', '.join(unrated)})")
        try:
            values = [_number(score) for score in given]
        except (TypeError, ValueError):
            raise BadSubmission(f"{criterion.name}: scores must be numbers") from None
        if not all(criterion.low <= v <= criterion.high for v in values):
            raise BadSubmission(f"{criterion.name}: scores go from {criterion.low} to "
                                f"{criterion.high}")
        out[criterion.name] = [int(v) if v.is_integer() else v for v in values]
    unknown = set(scores) - {c.name for c in project.criteria}
    if unknown:
        raise BadSubmission(f"unknown criteria: {', '.join(sorted(unknown))}")
    if len(flags) != k:
        raise BadSubmission(f"flags: one list per response ({k})")
    allowed = set(project.flags)
    clean = []
    for response_flags in flags:
        if not isinstance(response_flags or [], list | tuple) or \
                not all(isinstance(flag, str) for flag in response_flags or []):
            raise BadSubmission("flags: a list of flag names per response")
        bad = set(response_flags or []) - allowed
        if bad:
            raise BadSubmission(f"unknown flags: {', '.join(sorted(bad))}")
        clean.append(sorted(set(response_flags or [])))
    return {"scores": out, "flags": clean}


def value_numbers(value: Any, project: Project) -> bytes:
    """A stored K-way value as the numbers the metrics read, as little-endian float64 in item
    order: the K ranks (ranking); or each criterion's K scores, criterion after criterion,
    then per flag K indicators (1: raised on that response), flag after flag, both in the
    project's order (ratings). Stored beside the JSON value: decoding 100k ratings from JSON
    took 0.6 s of a 3.4 s dashboard; these bytes take milliseconds."""
    if project.task == "ranking":
        numbers = value
    else:
        numbers = [score for criterion in project.criteria
                   for score in value["scores"][criterion.name]]
        numbers += [float(flag in raised) for flag in project.flags
                    for raised in value["flags"]]
    return np.asarray(numbers, dtype="<f8").tobytes()


def ratings_to_item_order(value: dict[str, Any], order: Sequence[int]) -> dict[str, Any]:
    return {"scores": {name: to_item_order(scores, order)
                       for name, scores in value["scores"].items()},
            "flags": to_item_order(value["flags"], order)}


# -- rules and pair preferences -------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """How ratings become a preference between two responses.

    * `overall`: the mean of the criteria, each rescaled to 0-1 by its scale; the gap is in
      those units (1.0 = the whole scale).
    * a priority list (e.g. `harmless,helpful,truthful`): the first criterion on which the
      two responses differ decides; the gap is in its scale points.
    """

    priority: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, project: Project) -> Rule:
        text = text.strip()
        if text in ("", "overall"):
            return cls()
        names = tuple(part.strip() for part in text.split(",") if part.strip())
        known = [c.name for c in project.criteria]
        unknown = [n for n in names if n not in known]
        if unknown or len(set(names)) != len(names):
            raise ValueError(f"rule {text!r}: 'overall' or criteria in priority order, each "
                             f"once, from {', '.join(known)}")
        return cls(names)

    def __str__(self) -> str:
        return ",".join(self.priority) if self.priority else "overall"

    def keys(self, value: dict[str, Any], project: Project) -> list[tuple[float, ...]]:
        """Per response a key (higher is better), compared element by element."""
        scores = value["scores"]
        k = len(next(iter(scores.values())))
        if self.priority:
            return [tuple(float(scores[name][i]) for name in self.priority) for i in range(k)]
        spans = [(c.name, c.low, c.high - c.low) for c in project.criteria]
        return [(sum((float(scores[name][i]) - low) / span for name, low, span in spans)
                 / len(spans),) for i in range(k)]


def _compare(first: tuple[float, ...], second: tuple[float, ...]) -> tuple[str, float]:
    for x, y in zip(first, second, strict=True):
        if abs(x - y) > 1e-9:  # an overall score is a mean of fractions
            return ("a" if x > y else "b"), abs(x - y)
    return "tie", 0.0


def pair_preferences(task: str, value: Any, project: Project | None = None,
                     rule: Rule = Rule()) -> list[tuple[int, int, str, float]]:
    """Every pair `(i, j, winner, gap)` with i < j from a ranking or a ratings value."""
    if task == "ranking":
        keys = [(-float(rank),) for rank in value]
    elif task == "ratings":
        keys = rule.keys(value, project)
    else:
        raise ValueError(f"no pair preferences for task {task!r}")
    out = []
    for i, j in itertools.combinations(range(len(keys)), 2):
        winner, gap = _compare(keys[i], keys[j])
        out.append((i, j, winner, gap))
    return out


def ranks_from_pairs(k: int, pairs: Sequence[tuple[int, int, str, float]]) -> list[int]:
    """A ranking from pair preferences that may not be transitive: responses ordered by wins
    minus losses (Copeland's method), equal scores tied. Pairs counted as ties add nothing,
    so two responses with no preference between them end up tied when nothing else
    separates them."""
    score = [0] * k
    for i, j, winner, _ in pairs:
        if winner == "a":
            score[i], score[j] = score[i] + 1, score[j] - 1
        elif winner == "b":
            score[i], score[j] = score[i] - 1, score[j] + 1
    distinct = sorted(set(score), reverse=True)
    return [distinct.index(s) + 1 for s in score]


_RANKING_TEXT = re.compile(r"\s*[A-Za-z0-9]+(\s*[>=]\s*[A-Za-z0-9]+)*\s*")


def parse_ranking(text: str, k: int, *, letters: bool = False) -> list[int]:
    """`"2 > 1 = 3 > 4"` (or `"B > A = C > D"` with `letters`) as ranks per response; each
    response exactly once. `=` ties two responses; `>` puts the next one a rank lower."""
    if not _RANKING_TEXT.fullmatch(text or ""):
        raise BadSubmission(f"write a ranking like {_example(k, letters)}")
    tokens = re.findall(r"[A-Za-z0-9]+|[>=]", text)
    ranks: dict[int, int] = {}
    rank = 1
    for token in tokens:
        if token == ">":
            rank += 1
        elif token != "=":
            index = (ord(token.upper()) - ord("A")) if letters and len(token) == 1 \
                and token.isalpha() else (int(token) - 1 if token.isdigit() else -1)
            if not 0 <= index < k:
                raise BadSubmission(f"{token!r} is not one of the {k} responses "
                                    f"({_example(k, letters)})")
            if index in ranks:
                raise BadSubmission(f"response {token} appears twice")
            ranks[index] = rank
    if len(ranks) != k:
        raise BadSubmission(f"rank all {k} responses ({_example(k, letters)})")
    return [ranks[i] for i in range(k)]


def ranking_text(ranks: Sequence[float], *, letters: bool = False) -> str:
    """The inverse of `parse_ranking`: `[2, 1, 2]` -> `"2 > 1 = 3"`."""
    names = [chr(ord("A") + i) if letters else str(i + 1) for i in range(len(ranks))]
    ordered = sorted(range(len(ranks)), key=lambda i: (ranks[i], i))
    text = names[ordered[0]]
    for previous, index in itertools.pairwise(ordered):
        text += (" = " if ranks[index] == ranks[previous] else " > ") + names[index]
    return text


def _example(k: int, letters: bool) -> str:
    names = [chr(ord("A") + i) if letters else str(i + 1) for i in range(k)]
    return " > ".join(names[:1] + [" = ".join(names[1:3])] + names[3:]) if k > 2 \
        else f"{names[0]} > {names[1]}"
