"""The labeling database: SQLite in WAL mode, a connection per thread, short transactions.

Invariants the schema itself enforces:

* `UNIQUE(item_id, user)` on judgments: a labeler judges (or skips) an item once;
* `UNIQUE(user)` on leases: a labeler holds at most one item at a time;
* lease ids are `AUTOINCREMENT`, never reused, so a vote from a stale page can
  never land on a newer item.

Logins are sessions in the database (`sessions`, keyed by a hash of the cookie's token), so
a password reset, `label users disable` or `remove` from another process ends them at once.
The file is created readable by its owner only (0600): it holds password hashes.

Every write is one `BEGIN IMMEDIATE` transaction (the write lock is taken up front, so
concurrent writers queue on `busy_timeout` instead of failing on a lock upgrade).
An item is offered while `done + live leases < overlap`, so two labelers never hold
the same last slot; an expired lease is deleted and its slot returns to the pool.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

from labeling_app.passwords import (
    check_new_password,
    check_user_name,
    hash_password,
    verify_password,
)
from labeling_app.positions import panes, to_canonical
from schemas.labeling import CHOICES, NEEDS_RATIONALE, SHOWN, Item, Judgment, as_text

SCHEMA_VERSION = 3

_CHOICE_LIST = ", ".join(f"'{c}'" for c in CHOICES)
_SHOWN_LIST = ", ".join(f"'{c}'" for c in SHOWN)

# `_MIGRATIONS[v]` upgrades a database at schema version v to v + 1.
_MIGRATIONS = [f"""
CREATE TABLE items (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    prompt TEXT NOT NULL,
    response_a TEXT NOT NULL,
    response_b TEXT NOT NULL,
    source_a TEXT,
    source_b TEXT,
    gold TEXT CHECK (gold IN ('a', 'b', 'tie')),
    meta TEXT NOT NULL,
    len_a INTEGER NOT NULL,
    len_b INTEGER NOT NULL,
    overlap INTEGER NOT NULL CHECK (overlap >= 1),
    done INTEGER NOT NULL DEFAULT 0,
    imported_at REAL NOT NULL
);
CREATE INDEX items_open ON items(seq) WHERE done < overlap;
CREATE INDEX items_facts ON items(id, len_a, len_b, source_a, source_b, gold);
CREATE TABLE users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('annotator', 'admin')),
    password_hash TEXT,
    simulated INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE leases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id TEXT NOT NULL REFERENCES items(id),
    user TEXT NOT NULL UNIQUE REFERENCES users(name),
    left_side TEXT NOT NULL CHECK (left_side IN ('a', 'b')),
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX leases_item ON leases(item_id);
CREATE TABLE judgments (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id),
    user TEXT NOT NULL REFERENCES users(name),
    choice TEXT NOT NULL CHECK (choice IN ({_CHOICE_LIST})),
    shown TEXT NOT NULL CHECK (shown IN ({_SHOWN_LIST})),
    left_side TEXT NOT NULL CHECK (left_side IN ('a', 'b')),
    seconds REAL NOT NULL,
    guideline_version TEXT NOT NULL,
    rationale TEXT NOT NULL,
    simulated INTEGER NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (item_id, user)
);
CREATE INDEX judgments_user ON judgments(user);
""", """
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO counters VALUES ('items_total', (SELECT count(*) FROM items)),
    ('items_complete', (SELECT count(*) FROM items WHERE done >= overlap));
