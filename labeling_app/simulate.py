"""Seeded simulated labelers, for demos, tests and benchmarks. Never mistaken for people:
their names start with `sim-`, and the users and every judgment they make are flagged
`simulated` in the database and in exports.

Policies decide from what a labeler sees (`Screen`):

* `quality`: votes for the known better side (gold answer, else `meta.truth` written by
  `curate pairs --from-preference`) with probability `accuracy`; a coin flip when unknown;
* `length`: the longer response ("much better" when twice as long);
* `left`: always the left response;
* `random`: any of the five scale buttons.

On rankings and ratings of K responses the same policies rank what is shown (`decide_ranks`):
`quality` gives the item's gold ranking with probability `accuracy` (else, or without gold,
a random order), `length` ranks longer responses higher, `left` ranks in screen order, and
`random` draws an order. Ratings give every criterion the score of that rank, spread evenly
from the top of the scale (rank 1) to its bottom (rank K).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from labeling_app.project import Project
from labeling_app.store import Assignment, Store
from schemas.labeling import as_text

Policy = Literal["quality", "length", "left", "random"]
POLICIES: tuple[str, ...] = ("quality", "length", "left", "random")
PREFIX = "sim-"
_SCALE = ("left_much", "left", "tie", "right", "right_much")


class SimulateOptions(BaseModel):
    """Options of `label simulate` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    labelers: int = Field(5, ge=1, le=999)
    seed: int = 0
    policy: Policy = "quality"
    accuracy: float = Field(0.85, ge=0, le=1, description="How often `quality` picks the "
                            "known better side.")


@dataclass(frozen=True)
class Screen:
    """What a labeler sees, plus (for `quality`) which shown side is truly better."""

    left_text: str
    right_text: str
    truth: str | None = None  # "left", "right", "tie" or None when unknown


def screen_of(assignment: Assignment) -> Screen:
    """The screen of a leased item, with the truth mapped to shown sides."""
    item = assignment.item
    truth = item.gold or item.meta.get("truth")
    if truth in ("a", "b"):
        truth = "left" if truth == assignment.left else "right"
    return Screen(assignment.left_text, assignment.right_text,
                  truth if truth in ("left", "right", "tie") else None)


def decide(policy: str, screen: Screen, rng: random.Random, *, accuracy: float = 0.85) -> str:
    """The shown choice a simulated labeler with `policy` clicks."""
    if policy == "left":
        return "left"
    if policy == "random":
        return rng.choice(_SCALE)
    if policy == "length":
        left, right = len(screen.left_text), len(screen.right_text)
        if left == right:
            return "tie"
        side = "left" if left > right else "right"
        return f"{side}_much" if max(left, right) >= 2 * min(left, right) else side
    if policy == "quality":
        if screen.truth is None:
            return rng.choice(("left", "right"))
        if rng.random() < accuracy:
            return screen.truth if screen.truth == "tie" or rng.random() < 0.7 \
                else f"{screen.truth}_much"
        return rng.choice([c for c in _SCALE if not c.startswith(screen.truth)])
    raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, not {policy!r}")


def decide_ranks(policy: str, assignment: Assignment, rng: random.Random, *,
                 accuracy: float = 0.85) -> list[int]:
    """The ranks (1 = best, ties share the better rank) a simulated labeler with `policy`
    gives the responses of a K-way item, in screen order."""
    shown = [as_text(r) for r in assignment.shown_responses]
    k = len(shown)
    order = list(assignment.order or range(k))
    if policy == "left":
        return list(range(1, k + 1))
    if policy == "length":
        return [1 + sum(len(other) > len(text) for other in shown) for text in shown]
    if policy == "quality" and assignment.item.gold and rng.random() < accuracy:
        return [assignment.item.gold[index] for index in order]  # item order -> screen order
    if policy in POLICIES:
        ranks = list(range(1, k + 1))
        rng.shuffle(ranks)
        return ranks
    raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, not {policy!r}")


def ratings_of(ranks: list[int], project: Project) -> dict[str, Any]:
    """Ratings that agree with `ranks`: per criterion, rank 1 at the top of its scale and rank
    K at the bottom, evenly between; no flags."""
    k = len(ranks)
    scores = {c.name: [round(c.high - (rank - 1) * (c.high - c.low) / max(k - 1, 1))
                       for rank in ranks] for c in project.criteria}
    return {"scores": scores, "flags": [[] for _ in ranks]}


def streams(seed: int) -> tuple[random.Random, random.Random]:
    """Two independent random streams from one seed: which side is shown on the left (the
    store's), and what the simulated labelers click. Two `random.Random(seed)` would run in
    lockstep: the coin of a labeler who cannot tell the sides apart then always matched the
    position draw, and every such vote went to A."""
    positions, votes = (random.Random(int(child.generate_state(1, dtype=np.uint64)[0]))
                        for child in np.random.SeedSequence(seed).spawn(2))
    return positions, votes


def simulated_users(store: Store, count: int) -> list[str]:
    """`sim-01` ... created as simulated annotators without a password (they cannot log in)."""
    width = max(2, len(str(count)))
    names = [f"{PREFIX}{i:0{width}d}" for i in range(1, count + 1)]
    existing = {user["name"]: user for user in store.users()}
    for name in names:
        if name not in existing:
            store.add_user(name, role="annotator", simulated=True)
        elif not existing[name]["simulated"]:
            raise ValueError(f"user {name!r} exists and is not simulated; not voting as them")
    return names


def simulate(store: Store, *, labelers: int, policy: str, rng: random.Random,
             accuracy: float = 0.85, guideline_version: str = "simulated",
             on_vote: Callable[[], None] | None = None) -> dict[str, int]:
    """Let `labelers` simulated users judge until no item is left for any of them.

    Labelers take turns, so overlap fills as it would with people. Returns the number
    of votes per user. Deterministic for a seed when `rng` and the store's rng are the two
    `streams(seed)`.
    """
    if policy not in POLICIES:
        raise ValueError(f"policy: must be one of {', '.join(POLICIES)}, not {policy!r}")
    project = store.project()
    names = simulated_users(store, labelers)
    votes = dict.fromkeys(names, 0)
    active = list(names)
    while active:
        for name in list(active):
            assignment = store.next_assignment(name)
            if assignment is None:
                active.remove(name)
                continue
            if assignment.order is None:
                store.submit(name, assignment.lease_id,
                             decide(policy, screen_of(assignment), rng, accuracy=accuracy),
                             guideline_version=guideline_version)
            else:
                ranks = decide_ranks(policy, assignment, rng, accuracy=accuracy)
                store.submit_multi(name, assignment.lease_id, ranks if project.task == "ranking"
                                   else ratings_of(ranks, project),
                                   guideline_version=guideline_version)
            votes[name] += 1
            if on_vote:
                on_vote()
    return votes
