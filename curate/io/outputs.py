"""Output sets: OUT and its sidecars, staged together and committed as one unit.

A command writes OUT (a file, or a directory of shards when OUT ends in `/`) plus sidecars:
`OUT.removed`, `OUT.rejects` (with `--on-error skip`), `OUT.stats.json` and extras such as
a report or `--clusters`. Nothing is written under a final name until everything is done:

1. **Stage.** Every file is written in `.OUT.staging-TOKEN/` beside OUT (same file system,
   so renames are atomic). A marker file there names the process.
2. **Journal.** `.OUT.commit.json` lists every rename (staged -> final) and every file of
   the previous set that the new one does not replace. From here on the commit is decided.
3. **Apply.** Sidecars first, OUT last; then stale files of the previous set go; then the
   journal and the staging directory.

A kill before the journal leaves the previous set untouched (the staging directory is
removed by the next run). A kill after it is rolled forward by the next run that writes or
reads OUT. OUT never equals an input or another output (checked first), an existing OUT
that we did not write is never replaced, and only files a previous set lists are removed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.io.sources import MANIFEST
from curate.io.write import format_of, sidecar, write_json

STAGING_MARK = ".prefkit-staging"
JOURNAL_SUFFIX = ".commit.json"


class OutputError(ValueError):
    """An output path that cannot be used (collides with an input, is of the wrong kind, or
    is a file we did not write)."""


def fault(point: str) -> None:
    """Test hook: `PREFKIT_FAULT=point` kills this process there (kill -9 semantics)."""
    if os.environ.get("PREFKIT_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


def is_sharded_path(out: str | Path) -> bool:
    """A directory of shards: OUT ends in '/', or is an existing directory without a data
    file's suffix (`out.jsonl` naming a directory is a mistake, reported as such)."""
    from curate.io.sources import is_data_file

    text = str(out)
    return text.endswith(("/", os.sep)) or (Path(text).is_dir() and not is_data_file(text))


@dataclass
class Member:
    """One file (or directory) of a set: its final path and its staged path."""

    role: str
    final: Path
    staged: Path
    is_dir: bool = False
    entry: dict[str, Any] = field(default_factory=dict)  # rows, bytes, hash


