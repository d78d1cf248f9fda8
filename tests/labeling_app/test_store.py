"""The SQLite store: schema, users, leases, overlap, votes refused server-side, concurrency."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from labeling_app.store import (
    _MIGRATIONS,
    SCHEMA_VERSION,
    ItemConflict,
    Store,
    StoreError,
    VoteRejected,
)


def _vote(store, user, shown="left", **kwargs):
    assignment = store.next_assignment(user)
    return assignment, store.submit(user, assignment.lease_id, shown, guideline_version="1",
                                    **kwargs)


def test_database_is_wal_with_busy_timeout_and_versioned(make_store):
    store = make_store(items=1)
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_newer_schema_and_foreign_files_are_refused(tmp_path):
    newer = tmp_path / "newer.sqlite"
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this prefkit"):
        Store(newer)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(StoreError, match="not a prefkit labeling database"):
        Store(other)
    text = tmp_path / "text.sqlite"
    text.write_text("hello, not a database" * 100)
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store(text)
    with pytest.raises(FileNotFoundError, match="label import"):
        Store(tmp_path / "missing.sqlite")


def test_a_version_1_database_is_upgraded_in_place(tmp_path, make_items):
    """Version 2 added the item counters: an old database gets them, counted from its rows.
    Version 3 added disabled users and sessions: old users stay enabled. Version 4 made it a
    pairwise project, rebuilt the judgments table (every vote kept) and marked users human."""
    path = tmp_path / "v1.sqlite"
    items = make_items(3)
    with sqlite3.connect(path) as conn:  # a version 1 database as version 1 wrote it
        conn.executescript(_MIGRATIONS[0] + "PRAGMA user_version = 1;")
        for item in items:
            conn.execute("INSERT INTO items (id, prompt, response_a, response_b, source_a, "
                         "source_b, gold, meta, len_a, len_b, overlap, done, imported_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, NULL, '{}', ?, ?, 1, ?, 0)",
                         (item.id, json.dumps(item.prompt), json.dumps(item.response_a),
                          json.dumps(item.response_b), item.source_a, item.source_b,
                          len(item.response_a), len(item.response_b),
                          int(item.id == "item-001")))
        conn.execute("INSERT INTO users (name, role, password_hash, simulated, created_at) "
                     "VALUES ('old', 'annotator', NULL, 0, 0)")
        conn.execute("INSERT INTO judgments (item_id, user, choice, shown, left_side, seconds, "
                     "guideline_version, rationale, simulated, created_at) VALUES "
                     "('item-001', 'old', 'b_much', 'left_much', 'b', 4.5, '1', 'why', 0, 7)")
    with Store(path) as store:
        assert store._conn().execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.item_counts() == (1, 3)
        assert store.role("old") == "annotator"
        assert store.users()[0]["disabled"] is False
        assert store.users()[0]["kind"] == "human"
        assert store.project().task == "pairwise"
        [row] = store.judgment_rows()
        assert (row["item_id"], row["choice"], row["shown"], row["left"], row["seconds"],
                row["rationale"], row["created_at"]) == ("item-001", "b_much", "left_much", "b",
                                                         4.5, "why", 7)
        assert store.add_items(items, overlap=1) == ["unchanged"] * 3  # stored as it encodes
        assert [item for item, _, _ in store.items()] == items


def test_item_counts_follow_votes_and_imports(make_store, make_items):
    store = make_store(items=3, overlap=2, users=2)
    assert store.item_counts() == (0, 3)
    for user in ("user-00", "user-01"):
        _vote(store, user)
    assert store.item_counts() == (1, 3)  # the first item has its two votes
    store.add_items(make_items(5), overlap=2)  # two new items
    assert store.item_counts() == (1, 5)
    store.add_items(make_items(5)[1:2], overlap=1)  # item-001 now needs only its one vote...
    assert store.item_counts() == (1, 5)  # ... which it does not have yet
    _vote(store, "user-00")  # user-00 gets item-001
    assert store.item_counts() == (2, 5)


def test_one_judgment_per_item_and_user_is_enforced_by_the_schema(make_store):
    store = make_store(items=1, users=1)
    _vote(store, "user-00")
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        store._conn().execute(
            "INSERT INTO judgments (item_id, user, choice, shown, left_side, seconds, "
            "guideline_version, rationale, simulated, created_at) "
            "VALUES ('item-000', 'user-00', 'a', 'left', 'a', 1, '1', '', 0, 0)")


def test_judgment_records_left_side_time_and_guideline_version(make_store, clock):
    store = make_store(items=1, users=1)
    assignment = store.next_assignment("user-00")
    clock.advance(7.5)
    judgment = store.submit("user-00", assignment.lease_id, "right_much", rationale=" why ",
                            guideline_version="v2")
    row = store.judgment_rows()[0]
    assert row["left"] == assignment.left == judgment.left
    assert row["seconds"] == pytest.approx(7.5)
    assert row["guideline_version"] == "v2"
    assert row["rationale"] == "why"
    assert row["shown"] == "right_much"
    assert row["choice"] == ("b_much" if assignment.left == "a" else "a_much")


def test_each_item_gets_exactly_overlap_judgments_from_different_labelers(make_store):
    store = make_store(items=10, overlap=3, users=5)
    users = [f"user-{i:02d}" for i in range(5)]
    active = list(users)
    while active:
        for user in list(active):
            assignment = store.next_assignment(user)
            if assignment is None:
                active.remove(user)
                continue
            store.submit(user, assignment.lease_id, "tie", guideline_version="1")
    rows = store.judgment_rows()
    per_item: dict[str, set[str]] = {}
    for row in rows:
        per_item.setdefault(row["item_id"], set()).add(row["user"])
    assert len(rows) == 30
    assert all(len(judges) == 3 for judges in per_item.values()) and len(per_item) == 10
    assert all(done == overlap == 3 for _, overlap, done in store.items())


def test_reload_returns_the_same_lease_and_side(make_store):
    store = make_store(items=3, users=1)
    first = store.next_assignment("user-00")
    again = store.next_assignment("user-00")
    assert (again.lease_id, again.item.id, again.left) == (first.lease_id, first.item.id,
                                                           first.left)


def test_two_labelers_never_hold_the_same_last_slot(make_store):
    store = make_store(items=2, overlap=1, users=3)
    first = store.next_assignment("user-00")
    second = store.next_assignment("user-01")
    assert first.item.id != second.item.id
    assert store.next_assignment("user-02") is None  # both slots are held


def test_abandoned_lease_returns_to_the_pool_and_its_vote_is_refused(make_store, clock):
    store = make_store(items=1, overlap=1, users=2, lease_ttl=60)
    abandoned = store.next_assignment("user-00")
    assert store.next_assignment("user-01") is None
    clock.advance(61)
    taken = store.next_assignment("user-01")
    assert taken is not None and taken.item.id == abandoned.item.id
    with pytest.raises(VoteRejected, match="no live lease"):
        store.submit("user-00", abandoned.lease_id, "left", guideline_version="1")
    store.submit("user-01", taken.lease_id, "left", guideline_version="1")
    assert len(store.judgment_rows()) == 1


def test_votes_without_a_live_lease_of_ones_own_are_refused(make_store):
    store = make_store(items=2, users=2)
    with pytest.raises(VoteRejected, match="no live lease"):
        store.submit("user-00", None, "left", guideline_version="1")
    other = store.next_assignment("user-01")
    with pytest.raises(VoteRejected, match="no live lease"):
        store.submit("user-00", other.lease_id, "left", guideline_version="1")
    _, judgment = _vote(store, "user-01")
    with pytest.raises(VoteRejected, match="no live lease"):  # the same lease twice
        store.submit("user-01", other.lease_id, "left", guideline_version="1")
    assert [r["user"] for r in store.judgment_rows()] == [judgment.user]


@pytest.mark.parametrize("shown", ["both_bad", "skip"])
def test_both_bad_and_skip_need_a_rationale(make_store, shown):
    store = make_store(items=1, users=1)
    assignment = store.next_assignment("user-00")
    with pytest.raises(VoteRejected, match="needs a rationale"):
        store.submit("user-00", assignment.lease_id, shown, rationale="  ", guideline_version="1")
    store.submit("user-00", assignment.lease_id, shown, rationale="broken text",
                 guideline_version="1")
    assert store.judgment_rows()[0]["choice"] == shown


def test_skips_go_to_others_and_never_come_back(make_store):
    store = make_store(items=2, overlap=1, users=2)
    skipped = store.next_assignment("user-00")
    store.submit("user-00", skipped.lease_id, "skip", rationale="not my field",
                 guideline_version="1")
    assert store.next_assignment("user-01").item.id == skipped.item.id
    following = store.next_assignment("user-00")
    assert following.item.id != skipped.item.id
    progress = store.progress("user-00")
    assert progress.judged_by_user == 0  # a skip is not a judgment


def test_users_have_hashed_passwords_and_roles(make_store):
    store = make_store()
    store.add_user("alice", role="admin", password="s3cret-passphrase")
    assert store.check_password("alice", "s3cret-passphrase")
    assert not store.check_password("alice", "wrong")
    assert not store.check_password("nobody", "s3cret-passphrase")
    assert store.role("alice") == "admin"
    stored = store._conn().execute("SELECT password_hash FROM users").fetchone()[0]
    assert "s3cret" not in stored and stored.startswith("scrypt$")
    with pytest.raises(StoreError, match="already exists"):
        store.add_user("alice", password="another-passphrase")
    with pytest.raises(ValueError, match="role"):
        store.add_user("bob", role="owner")
    with pytest.raises(StoreError, match="unknown user"):
        store.next_assignment("mallory")


def test_reimport_is_idempotent_and_conflicts_change_nothing(make_store, make_items):
    store = make_store()
    items = make_items(3)
    assert store.add_items(items, overlap=3) == ["added"] * 3
    assert store.add_items(items, overlap=3) == ["unchanged"] * 3
    assert store.add_items(items[:1], overlap=5) == ["updated"]
    changed = items[1].model_copy(update={"response_a": "something else"})
    assert store.add_items([changed], overlap=3) == ["conflict"]
    with pytest.raises(ItemConflict) as error:
        store.add_items([*make_items(2, prefix="new"), changed], overlap=3, all_or_nothing=True)
    assert error.value.index == 2
    ids = [item.id for item, _, _ in store.items()]
    assert ids == [item.id for item in items]  # the new items were rolled back too
    assert next(i for i, _, _ in store.items() if i.id == changed.id) == items[1]


def test_concurrent_threads_lose_no_vote_and_never_double_fill(make_store):
    """Ten threads with their own connections race for 40 items x 3 slots."""
    store = make_store(items=40, overlap=3, users=10)

    def labeler(user: str) -> int:
        count = 0
        while (assignment := store.next_assignment(user)) is not None:
            store.submit(user, assignment.lease_id, "left", guideline_version="1")
            count += 1
        return count

    with ThreadPoolExecutor(max_workers=10) as pool:
        users = [f"user-{i:02d}" for i in range(10)]
        submitted = dict(zip(users, pool.map(labeler, users), strict=True))  # re-raises
    rows = store.judgment_rows()
    assert sum(submitted.values()) == len(rows) == 120
    assert len({(r["item_id"], r["user"]) for r in rows}) == 120
    assert all(done == 3 for _, _, done in store.items())
    assert store.live_leases() == 0
