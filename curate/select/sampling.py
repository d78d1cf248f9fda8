"""The s1 sampling loop: draw a domain, then a question by 2^-rank, until k are chosen.

Within a domain, questions are ranked hardest first (rank 1); equal scores are ordered by a
seeded random key, so ties are broken at random but reproducibly. Among the m questions a
domain still holds, rank r is picked with probability 2^-r / (1 - 2^-m) and then leaves the
domain (sampling without replacement, ranks recomputed as in s1's notebook). That law is a
geometric(1/2) draw truncated to m, so a pick costs O(rank), not the O(m) weight vector the
notebook builds.

Domains are drawn uniformly (s1), in proportion to their size, or by given weights; an
exhausted domain leaves the draw. The draw is `stratified` by default: each domain earns its
share of a pick every round and the one with the most credit goes next (smooth weighted
round-robin from seeded random starting credits), so every domain's count stays within one
of its expected share. `iid` draws each domain independently, as s1's notebook did; for
k=140 over MATH-500's 7 subjects that leaves the domain entropy under 98% of its maximum
for about one seed in ten.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Literal

import numpy as np

from curate.options import load_yaml

DomainDraw = Literal["stratified", "iid"]


def domain_weights(spec: str, sizes: Counter[str]) -> dict[str, float]:
    """Weights per domain from `uniform`, `proportional` or a YAML/JSON file of weights.

    A file maps domain names to weights; a `"*"` entry is the weight of domains it does not
    name, and without one every domain must be named.
    """
    if spec == "uniform":
        return {name: 1.0 for name in sizes}
    if spec == "proportional":
        return {name: float(size) for name, size in sizes.items()}
    if not Path(spec).is_file():
        raise ValueError(f"domain_weights: expected uniform, proportional or a file, got {spec!r}")
    table = {str(name): weight for name, weight in load_yaml(spec).items()}  # YAML `1:` is int
    default = table.pop("*", None)
    missing = sorted(name for name in sizes if name not in table)
    if missing and default is None:
        raise ValueError(f"{spec}: no weight for domain(s) {', '.join(map(repr, missing[:5]))}"
                         f"{' ...' if len(missing) > 5 else ''}; add them or a '*' default")
    weights = {name: table.get(name, default) for name in sizes}
    for name, weight in weights.items():
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            raise ValueError(f"{spec}: weight of domain {name!r} must be a number >= 0, "
                             f"got {weight!r}")
    if weights and not any(weights.values()):
        raise ValueError(f"{spec}: every domain has weight 0")
    return {name: float(weight) for name, weight in weights.items()}


def s1_sample(domains: list[str], difficulty: np.ndarray, k: int, rng: np.random.Generator,
              weights: dict[str, float] | None = None,
              draw: DomainDraw = "stratified") -> list[int]:
    """Positions of up to `k` items in selection order (see module docstring)."""
    tiebreak = rng.random(len(domains))
    queues: dict[str, list[int]] = {}
    for position in np.lexsort((tiebreak, difficulty)):  # easiest first: the hardest pops last
        queues.setdefault(domains[position], []).append(int(position))
    weights = weights or {name: 1.0 for name in queues}
    active = [name for name in sorted(queues) if weights[name] > 0]
    credits = rng.random(len(active))
    picked: list[int] = []
    while len(picked) < k and active:
        chances = np.array([weights[name] for name in active])
        chances /= chances.sum()
        if draw == "iid":
            slot = int(rng.choice(len(active), p=chances))
        else:
            credits += chances
            slot = int(np.argmax(credits))
            credits[slot] -= 1.0
        queue = queues[active[slot]]
        picked.append(queue.pop(len(queue) - truncated_geometric(rng, len(queue))))
        if not queue:
            del active[slot]
            credits = np.delete(credits, slot)
    return picked


def truncated_geometric(rng: np.random.Generator, size: int) -> int:
    """A rank in 1..size with probability proportional to 2^-rank."""
    while (rank := int(rng.geometric(0.5))) > size:
        pass
    return rank