class OutputSet:
    """Stage OUT and its sidecars; `commit()` makes them appear together."""

    def __init__(self, out: str | Path, *, inputs: list[Path] | None = None,
                 sharded: bool | None = None, fmt: str | None = None,
                 stats_path: Path | None = None, data: bool = True,
                 adopted: set[Path] | None = None) -> None:
        self.sharded = is_sharded_path(out) if sharded is None else sharded
        self.out = Path(str(out).rstrip("/" + os.sep) or ".")
        self.format = fmt or (_shard_format(self.out) if self.sharded else format_of(self.out))
        self.inputs = [Path(p) for p in inputs or []]
        self.token = secrets.token_hex(4)
        parent = self.out.parent
        self.staging = parent / f".{self.out.name}.staging-{self.token}"
        self.journal = parent / f".{self.out.name}{JOURNAL_SUFFIX}"
        self.members: dict[str, Member] = {}
        self.stats_path = stats_path or sidecar(self.out, "stats.json")
        self.adopted = adopted or set()  # files of ours from before output sets, per the caller
        self._committed = False
        recover(self.out)
        _check_kind(self.out, self.sharded)
        if data:
            self.add("data", self.out, is_dir=self.sharded)

    # -- members --------------------------------------------------------------------------

    def sidecar_path(self, kind: str, *, data: bool = True) -> Path:
        """`removed`/`rejects` sidecars follow OUT's layout; others are plain files."""
        if data:
            return sidecar(self.out, kind) if self.sharded else \
                sidecar(self.out, f"{kind}.{_line_format(self.format)}")
        return sidecar(self.out, kind)

    def add(self, role: str, final: Path, *, is_dir: bool = False) -> Path:
        """Register a member; returns where to write it (its staged path)."""
        staged = self.staging / (role + ("" if is_dir else "".join(Path(final.name).suffixes)
                                         or ".file"))
        self.members[role] = Member(role, Path(final), staged, is_dir)
        return staged

    def staged(self, role: str) -> Path:
        return self.members[role].staged

    def finals(self) -> list[Path]:
        return [member.final for member in self.members.values()]

    def check_paths(self) -> None:
        """Refuse a set whose paths collide with an input or with each other, or that would
        replace a file we did not write."""
        finals = [*self.finals(), self.stats_path]  # the stats file is written too
        check_collisions(finals, self.inputs)
        previous = previous_set(self.out, self.stats_path) | self.adopted
        for final in finals:
            if final.exists() and final not in previous and not _ours(final):
                kind = "directory" if final.is_dir() else "file"
                raise OutputError(f"{final}: an existing {kind} that prefkit did not write "
                                  "(no stats or manifest of ours names it); choose another output "
                                  "or move it away first")

    # -- life cycle -----------------------------------------------------------------------

    def __enter__(self) -> OutputSet:
        self.check_paths()
        self.staging.mkdir(parents=True)
        (self.staging / STAGING_MARK).write_text(json.dumps(
            {"pid": os.getpid(), "host": socket.gethostname(), "time": time.time()}))
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._committed:
            shutil.rmtree(self.staging, ignore_errors=True)

    def commit(self, stats: dict[str, Any]) -> None:
        """Write the stats (naming every member), then commit the whole set."""
        listing = {role: {"path": str(member.final), **member.entry}
                   for role, member in self.members.items()}
        stats_staged = self.add("stats", self.stats_path)
        write_json(stats_staged, {**stats, "output_set": {"token": self.token, "files": listing}})
        _sync_tree(self.staging)
        fault("staged")
        previous = previous_set(self.out, self.stats_path)
        moves = [m for m in self.members.values() if m.role != "data"] + \
            [m for m in self.members.values() if m.role == "data"]
        produced = {m.final for m in moves}
        plan = {"version": 1, "token": self.token, "pid": os.getpid(),
                "staging": self.staging.name,
                "moves": [[str(m.staged), str(m.final)] for m in moves],
                "remove": [str(p) for p in previous if p not in produced and p.exists()]}
        write_json(self.journal, plan)
        fault("journal")
        with _signals_held():
            apply_journal(self.journal, plan)
        self._committed = True


def apply_journal(journal: Path, plan: dict[str, Any]) -> None:
    """Carry out a commit plan; idempotent, so a killed commit can be finished later."""
    staging = journal.parent / plan["staging"]
    graveyard = staging / ".replaced"
    for number, (staged, final) in enumerate(plan["moves"]):
        staged_path, final_path = Path(staged), Path(final)
        if not staged_path.exists():
            continue  # moved by an earlier, interrupted apply
        if final_path.is_dir() and not final_path.is_symlink():
            graveyard.mkdir(parents=True, exist_ok=True)
            os.replace(final_path, graveyard / f"{number}-{final_path.name}")
        final_path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged_path, final_path)
        fault(f"moved-{number}")
    for stale in plan["remove"]:
        path = Path(stale)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    _sync_dir(journal.parent)
    journal.unlink(missing_ok=True)
    shutil.rmtree(staging, ignore_errors=True)


