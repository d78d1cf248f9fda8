"""Deterministic 64-bit mixing shared by shingling and MinHash.

Constants come from SplitMix64 rather than a numpy RNG, so shingle hashes and MinHash
permutations stay identical across numpy versions and processes.
"""

from __future__ import annotations

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser, an avalanching bijection on uint64 (wrap-around is intended)."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def splitmix64(seed: int, count: int) -> np.ndarray:
    """`count` pseudo-random uint64 values from `seed` (the SplitMix64 sequence)."""
    with np.errstate(over="ignore"):
        steps = np.arange(1, count + 1, dtype=np.uint64) * _GOLDEN
        return mix64(steps + np.uint64(seed % 2**64))
