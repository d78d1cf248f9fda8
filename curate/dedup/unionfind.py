"""Union-find over document indices, with vectorised unions.

Every root is the smallest index of its component (a link always points to a smaller
index), so the result does not depend on the order in which edges arrive.
"""

from __future__ import annotations

import numpy as np


class UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = np.arange(size, dtype=np.int64)

    def roots(self, items: np.ndarray | None = None) -> np.ndarray:
        """The root of every item (of all items when `items` is None); compresses paths."""
        parent = self.parent
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        self.parent = parent
        return parent if items is None else parent[items]

    def union(self, a: np.ndarray, b: np.ndarray) -> None:
        """Join the components of ``a[i]`` and ``b[i]`` for every i."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        while len(a):
            root_a, root_b = self.roots(a), self.roots(b)
            apart = root_a != root_b
            a, b, root_a, root_b = a[apart], b[apart], root_a[apart], root_b[apart]
            # Several edges may hook the same root; the smallest target wins this pass
            # and the rest are retried against the merged roots in the next one.
            np.minimum.at(self.parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))