def recover(out: Path) -> None:
    """Finish an interrupted commit of `out`, and clean staging left by dead runs."""
    parent = out.parent
    journal = parent / f".{out.name}{JOURNAL_SUFFIX}"
    if journal.exists():
        try:
            plan = json.loads(journal.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            journal.unlink()  # a journal is written atomically; a bad one is not ours
        else:
            if not _alive(plan.get("pid")):
                print(f"note: finishing an interrupted commit of {out}", file=sys.stderr)
                apply_journal(journal, plan)
    if parent.is_dir():
        for staging in parent.glob(f".{out.name}.staging-*"):
            mark = staging / STAGING_MARK
            try:
                owner = json.loads(mark.read_text())
            except (OSError, json.JSONDecodeError):
                continue  # not ours: never delete
            if owner.get("host") == socket.gethostname() and not _alive(owner.get("pid")):
                shutil.rmtree(staging, ignore_errors=True)


def previous_set(out: Path, stats_path: Path | None = None) -> set[Path]:
    """The files the last committed set of `out` wrote (from its stats), if any."""
    stats_path = stats_path or sidecar(out, "stats.json")
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return set()
    files = (stats.get("output_set") or {}).get("files") or {}
    listed = {Path(entry["path"]) for entry in files.values() if isinstance(entry, dict)}
    if listed:
        return listed | {stats_path}
    return set()


def _ours(path: Path) -> bool:
    """A file or directory a curate run wrote: a manifest of ours, or a stats file naming it."""
    if path.is_dir():
        return (path / MANIFEST).is_file() and all(
            p.name == MANIFEST or p.name in _manifest_names(path) for p in path.iterdir())
    if path.name.endswith(".stats.json"):
        return True
    for candidate in _stats_candidates(path):
        try:
            stats = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        files = (stats.get("output_set") or {}).get("files") or {}
        if any(Path(e.get("path", "")) == path for e in files.values() if isinstance(e, dict)):
            return True
        if stats.get("output") == str(path) or Path(str(stats.get("output"))) == path:
            return True  # written before output sets (stats name OUT only)
    return False


def _stats_candidates(path: Path) -> list[Path]:
    """Stats files that may name `path`: its own, and OUT's when `path` is a sidecar."""
    out: list[Path] = []
    name = path.name
    for marker in (".removed.", ".rejects.", ".report.", ".clusters."):
        if marker in name:
            out.append(path.with_name(name.split(marker)[0] + ".stats.json"))
    out.append(sidecar(path, "stats.json"))
    return out


def _manifest_names(directory: Path) -> set[str]:
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        return {shard["name"] for shard in manifest["shards"]}
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return set()


def check_collisions(outputs: list[Path], inputs: list[Path]) -> None:
    """No output may be an input, hold an input, lie in an input directory, or equal another
    output."""
    resolved_inputs = {Path(os.path.realpath(p)): p for p in inputs}
    for folder in (p for p in inputs if Path(p).is_dir()):
        real_folder = Path(os.path.realpath(folder))
        for output in outputs:
            if real_folder in Path(os.path.realpath(output)).parents:
                raise OutputError(f"{output}: lies in the input directory {folder}, whose data "
                                  "files are all read; write elsewhere")
    seen: dict[Path, Path] = {}
    for output in outputs:
        real = Path(os.path.realpath(output))
        if real in seen:
            raise OutputError(f"{output}: named twice among the outputs "
                              f"(also as {seen[real]}); choose distinct paths")
        seen[real] = output
        if real in resolved_inputs:
            raise OutputError(f"{output}: is also an input ({resolved_inputs[real]}); an output "
                              "never overwrites an input, write to another path")
        for input_real, given in resolved_inputs.items():
            if real in input_real.parents:
                raise OutputError(f"{output}: holds the input {given}; write to another path")


def _check_kind(out: Path, sharded: bool) -> None:
    for folder in out.parents:
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder}: is a file, not a directory (it is in the output's "
                              f"path {out})")
    if sharded and out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is a file, but the output ends in '/' (a directory "
                          "of shards); remove the slash or choose another path")
    if not sharded and out.is_dir():
        raise OutputError(f"{out}: is a directory; give a file name (out.jsonl) or end the path "
                          "in '/' for a sharded output")


def _shard_format(out: Path) -> str:
    """Shards of `runs/x/` default to .jsonl.gz; `runs/x.parquet/` means parquet shards."""
    try:
        return format_of(out)
    except ValueError:
        return "jsonl.gz"


def _line_format(fmt: str) -> str:
    return fmt if fmt.startswith("jsonl") else "jsonl"


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sync_tree(root: Path) -> None:
    """fsync every staged file and directory, so the journal never names lost data."""
    for path in sorted(root.rglob("*"), reverse=True):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    for directory in [root, *[p for p in root.rglob("*") if p.is_dir()]]:
        _sync_dir(directory)


def _sync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the renames are done (SIGKILL cannot be held; the
    journal covers it)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError):  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
