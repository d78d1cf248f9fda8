"""The labeling database: SQLite in WAL mode, a connection per thread, short transactions.

Invariants the schema itself enforces:

* `UNIQUE(item_id, user)` on judgments: a labeler judges (or skips) an item once;
* `UNIQUE(user)` on leases: a labeler holds at most one item at a time;
* lease ids are `AUTOINCREMENT`, never reused, so a vote from a stale page can
  never land on a newer item.

A database is one project (`labeling_app.project`): pairwise A/B items, or K-way items
ranked or rated per criterion, set at the first import. K-way items keep their responses,
sources and lengths as JSON lists (their `response_a/b` columns hold JSON null); their
leases keep the order the responses are shown in, and their judgments the value (ranks or
ratings, in item order) beside that order. AI judges are users of kind `ai`: their
judgments never fill a labeler's overlap slot. An admin's adjudication sets an item's gold
answer and is kept, with who decided, in `adjudications`.

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
from typing import TYPE_CHECKING, Any, Self

from labeling_app import kway
from labeling_app.passwords import (
    check_new_password,
    check_user_name,
    hash_password,
    verify_password,
)
from labeling_app.positions import panes, to_canonical
from labeling_app.project import Project
from schemas.labeling import (
    CHOICES,
    NEEDS_RATIONALE,
    SHOWN,
    TASKS,
    Item,
    Judgment,
    MultiItem,
    as_text,
)

if TYPE_CHECKING:
    import pyarrow as pa

SCHEMA_VERSION = 5
MULTI_CHOICES = ("ranked", "rated")
"""The `choice` of a K-way judgment (its value is in `value`); a skip is `skip`."""
KINDS = ("human", "ai")

_V1_CHOICE_LIST = ", ".join(f"'{c}'" for c in CHOICES)
_CHOICE_LIST = ", ".join(f"'{c}'" for c in (*CHOICES, *MULTI_CHOICES))
_TASK_LIST = ", ".join(f"'{t}'" for t in TASKS)
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
    choice TEXT NOT NULL CHECK (choice IN ({_V1_CHOICE_LIST})),
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
""", f"""
ALTER TABLE items ADD COLUMN task TEXT NOT NULL DEFAULT 'pairwise' CHECK (task IN ({_TASK_LIST}));
ALTER TABLE items ADD COLUMN responses TEXT;
ALTER TABLE items ADD COLUMN sources TEXT;
ALTER TABLE items ADD COLUMN lengths TEXT;
ALTER TABLE items ADD COLUMN gold_ranking TEXT;
ALTER TABLE leases ADD COLUMN shown_order TEXT;
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'human' CHECK (kind IN ('human', 'ai'));
CREATE TABLE judgments_v4 (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id),
    user TEXT NOT NULL REFERENCES users(name),
    choice TEXT NOT NULL CHECK (choice IN ({_CHOICE_LIST})),
    shown TEXT CHECK (shown IN ({_SHOWN_LIST})),
    left_side TEXT CHECK (left_side IN ('a', 'b')),
    seconds REAL NOT NULL,
    guideline_version TEXT NOT NULL,
    rationale TEXT NOT NULL,
    simulated INTEGER NOT NULL,
    created_at REAL NOT NULL,
    value TEXT,
    shown_order TEXT,
    detail TEXT,
    UNIQUE (item_id, user)
);
INSERT INTO judgments_v4 (id, item_id, user, choice, shown, left_side, seconds,
    guideline_version, rationale, simulated, created_at)
    SELECT id, item_id, user, choice, shown, left_side, seconds, guideline_version, rationale,
    simulated, created_at FROM judgments;
DROP TABLE judgments;
ALTER TABLE judgments_v4 RENAME TO judgments;
CREATE INDEX judgments_user ON judgments(user);
CREATE TABLE project (id INTEGER PRIMARY KEY CHECK (id = 1), settings TEXT NOT NULL);
INSERT INTO project SELECT 1, '{{"task": "pairwise"}}' WHERE EXISTS (SELECT 1 FROM items);
CREATE TABLE adjudications (
    id INTEGER PRIMARY KEY,
    item_id TEXT NOT NULL REFERENCES items(id),
    admin TEXT NOT NULL,
    decision TEXT NOT NULL,
    previous TEXT,
    note TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX adjudications_item ON adjudications(item_id);
""", """
ALTER TABLE judgments ADD COLUMN numbers BLOB;
"""]
assert len(_MIGRATIONS) == SCHEMA_VERSION
# Version 2: item counts kept in `counters` by the writes that change them, so the progress
# counter shown after every vote is O(1) (counting 100k items took ~5 ms a vote).
# Version 3: users can be disabled; login sessions live in the database.
# Version 4: projects (pairwise, ranking, ratings), K-way items, AI judges (users of kind
# `ai`), adjudications. The judgments table is rebuilt (nothing refers to it) so that a K-way
# judgment has no shown side; items, leases and users gain columns.
# Version 5: a K-way judgment's value also as numbers (`kway.value_numbers`), filled in for
# the judgments already there, so the dashboard does not decode JSON.
_RECOUNT = ("UPDATE counters SET value = CASE name WHEN 'items_total' THEN "
            "(SELECT count(*) FROM items) ELSE (SELECT count(*) FROM items "
            "WHERE done >= overlap) END")

