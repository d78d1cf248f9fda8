"""Fixtures of the labeling tests: a hand-moved clock, item and store builders."""

from __future__ import annotations

import random

import pytest

from labeling_app.store import Store
from schemas.labeling import Item


class FakeClock:
    """A clock the test moves by hand: lease expiry and vote timing without sleeping."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def build_items(count: int, *, prefix: str = "item", gold: str | None = None) -> list[Item]:
    """Items whose responses say which side they are, so a test can tell panes apart."""
    return [Item(id=f"{prefix}-{i:03d}", prompt=f"Question {i}?",
                 response_a=f"Answer A to question {i}." + " more" * (i % 7),
                 response_b=f"Answer B to question {i}." + " words" * (i % 5),
                 source_a="model-a", source_b="model-b", gold=gold)
            for i in range(count)]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def make_items():
    return build_items


@pytest.fixture
def make_store(tmp_path, clock):
    """`make_store(items=N, overlap=K, users=U)`: a fresh database on the fake clock, with
    annotators `user-00`...; closed after the test."""
    stores = []

    def build(*, items: int = 0, overlap: int = 3, users: int = 0, seed: int = 0,
              lease_ttl: float = 600.0, name: str = "labels.sqlite") -> Store:
        store = Store(tmp_path / name, create=True, rng=random.Random(seed), clock=clock,
                      lease_ttl=lease_ttl)
        stores.append(store)
        if items:
            store.add_items(build_items(items), overlap=overlap)
        for i in range(users):
            store.add_user(f"user-{i:02d}")
        return store

    yield build
    for store in stores:
        store.close()
