"""Shown (left/right) to canonical (A/B) choices: the one place the mapping lives.

A position-randomisation bug silently flips labels (open-instruct shipped one that
flipped about half of them), so the mapping is a table, tested both ways.
"""

from __future__ import annotations

from schemas.labeling import SHOWN

_MIRROR = {"left_much": "right_much", "left": "right", "tie": "tie", "right": "left",
           "right_much": "left_much", "both_bad": "both_bad", "skip": "skip"}
_WHEN_A_IS_LEFT = {"left_much": "a_much", "left": "a", "tie": "tie", "right": "b",
                   "right_much": "b_much", "both_bad": "both_bad", "skip": "skip"}
_TO_SHOWN_WHEN_A_IS_LEFT = {canonical: shown for shown, canonical in _WHEN_A_IS_LEFT.items()}


def to_canonical(shown: str, left: str) -> str:
    """The canonical choice for a click on `shown`, when canonical side `left` was on the left."""
    if shown not in SHOWN:
        raise ValueError(f"unknown choice {shown!r}; expected one of {', '.join(SHOWN)}")
    if left == "a":
        return _WHEN_A_IS_LEFT[shown]
    if left == "b":
        return _WHEN_A_IS_LEFT[_MIRROR[shown]]
    raise ValueError(f"left must be 'a' or 'b', not {left!r}")


def to_shown(choice: str, left: str) -> str:
    """The inverse of `to_canonical`: which button expresses canonical `choice`."""
    shown = _TO_SHOWN_WHEN_A_IS_LEFT[choice]
    return shown if left == "a" else _MIRROR[shown]


def panes(left: str) -> tuple[str, str]:
    """The item fields shown in the left and right panes."""
    return ("response_a", "response_b") if left == "a" else ("response_b", "response_a")