# Item facts (lengths, sources, gold) from their covering index: the planner would pick the id
# index and read each item's row, walking the overflow pages of its texts (2x slower at 5 kB).
_FACTS = "INDEXED BY items_facts"

ROLES = ("annotator", "admin")
MAX_RATIONALE = 4000
"""Characters a rationale may have (a paragraph or two; a 50 MB one was once saved)."""
_ITEM_FIELDS = ("prompt", "response_a", "response_b", "source_a", "source_b", "gold", "meta",
                "responses", "sources", "gold_ranking")


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
    """An item leased to one labeler: for an A/B item, the canonical side shown on the left;
    for a K-way item, the order its responses are shown in (`order[p]` = response index)."""

    lease_id: int
    item: Item | MultiItem
    left: str
    issued_at: float
    expires_at: float
    order: tuple[int, ...] | None = None

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

    @property
    def shown_responses(self) -> list[Any]:
        """A K-way item's responses in screen order."""
        return kway.to_screen_order(self.item.responses, self.order or ())


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
            conn.executescript(f"BEGIN IMMEDIATE;\n{_MIGRATIONS[target - 1]}")
            try:  # the script leaves its transaction open for a backfill in Python
                if target in _BACKFILLS:
                    _BACKFILLS[target](conn)
                conn.execute(f"PRAGMA user_version = {target}")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- the project -------------------------------------------------------------------

    def project(self) -> Project | None:
        """The database's project, or None before the first import."""
        return _project(self._conn())

    def set_project(self, project: Project) -> None:
        """Set the project at the first import. Afterwards the task is fixed; a ratings
        project's criteria and flags may change only while nobody has judged yet."""
        with self._write() as conn:
            self._set_project(conn, project)

    def _set_project(self, conn: sqlite3.Connection, project: Project) -> None:
        current = _project(conn)
        if current == project:
            return
        if current is not None:
            if current.task != project.task:
                raise StoreError(f"{self.path} is a {current.task} project; its task cannot "
                                 f"become {project.task} (use a new database)")
            if conn.execute("SELECT 1 FROM judgments LIMIT 1").fetchone():
                raise StoreError(f"{self.path}: the criteria differ from the project's, and "
                                 "items are already judged; use the same criteria file")
        conn.execute("INSERT OR REPLACE INTO project VALUES (1, ?)", (project.model_dump_json(),))

    @property
    def task(self) -> str:
        """The project's task ("pairwise" for a database without items yet)."""
        project = self.project()
        return project.task if project else "pairwise"

    # -- items -----------------------------------------------------------------------

    def add_items(self, items: Iterable[Item | MultiItem], *, overlap: int,
                  all_or_nothing: bool = False, project: Project | None = None) -> list[str]:
        """Insert items in one transaction; per item `added`, `unchanged`, `updated` or
        `conflict` (same id, other content: that item is left as it was). With
        `all_or_nothing`, a conflict raises `ItemConflict` and nothing is written. `project`
        is set in the same transaction (see `set_project`); without one, the first items set
        it (pairwise for `Item`s, ranking for `MultiItem`s). Items of the other kind are
        refused."""
        if overlap < 1:
            raise ValueError("overlap: must be at least 1")
        now, statuses = self.clock(), []
        with self._write() as conn:
            if project is not None:
                self._set_project(conn, project)
            project = _project(conn)
            for index, item in enumerate(items):
                multi = isinstance(item, MultiItem)
                if project is None:
                    project = Project(task="ranking" if multi else "pairwise")
                    conn.execute("INSERT INTO project VALUES (1, ?)", (project.model_dump_json(),))
                if multi != project.multi:
                    raise StoreError(f"item {item.id!r}: {'a K-way' if multi else 'an A/B'} item "
                                     f"in a {project.task} project")
                row = _item_row(item)
                old = conn.execute(f"SELECT overlap, {', '.join(_ITEM_FIELDS)} FROM items "
                                   "WHERE id = ?", (item.id,)).fetchone()
                if old is None:
                    conn.execute(f"INSERT INTO items ({', '.join(_ITEM_FIELDS)}, id, task, len_a, "
                                 "len_b, lengths, overlap, imported_at) VALUES "
                                 f"({', '.join('?' * (len(_ITEM_FIELDS) + 7))})",
                                 (*row, item.id, project.task, *_lengths(item), overlap, now))
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

    def items(self) -> Iterator[tuple[Item | MultiItem, int, int]]:
        """Every item in import order, with its overlap and its number of judgments."""
        rows = self._conn().execute("SELECT * FROM items ORDER BY seq").fetchall()
        for row in rows:
            yield _item(row), row["overlap"], row["done"]

    def max_responses(self) -> int:
        """The most responses a K-way item has (2 without K-way items)."""
        value = self._conn().execute("SELECT max(json_array_length(responses)) FROM items "
                                     "WHERE task != 'pairwise'").fetchone()[0]
        return max(value or 2, 2)

    def item(self, item_id: str) -> Item | MultiItem | None:
        row = self._conn().execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
        return _item(row) if row else None

    # -- users -----------------------------------------------------------------------

    def add_user(self, name: str, *, role: str = "annotator", password: str | None = None,
                 simulated: bool = False, replace: bool = False, kind: str = "human") -> None:
        """Create a user (or, with `replace`, reset its role and password, enable it again and
        end its sessions). A password must pass `check_new_password`. An AI judge is a user
        of kind `ai`: an annotator without a password."""
        name = check_user_name(name.strip())
        if role not in ROLES:
            raise ValueError(f"role: must be one of {', '.join(ROLES)}, not {role!r}")
        if kind not in KINDS or (kind == "ai" and (role != "annotator" or password)):
            raise ValueError(f"kind: {kind!r}: human, or ai (an annotator without a password)")
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
                             "created_at, kind) VALUES (?, ?, ?, ?, ?, ?)",
                             (name, role, hashed, int(simulated), self.clock(), kind))

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
            human = conn.execute("SELECT kind FROM users WHERE name = ?",
                                 (name,)).fetchone()["kind"] == "human"
            for row in rows:
                if row["choice"] != "skip" and human:  # AI judgments fill no slot
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

    def user_kinds(self) -> dict[str, str]:
        """Every user's kind (`human` or `ai`)."""
        return dict(self._conn().execute("SELECT name, kind FROM users").fetchall())

    def users(self) -> list[dict[str, Any]]:
        """Every user with its role, flags, number of judgments and live sessions."""
        rows = self._conn().execute(
            "SELECT u.name, u.role, u.kind, u.simulated, u.disabled, "
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
        """The user's live lease, or a new one on the next open item; None when none is left.
        A new lease draws the side shown on the left (A/B items) or the order the responses
        are shown in (K-way items)."""
        now = self.clock()
        with self._write() as conn:
            if self.role(user) is None:
                raise StoreError(f"unknown user {user!r}")
            conn.execute("DELETE FROM leases WHERE expires_at <= ?", (now,))
            lease = conn.execute("SELECT * FROM leases WHERE user = ?", (user,)).fetchone()
            if lease is None:
                open_item = conn.execute(
                    "SELECT id, task, json_array_length(responses) AS k FROM items i "
                    "WHERE i.done < i.overlap "
                    "AND i.done + (SELECT count(*) FROM leases l WHERE l.item_id = i.id) "
                    "< i.overlap AND NOT EXISTS (SELECT 1 FROM judgments j "
                    "WHERE j.item_id = i.id AND j.user = ?) ORDER BY i.seq LIMIT 1",
                    (user,)).fetchone()
                if open_item is None:
                    return None
                order = None
                if open_item["task"] == "pairwise":
                    left = self._rng.choice("ab")
                else:  # left_side is unused for K-way items
                    left, shuffled = "a", list(range(open_item["k"]))
                    self._rng.shuffle(shuffled)
                    order = json.dumps(shuffled)
                cursor = conn.execute("INSERT INTO leases (item_id, user, left_side, issued_at, "
                                      "expires_at, shown_order) VALUES (?, ?, ?, ?, ?, ?)",
                                      (open_item["id"], user, left, now, now + self.lease_ttl,
                                       order))
                lease = conn.execute("SELECT * FROM leases WHERE id = ?",
                                     (cursor.lastrowid,)).fetchone()
            item = conn.execute("SELECT * FROM items WHERE id = ?", (lease["item_id"],)).fetchone()
        order = tuple(json.loads(lease["shown_order"])) if lease["shown_order"] else None
        return Assignment(lease["id"], _item(item), lease["left_side"], lease["issued_at"],
                          lease["expires_at"], order)

    def submit(self, user: str, lease_id: int | None, shown: str, *, rationale: str = "",
               guideline_version: str, min_seconds: float = 0.0) -> Judgment:
        """Record a click on `shown` for the user's live lease `lease_id` (an A/B item).

        Refused (`VoteRejected`, nothing written) without a live lease of this user,
        under `min_seconds` since the item was served (skips too: skipping through items
        is no faster than voting), without a rationale for a skip or both-bad, or with a
        rationale over `MAX_RATIONALE` characters. The shown choice is converted to
        canonical A/B here.
        """
        if shown not in SHOWN:
            raise VoteRejected(f"unknown choice {shown!r}; expected one of {', '.join(SHOWN)}")
        rationale = _check_rationale(rationale, shown in NEEDS_RATIONALE,
                                     "Skip" if shown == "skip" else "Both bad")
        with self._write() as conn:
            lease, seconds, simulated = self._vote_lease(conn, user, lease_id, min_seconds)
            if lease["shown_order"] is not None:
                raise VoteRejected("this item is ranked or rated, not judged A/B")
            judgment = Judgment(item_id=lease["item_id"], user=user,
                                choice=to_canonical(shown, lease["left_side"]), shown=shown,
                                left=lease["left_side"], seconds=seconds,
                                guideline_version=guideline_version, rationale=rationale,
                                simulated=simulated, created_at=self.clock())
            self._record(conn, lease, judgment.choice, shown=shown, left=judgment.left,
                         seconds=seconds, guideline_version=guideline_version,
                         rationale=rationale, simulated=simulated)
        return judgment

    def submit_multi(self, user: str, lease_id: int | None, value: Any, *, skip: bool = False,
                     rationale: str = "", guideline_version: str,
                     min_seconds: float = 0.0) -> dict[str, Any]:
        """Record a ranking or ratings of a K-way item, given in screen order (`value`: ranks
        by screen position, or `{"scores": {criterion: [...]}, "flags": [[...]...]}`), or a
        skip. The same refusals as `submit`; a value that does not fit the item or the
        project is refused too. Stored in item order, with the order shown; returns the
        stored row."""
        rationale = _check_rationale(rationale, skip, "Skip")
        with self._write() as conn:
            lease, seconds, simulated = self._vote_lease(conn, user, lease_id, min_seconds)
            if lease["shown_order"] is None:
                raise VoteRejected("this item is judged A/B, not ranked or rated")
            order = json.loads(lease["shown_order"])
            project = _project(conn)
            stored = None
            try:
                if skip:
                    choice = "skip"
                elif project.task == "ranking":
                    choice = "ranked"
                    stored = kway.to_item_order(kway.check_ranking(value, len(order)), order)
                else:
                    choice = "rated"
                    checked = kway.check_ratings(value.get("scores") or {},
                                                 value.get("flags") or [[]] * len(order),
                                                 project, len(order))
                    stored = kway.ratings_to_item_order(checked, order)
            except (kway.BadSubmission, AttributeError, TypeError) as exc:
                raise VoteRejected(str(exc) if isinstance(exc, kway.BadSubmission) else
                                   "a ranking is a list of ranks; ratings are scores and flags"
                                   ) from None
            return self._record(conn, lease, choice, value=stored, order=order, seconds=seconds,
                                guideline_version=guideline_version, rationale=rationale,
                                simulated=simulated, project=project)

    def _vote_lease(self, conn: sqlite3.Connection, user: str, lease_id: int | None,
                    min_seconds: float) -> tuple[sqlite3.Row, float, bool]:
        """The user's live lease `lease_id`, the seconds since it was issued and whether the
        user is simulated; `VoteRejected` without one or when too fast."""
        now = self.clock()
        lease = conn.execute("SELECT * FROM leases WHERE id = ? AND user = ? "
                             "AND expires_at > ?", (lease_id, user, now)).fetchone()
        if lease is None:
            raise VoteRejected("no live lease for this item (it expired or was already "
                               "judged); the next item is loaded")
        seconds = now - lease["issued_at"]
        if seconds < min_seconds:
            raise VoteRejected(f"too fast: read the responses first (at least "
                               f"{min_seconds:g} s; this took {seconds:.1f} s)")
        simulated = conn.execute("SELECT simulated FROM users WHERE name = ?",
                                 (user,)).fetchone()["simulated"]
        return lease, seconds, bool(simulated)

    def _record(self, conn: sqlite3.Connection, lease: sqlite3.Row, choice: str, *,
                seconds: float, guideline_version: str, rationale: str, simulated: bool,
                shown: str | None = None, left: str | None = None, value: Any = None,
                order: list[int] | None = None,
                project: Project | None = None) -> dict[str, Any]:
        """Insert a labeler's judgment, count it toward the item's overlap (unless a skip) and
        end the lease."""
        row = {"item_id": lease["item_id"], "user": lease["user"], "choice": choice,
               "shown": shown, "left_side": left, "seconds": seconds,
               "guideline_version": guideline_version, "rationale": rationale,
               "simulated": int(simulated), "created_at": self.clock(),
               "value": None if value is None else json.dumps(value),
               "shown_order": None if order is None else json.dumps(order)}
        numbers = None if value is None else kway.value_numbers(value, project)
        conn.execute(f"INSERT INTO judgments ({', '.join(row)}, numbers) "
                     f"VALUES ({', '.join('?' * len(row))}, ?)", (*row.values(), numbers))
        if choice != "skip":
            done, overlap = conn.execute("UPDATE items SET done = done + 1 WHERE id = ? "
                                         "RETURNING done, overlap", (row["item_id"],)).fetchone()
            if done == overlap:
                conn.execute("UPDATE counters SET value = value + 1 "
                             "WHERE name = 'items_complete'")
        conn.execute("DELETE FROM leases WHERE id = ?", (lease["id"],))
        return row

    def add_ai_judgment(self, user: str, item_id: str, *, choice: str, value: Any = None,
                        detail: dict[str, Any], guideline_version: str,
                        seconds: float = 0.0) -> None:
        """Store an AI judge's verdict on an item (no lease, no overlap slot). A/B items take
        a canonical `choice` (a, b or tie); K-way items a `value` in item order."""
        with self._write() as conn:
            kind = conn.execute("SELECT kind FROM users WHERE name = ?", (user,)).fetchone()
            if kind is None or kind["kind"] != "ai":
                raise StoreError(f"{user!r} is not an AI judge (a user of kind ai)")
            numbers = None if value is None else kway.value_numbers(value, _project(conn))
            conn.execute("INSERT INTO judgments (item_id, user, choice, seconds, "
                         "guideline_version, rationale, simulated, created_at, value, detail, "
                         "numbers) VALUES (?, ?, ?, ?, ?, '', 0, ?, ?, ?, ?)",
                         (item_id, user, choice, seconds, guideline_version, self.clock(),
                          None if value is None else json.dumps(value),
                          json.dumps(detail, ensure_ascii=False), numbers))

    def judged_by(self, user: str) -> set[str]:
        """Ids of the items `user` has judged (or skipped)."""
        return {row[0] for row in self._conn().execute(
            "SELECT item_id FROM judgments WHERE user = ?", (user,)).fetchall()}

    # -- adjudication ----------------------------------------------------------------

    def adjudicate(self, item_id: str, admin: str, decision: Any, *, note: str = "") -> None:
        """An admin's decision on an item becomes its gold answer (A/B: `a`, `b` or `tie`;
        K-way: a ranking, ranks in item order). The votes stay as they are; the decision,
        the gold it replaced, who decided and when are kept in `adjudications`."""
        note = _check_rationale(note, False, "")
        with self._write() as conn:
            if self.role(admin) != "admin":
                raise StoreError(f"{admin!r} is not an admin")
            row = conn.execute("SELECT task, gold, gold_ranking, json_array_length(responses) "
                               "AS k FROM items WHERE id = ?", (item_id,)).fetchone()
            if row is None:
                raise StoreError(f"no item {item_id!r}")
            if row["task"] == "pairwise":
                if decision not in ("a", "b", "tie"):
                    raise StoreError("an A/B decision is a, b or tie")
                previous = row["gold"]
                conn.execute("UPDATE items SET gold = ? WHERE id = ?", (decision, item_id))
            else:
                try:
                    decision = kway.check_ranking(decision, row["k"])
                except kway.BadSubmission as exc:
                    raise StoreError(str(exc)) from None
                previous = json.loads(row["gold_ranking"]) if row["gold_ranking"] else None
                conn.execute("UPDATE items SET gold_ranking = ? WHERE id = ?",
                             (json.dumps(decision), item_id))
            conn.execute("INSERT INTO adjudications (item_id, admin, decision, previous, note, "
                         "created_at) VALUES (?, ?, ?, ?, ?, ?)",
                         (item_id, admin, json.dumps(decision),
                          None if previous is None else json.dumps(previous), note,
                          self.clock()))

    def adjudications(self, item_id: str | None = None) -> list[dict[str, Any]]:
        """The audit trail: every decision (of one item, or all), oldest first."""
        where, args = ("WHERE item_id = ?", (item_id,)) if item_id else ("", ())
        rows = self._conn().execute(f"SELECT * FROM adjudications {where} ORDER BY id",
                                    args).fetchall()
        return [dict(row) | {"decision": json.loads(row["decision"]),
                             "previous": json.loads(row["previous"]) if row["previous"]
                             else None} for row in rows]

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
        """Every A/B judgment (skips included) with the item facts metrics need and the
        user's kind, in vote order."""
        kinds = self.user_kinds()
        cursor = self._conn().cursor()
        cursor.row_factory = None  # plain tuples: 100k rows in a fraction of a second
        rows = cursor.execute(
            "SELECT j.item_id, j.user, j.choice, j.shown, j.left_side, j.seconds, "
            "j.guideline_version, j.rationale, j.simulated, j.created_at, i.len_a, i.len_b, "
            f"i.source_a, i.source_b, i.gold FROM judgments j JOIN items i {_FACTS} "
            "ON i.id = j.item_id ORDER BY j.id").fetchall()
        return [{"item_id": item_id, "user": user, "kind": kinds.get(user, "human"),
                 "choice": choice, "shown": shown, "left": left,
                 "seconds": seconds, "guideline_version": version, "rationale": rationale,
                 "simulated": simulated == 1, "created_at": created, "len_a": len_a,
                 "len_b": len_b, "source_a": source_a, "source_b": source_b, "gold": gold}
                for (item_id, user, choice, shown, left, seconds, version, rationale, simulated,
                     created, len_a, len_b, source_a, source_b, gold) in rows]

    MULTI_VOTE_COLUMNS = ("item_id", "user", "value", "shown_order", "seconds", "simulated",
                          "numbers")
    MULTI_FACT_COLUMNS = ("item_id", "lengths", "sources", "gold_ranking")

    def multi_vote_table(self) -> pa.Table:
        """K-way judgments other than skips as an Arrow table of `MULTI_VOTE_COLUMNS`, in
        vote order: the order shown as JSON text, the value as its numbers
        (`kway.value_numbers`); the value's JSON text only for a judgment without numbers
        (none that prefkit wrote: reading every value's text took a tenth of the dashboard's
        time). A column that is NULL in every row comes typed as int64.

        Read by ADBC's SQLite driver straight into columns, on a read-only connection of its
        own: the sqlite3 module's 100k row tuples, and a polars frame made from them, took
        0.45-0.65 s of a 2.1 s dashboard; this takes 0.2 s. The driver types each column
        from the rows it has read, so it reads them all in one batch (`batch_rows`)."""
        import adbc_driver_sqlite.dbapi

        uri = Path(self.path).resolve().as_uri() + "?mode=ro"
        with adbc_driver_sqlite.dbapi.connect(uri) as conn, conn.cursor() as cursor:
            cursor.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": str(10**9)})
            cursor.execute("SELECT item_id, user, CASE WHEN numbers IS NULL THEN value END AS "
                           "value, shown_order, seconds, simulated != 0 AS simulated, numbers "
                           "FROM judgments WHERE choice != 'skip' ORDER BY id")
            return cursor.fetch_arrow_table()

    def multi_item_facts(self) -> list[tuple]:
        """Each K-way item's `MULTI_FACT_COLUMNS` (JSON text), without its texts."""
        cursor = self._conn().cursor()
        cursor.row_factory = None
        return cursor.execute("SELECT id, lengths, sources, gold_ranking FROM items "
                              "WHERE task != 'pairwise' ORDER BY seq").fetchall()

    def judgments_of(self, item_id: str | None = None) -> list[dict[str, Any]]:
        """Every judgment (of one item, or all), skips included, with the user's kind and
        value, order and detail decoded, in vote order."""
        where, args = ("WHERE j.item_id = ?", (item_id,)) if item_id else ("", ())
        rows = self._conn().execute(
            f"SELECT j.*, coalesce(u.kind, 'human') AS kind FROM judgments j LEFT JOIN users u "
            f"ON u.name = j.user {where} ORDER BY j.id", args).fetchall()
        out = []
        for row in rows:
            record = dict(row)
            record["simulated"] = bool(record["simulated"])
            for key in ("value", "shown_order", "detail"):
                record[key] = json.loads(record[key]) if record[key] else None
            out.append(record)
        return out

    def ai_details(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(item id, judge, detail) of every AI judgment: both orders, as the judge gave them."""
        rows = self._conn().execute(
            "SELECT j.item_id, j.user, j.detail FROM judgments j JOIN users u ON u.name = j.user "
            "WHERE u.kind = 'ai' AND j.detail IS NOT NULL ORDER BY j.id").fetchall()
        return [(row["item_id"], row["user"], json.loads(row["detail"])) for row in rows]


def _check_rationale(rationale: str, required: bool, label: str) -> str:
    if rationale is not None and not isinstance(rationale, str):
        raise VoteRejected("the rationale is text")
    rationale = (rationale or "").strip()
    if len(rationale) > MAX_RATIONALE:
        raise VoteRejected(f"the rationale has {len(rationale):,} characters; at most "
                           f"{MAX_RATIONALE:,}")
    if required and not rationale:
        raise VoteRejected(f"{label} needs a rationale: say why in the rationale box")
    return rationale


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _create_private(path: Path) -> None:
    """An empty file only its owner can read and write; SQLite gives its -wal and -shm files
    the same mode."""
    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _fill_numbers(conn: sqlite3.Connection) -> None:
    """Version 5: each K-way judgment's numbers, from its JSON value."""
    project = _project(conn)
    if project is None or project.task == "pairwise":
        return
    rows = conn.execute("SELECT id, value FROM judgments WHERE value IS NOT NULL").fetchall()
    conn.executemany("UPDATE judgments SET numbers = ? WHERE id = ?",
                     [(kway.value_numbers(json.loads(row["value"]), project), row["id"])
                      for row in rows])


_BACKFILLS = {5: _fill_numbers}
"""Migrations with a step in Python, run inside the script's transaction."""


def _project(conn: sqlite3.Connection) -> Project | None:
    row = conn.execute("SELECT settings FROM project WHERE id = 1").fetchone()
    return Project.model_validate_json(row["settings"]) if row else None


def _encode(value: Any) -> str | None:
    """A text (a string or chat turns), or a list of them, or any JSON value, as JSON."""
    if value is None:
        return None
    if isinstance(value, list):
        value = [[m.model_dump() for m in v] if isinstance(v, list) else
                 v.model_dump() if hasattr(v, "model_dump") else v for v in value]
    return json.dumps(value, ensure_ascii=False)


def _item_row(item: Item | MultiItem) -> tuple[Any, ...]:
    """The values of `_ITEM_FIELDS`."""
    meta = json.dumps(item.meta, ensure_ascii=False, sort_keys=True)
    if isinstance(item, MultiItem):
        return (_encode(item.prompt), "null", "null", None, None, None, meta,
                _encode(item.responses), _encode(item.sources), _encode(item.gold))
    return (_encode(item.prompt), _encode(item.response_a), _encode(item.response_b),
            item.source_a, item.source_b, item.gold, meta, None, None, None)


def _lengths(item: Item | MultiItem) -> tuple[int, int, str | None]:
    """len_a, len_b and (K-way) the lengths of the responses, in characters as shown."""
    if isinstance(item, MultiItem):
        return 0, 0, json.dumps([len(as_text(r)) for r in item.responses])
    return len(as_text(item.response_a)), len(as_text(item.response_b)), None


def _item(row: sqlite3.Row) -> Item | MultiItem:
    if row["task"] != "pairwise":
        return MultiItem(id=row["id"], prompt=json.loads(row["prompt"]),
                         responses=json.loads(row["responses"]),
                         sources=json.loads(row["sources"]) if row["sources"] else None,
                         gold=json.loads(row["gold_ranking"]) if row["gold_ranking"] else None,
                         meta=json.loads(row["meta"]))
    return Item(id=row["id"], prompt=json.loads(row["prompt"]),
                response_a=json.loads(row["response_a"]), response_b=json.loads(row["response_b"]),
                source_a=row["source_a"], source_b=row["source_b"], gold=row["gold"],
                meta=json.loads(row["meta"]))