""", """
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL REFERENCES users(name),
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX sessions_user ON sessions(user);
"""]
assert len(_MIGRATIONS) == SCHEMA_VERSION
# Version 2: item counts kept in `counters` by the writes that change them, so the progress
# counter shown after every vote is O(1) (counting 100k items took ~5 ms a vote).
# Version 3: users can be disabled; login sessions live in the database.
_RECOUNT = ("UPDATE counters SET value = CASE name WHEN 'items_total' THEN "
            "(SELECT count(*) FROM items) ELSE (SELECT count(*) FROM items "
            "WHERE done >= overlap) END")

# Item facts (lengths, sources, gold) from their covering index: the planner would pick the id
# index and read each item's row, walking the overflow pages of its texts (2x slower at 5 kB).
_FACTS = "INDEXED BY items_facts"

ROLES = ("annotator", "admin")
MAX_RATIONALE = 4000
"""Characters a rationale may have (a paragraph or two; a 50 MB one was once saved)."""
_ITEM_FIELDS = ("prompt", "response_a", "response_b", "source_a", "source_b", "gold", "meta")


class StoreError(ValueError):
    """A database that cannot be used, or a request the store refuses."""


class ItemConflict(StoreError):
    """An item id already stored with other content (the `index`-th of the batch)."""

    def __init__(self, index: int, item_id: str) -> None:
        self.index = index
        super().__init__(f"item {item_id!r} is already in the database with other content")


class VoteRejected(StoreError):
    """A vote refused server-side (no live lease, too fast, missing rationale)."""


@dataclass(frozen=True)
class Assignment:
    """An item leased to one labeler, with the canonical side shown on the left."""

    lease_id: int
    item: Item
    left: str
    issued_at: float
    expires_at: float

    @property
    def panes(self) -> tuple[str, str]:
        """The item fields shown on the left and on the right."""
        return panes(self.left)

    @property
    def left_text(self) -> str:
        return as_text(getattr(self.item, panes(self.left)[0]))

    @property
    def right_text(self) -> str:
        return as_text(getattr(self.item, panes(self.left)[1]))


@dataclass(frozen=True)
class Progress:
    judged_by_user: int
    items_complete: int
    items_total: int


class Store:
    """All reads and writes of one labeling database. Safe to share between threads."""

    def __init__(self, path: str | Path, *, create: bool = False, lease_ttl: float = 600.0,
                 busy_timeout: float = 30.0, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None) -> None:
        self.path = Path(path)
        if not self.path.exists():
            if not create:
                raise FileNotFoundError(f"{self.path}: no such database (create it with "
                                        "`label import`)")
            _create_private(self.path)
        if lease_ttl <= 0:
            raise ValueError("lease_ttl: must be positive")
        self.lease_ttl, self.busy_timeout, self.clock = lease_ttl, busy_timeout, clock
        self._rng = rng or random.SystemRandom()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._migrate()

    # -- connections and transactions ------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL + NORMAL: a crash of the app loses nothing; a power cut can lose the last
            # commits. FULL would fsync every vote: 6x fewer votes/s on this machine.
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this store opened (in any thread)."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        try:
            conn = self._conn()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            foreign = version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: not a SQLite database ({exc})") from None
        if foreign or version > SCHEMA_VERSION:
            self.close()
            raise StoreError(f"{self.path}: not a prefkit labeling database" if foreign else
                             f"{self.path}: schema version {version} is newer than this prefkit "
                             f"supports ({SCHEMA_VERSION}); upgrade prefkit")
        conn.execute("PRAGMA journal_mode = WAL")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            conn.executescript(f"BEGIN IMMEDIATE;\n{_MIGRATIONS[target - 1]}\n"
                               f"PRAGMA user_version = {target};\nCOMMIT;")

    # -- items -----------------------------------------------------------------------

    def add_items(self, items: Iterable[Item], *, overlap: int,
                  all_or_nothing: bool = False) -> list[str]:
        """Insert items in one transaction; per item `added`, `unchanged`, `updated` or
        `conflict` (same id, other content: that item is left as it was). With
        `all_or_nothing`, a conflict raises `ItemConflict` and nothing is written."""
        if overlap < 1:
            raise ValueError("overlap: must be at least 1")
        now, statuses = self.clock(), []
        with self._write() as conn:
            for index, item in enumerate(items):
                row = _item_row(item)
                old = conn.execute(f"SELECT overlap, {', '.join(_ITEM_FIELDS)} FROM items "
                                   "WHERE id = ?", (item.id,)).fetchone()
                if old is None:
                    conn.execute("INSERT INTO items (id, prompt, response_a, response_b, source_a, "
                                 "source_b, gold, meta, len_a, len_b, overlap, imported_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                 (item.id, *row, _length(item.response_a),
                                  _length(item.response_b), overlap, now))
                    statuses.append("added")
                elif tuple(old[field] for field in _ITEM_FIELDS) != row:
                    if all_or_nothing:
                        raise ItemConflict(index, item.id)
                    statuses.append("conflict")
                elif old["overlap"] != overlap:
                    conn.execute("UPDATE items SET overlap = ? WHERE id = ?", (overlap, item.id))
                    statuses.append("updated")
                else:
                    statuses.append("unchanged")
            conn.execute(_RECOUNT)
        return statuses

    def items(self) -> Iterator[tuple[Item, int, int]]:
        """Every item in import order, with its overlap and its number of judgments."""
        rows = self._conn().execute("SELECT * FROM items ORDER BY seq").fetchall()
        for row in rows:
            yield _item(row), row["overlap"], row["done"]

    # -- users -----------------------------------------------------------------------

    def add_user(self, name: str, *, role: str = "annotator", password: str | None = None,
                 simulated: bool = False, replace: bool = False) -> None:
        """Create a user (or, with `replace`, reset its role and password, enable it again and
        end its sessions). A password must pass `check_new_password`."""
        name = check_user_name(name.strip())
        if role not in ROLES:
            raise ValueError(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
        if password is not None:
            check_new_password(password, name)
        hashed = hash_password(password) if password is not None else None
        with self._write() as conn:
            exists = conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
            if exists and not replace:
                raise StoreError(f"user {name!r} already exists (reset it with --replace)")
            if exists:
                conn.execute("UPDATE users SET role = ?, password_hash = ?, disabled = 0 "
                             "WHERE name = ?", (role, hashed, name))
                conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
            else:
                conn.execute("INSERT INTO users (name, role, password_hash, simulated, "
                             "created_at) VALUES (?, ?, ?, ?, ?)",
                             (name, role, hashed, int(simulated), self.clock()))

    def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable a user (no login, every session ended, judgments kept) or enable it."""
        with self._write() as conn:
            if conn.execute("UPDATE users SET disabled = ? WHERE name = ?",
                            (int(disabled), name)).rowcount == 0:
                raise StoreError(f"no user {name!r}")
            conn.execute("DELETE FROM sessions WHERE user = ?", (name,))
            if disabled:
                conn.execute("DELETE FROM leases WHERE user = ?", (name,))

    def remove_user(self, name: str, *,
                    save: Callable[[list[dict[str, Any]]], None] | None = None) -> int:
        """Delete a user; returns how many judgments went with it. One with judgments is
        refused unless `save` is given: it gets them first (inside the transaction, so a
        failure to save deletes nothing), then they are deleted and their items reopen."""
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone() is None:
                raise StoreError(f"no user {name!r}")
            rows = [dict(row) for row in conn.execute(
                "SELECT * FROM judgments WHERE user = ? ORDER BY id", (name,)).fetchall()]
            if rows and save is None:
                raise StoreError(f"user {name!r} has {len(rows)} judgments: disable the user "
                                 "instead (keeps them), or pass --delete-judgments")
            if rows:
                save(rows)
            for row in rows:
                if row["choice"] != "skip":
                    conn.execute("UPDATE items SET done = done - 1 WHERE id = ?",
                                 (row["item_id"],))
            conn.execute("DELETE FROM judgments WHERE user = ?", (name,))
            for table in ("sessions", "leases"):
                conn.execute(f"DELETE FROM {table} WHERE user = ?", (name,))
            conn.execute("DELETE FROM users WHERE name = ?", (name,))
            conn.execute(_RECOUNT)
        return len(rows)

    def check_password(self, name: str, password: str) -> bool:
        """True for the right password of an enabled user. One scrypt hash in every case
        (see `verify_password`), so the answer's timing does not tell whether `name` exists."""
        row = self._conn().execute("SELECT password_hash FROM users WHERE name = ? "
                                   "AND disabled = 0", (name,)).fetchone()
        return verify_password(password, row["password_hash"] if row else None)

    def role(self, name: str | None) -> str | None:
        """The user's role, or None for an unknown or disabled user."""
        row = self._conn().execute("SELECT role FROM users WHERE name = ? AND disabled = 0",
                                   (name,)).fetchone()
        return row["role"] if row else None

    def users(self) -> list[dict[str, Any]]:
        """Every user with its role, flags, number of judgments and live sessions."""
        rows = self._conn().execute(
            "SELECT u.name, u.role, u.simulated, u.disabled, "
            "u.password_hash IS NOT NULL AND NOT u.disabled AS can_log_in, "
            "(SELECT count(*) FROM judgments j WHERE j.user = u.name AND j.choice != 'skip') "
            "AS judgments, (SELECT count(*) FROM sessions s WHERE s.user = u.name "
            "AND s.expires_at > ?) AS sessions FROM users u ORDER BY u.name",
            (self.clock(),)).fetchall()
        return [dict(row) | {key: bool(row[key]) for key in ("simulated", "disabled",
                                                              "can_log_in")} for row in rows]

    # -- sessions --------------------------------------------------------------------

    def create_session(self, name: str, *, lifetime: float) -> str:
        """A new login session of `name` for `lifetime` seconds; returns its secret token
        (only its hash is stored). Expired sessions are cleared on the way."""
        token, now = secrets.token_urlsafe(32), self.clock()
        with self._write() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            conn.execute("INSERT INTO sessions VALUES (?, ?, ?, ?)",
                         (_token_hash(token), name, now, now + lifetime))
        return token

    def session_user(self, token: str | None) -> str | None:
        """The enabled user of a live session, or None."""
        if not token:
            return None
        row = self._conn().execute(
            "SELECT s.user FROM sessions s JOIN users u ON u.name = s.user "
            "WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0",
            (_token_hash(token), self.clock())).fetchone()
        return row["user"] if row else None

    def end_session(self, token: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))

    # -- assignment and votes --------------------------------------------------------

    def next_assignment(self, user: str) -> Assignment | None:
        """The user's live lease, or a new one on the next open item; None when none is left."""
        now = self.clock()
        with self._write() as conn:
            if self.role(user) is None:
                raise StoreError(f"unknown user {user!r}")
            conn.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))
            lease = conn.execute("SELECT * FROM leases WHERE user = ?", (user,)).fetchone()
            if lease is None:
                open_item = conn.execute(
                    "SELECT id FROM items i WHERE i.done < i.overlap "
                    "AND i.done + (SELECT count(*) FROM leases l WHERE l.item_id = i.id) "
                    "< i.overlap AND NOT EXISTS (SELECT 1 FROM judgments j "
                    "WHERE j.item_id = i.id AND j.user = ?) ORDER BY i.seq LIMIT 1",
                    (user,)).fetchone()
                if open_item is None:
                    return None
                left = self._rng.choice("ab")
                cursor = conn.execute("INSERT INTO leases (item_id, user, left_side, issued_at, "
                                      "expires_at) VALUES (?, ?, ?, ?, ?)",
                                      (open_item["id"], user, left, now, now + self.lease_ttl))
                lease = conn.execute("SELECT * FROM leases WHERE id = ?",
                                     (cursor.lastrowid,)).fetchone()
            item = conn.execute("SELECT * FROM items WHERE id = ?", (lease["item_id"],)).fetchone()
        return Assignment(lease["id"], _item(item), lease["left_side"], lease["issued_at"],
                          lease["expires_at"])

    def submit(self, user: str, lease_id: int | None, shown: str, *, rationale: str = "",
               guideline_version: str, min_seconds: float = 0.0) -> Judgment:
        """Record a click on `shown` for the user's live lease `lease_id`.

        Refused (`VoteRejected`, nothing written) without a live lease of this user,
        under `min_seconds` since the item was served (skips too: skipping through items
        is no faster than voting), without a rationale for a skip or both-bad, or with a
        rationale over `MAX_RATIONALE` characters. The shown choice is converted to
        canonical A/B here.
        """
        if shown not in SHOWN:
            raise VoteRejected(f"unknown choice {shown!r}; expected one of {', '.join(SHOWN)}")
        rationale = rationale.strip()
        if len(rationale) > MAX_RATIONALE:
            raise VoteRejected(f"the rationale has {len(rationale):,} characters; at most "
                               f"{MAX_RATIONALE:,}")
        if shown in NEEDS_RATIONALE and not rationale:
            label = "Skip" if shown == "skip" else "Both bad"
            raise VoteRejected(f"{label} needs a rationale: say why in the rationale box")
        now = self.clock()
        with self._write() as conn:
            lease = conn.execute("SELECT * FROM leases WHERE id = ? AND user = ? "
                                 "AND expires_at > ?", (lease_id, user, now)).fetchone()
            if lease is None:
                raise VoteRejected("no live lease for this item (it expired or was already "
                                   "judged); the next item is loaded")
            seconds = now - lease["issued_at"]
            if seconds < min_seconds:
                raise VoteRejected(f"too fast: read both responses first (at least "
                                   f"{min_seconds:g} s; this took {seconds:.1f} s)")
            simulated = conn.execute("SELECT simulated FROM users WHERE name = ?",
                                     (user,)).fetchone()["simulated"]
            judgment = Judgment(item_id=lease["item_id"], user=user,
                                choice=to_canonical(shown, lease["left_side"]), shown=shown,
                                left=lease["left_side"], seconds=seconds,
                                guideline_version=guideline_version, rationale=rationale,
                                simulated=bool(simulated), created_at=now)
            conn.execute("INSERT INTO judgments (item_id, user, choice, shown, left_side, seconds, "
                         "guideline_version, rationale, simulated, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (judgment.item_id, user, judgment.choice, shown, judgment.left, seconds,
                          guideline_version, rationale, simulated, now))
            if shown != "skip":
                done, overlap = conn.execute("UPDATE items SET done = done + 1 WHERE id = ? "
                                             "RETURNING done, overlap",
                                             (judgment.item_id,)).fetchone()
                if done == overlap:
                    conn.execute("UPDATE counters SET value = value + 1 "
                                 "WHERE name = 'items_complete'")
            conn.execute("DELETE FROM leases WHERE id = ?", (lease_id,))
        return judgment

    def item_counts(self) -> tuple[int, int]:
        """Complete items (`overlap` judgments) and all items."""
        counts = dict(self._conn().execute("SELECT name, value FROM counters").fetchall())
        return counts["items_complete"], counts["items_total"]

    def slot_counts(self) -> tuple[int, int]:
        """Judgments counted toward overlap, and judgments needed (the sum of overlaps)."""
        filled, needed = self._conn().execute(
            "SELECT coalesce(sum(min(done, overlap)), 0), coalesce(sum(overlap), 0) "
            "FROM items").fetchone()
        return filled, needed

    def progress(self, user: str) -> Progress:
        judged = self._conn().execute("SELECT count(*) FROM judgments WHERE user = ? AND "
                                      "choice != 'skip'", (user,)).fetchone()[0]
        return Progress(judged, *self.item_counts())

    def live_leases(self) -> int:
        return self._conn().execute("SELECT count(*) FROM leases WHERE expires_at > ?",
                                    (self.clock(),)).fetchone()[0]

    # -- operations ------------------------------------------------------------------

    def backup(self, target: str | Path) -> int:
        """A consistent copy of the live database at `target` (0600), through SQLite's online
        backup API: unlike copying the file, it includes what is still in the -wal file
        and never catches a write half done. Writers go on meanwhile (WAL readers do not
        block them). Checked with `PRAGMA quick_check`; returns the number of pages."""
        from curate.io import atomic_path

        with atomic_path(target) as temp:
            temp.chmod(0o600)
            copy = sqlite3.connect(temp)
            try:
                self._conn().backup(copy)  # one step: one snapshot, even under writes
                check = copy.execute("PRAGMA quick_check").fetchone()[0]
                pages = copy.execute("PRAGMA page_count").fetchone()[0]
                copy.execute("PRAGMA journal_mode = DELETE")  # a single self-contained file
            finally:
                copy.close()
            if check != "ok":
                raise StoreError(f"{target}: the copy failed its integrity check ({check})")
        return pages

    # -- reading judgments -----------------------------------------------------------

    VOTE_COLUMNS = ("item_id", "user", "choice", "left", "seconds", "simulated")
    FACT_COLUMNS = ("item_id", "len_a", "len_b", "source_a", "source_b", "gold")

    def vote_rows(self) -> list[tuple]:
        """The judgments as tuples of `VOTE_COLUMNS` (what metrics need), in vote order:
        lean enough for the dashboard to read 100k of them quickly."""
        cursor = self._conn().cursor()
        cursor.row_factory = None
        return cursor.execute("SELECT item_id, user, choice, left_side, seconds, simulated != 0 "
                              "FROM judgments ORDER BY id").fetchall()

    def item_facts(self) -> list[tuple]:
        """Each item's `FACT_COLUMNS`, read from the covering index (never the texts)."""
        cursor = self._conn().cursor()
        cursor.row_factory = None
        return cursor.execute("SELECT id, len_a, len_b, source_a, source_b, gold "
                              f"FROM items {_FACTS}").fetchall()

    def judgment_rows(self) -> list[dict[str, Any]]:
        """Every judgment (skips included) with the item facts metrics need, in vote order."""
        cursor = self._conn().cursor()
        cursor.row_factory = None  # plain tuples: 100k rows in a fraction of a second
        rows = cursor.execute(
            "SELECT j.item_id, j.user, j.choice, j.shown, j.left_side, j.seconds, "
            "j.guideline_version, j.rationale, j.simulated, j.created_at, i.len_a, i.len_b, "
            f"i.source_a, i.source_b, i.gold FROM judgments j JOIN items i {_FACTS} "
            "ON i.id = j.item_id ORDER BY j.id").fetchall()
        return [{"item_id": item_id, "user": user, "choice": choice, "shown": shown, "left": left,
                 "seconds": seconds, "guideline_version": version, "rationale": rationale,
                 "simulated": simulated == 1, "created_at": created, "len_a": len_a,
                 "len_b": len_b, "source_a": source_a, "source_b": source_b, "gold": gold}
                for (item_id, user, choice, shown, left, seconds, version, rationale, simulated,
                     created, len_a, len_b, source_a, source_b, gold) in rows]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _create_private(path: Path) -> None:
    """An empty file only its owner can read and write; SQLite gives its -wal and -shm files
    the same mode."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _item_row(item: Item) -> tuple[Any, ...]:
    def encode(value: Any) -> str:
        plain = value if isinstance(value, str) else [m.model_dump() for m in value]
        return json.dumps(plain, ensure_ascii=False)

    return (encode(item.prompt), encode(item.response_a), encode(item.response_b), item.source_a,
            item.source_b, item.gold, json.dumps(item.meta, ensure_ascii=False, sort_keys=True))


def _item(row: sqlite3.Row) -> Item:
    return Item(id=row["id"], prompt=json.loads(row["prompt"]),
                response_a=json.loads(row["response_a"]), response_b=json.loads(row["response_b"]),
                source_a=row["source_a"], source_b=row["source_b"], gold=row["gold"],
                meta=json.loads(row["meta"]))


def _length(value: Any) -> int:
    return len(as_text(value))
