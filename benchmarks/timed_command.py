"""Time a whole command as a child process: wall clock and CPU of the command and of every
process it started (used by dedup_bench.py and pipeline_bench.py).

CPU is the change in ``resource.getrusage(RUSAGE_CHILDREN)`` (user + system) around the
command. A child's CPU reaches that figure only when its parent waits for it, so a process
whose parent exits first (the forkserver of ``--workers 2``, whose pool workers it reaps;
Ray's daemons) would be missed. This process therefore makes itself a Linux child subreaper
(``prctl(PR_SET_CHILD_SUBREAPER)``): such orphans are re-parented to it, and `run` waits for
them after the command exits. Their CPU is then counted; `Timing.orphans` says how many
there were, and `Timing.wall` stops when the command itself exits.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

_PR_SET_CHILD_SUBREAPER = 36
_ORPHAN_WAIT = 120.0  # seconds to wait for re-parented descendants to exit


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, until the command exits
    cpu: float  # user + system seconds of the command and all its descendants
    orphans: int  # descendants that outlived their parent and were waited for here


def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux); False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


SUBREAPER = become_subreaper()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _wait_for_orphans() -> int:
    """Wait for every remaining child of this process (all of them descendants of the command
    just run, re-parented here); return how many there were."""
    count, deadline = 0, time.monotonic() + _ORPHAN_WAIT
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return count
        if pid:
            count += 1
        elif time.monotonic() > deadline:
            raise RuntimeError(f"descendants still running {_ORPHAN_WAIT:.0f} s after the command")
        else:
            time.sleep(0.02)


def run(command: list[str], *, log: Path, cwd: Path | None = None,
        env: dict[str, str] | None = None) -> Timing:
    """Run `command` to completion (stdout and stderr to `log`); exit with its log's tail when
    it fails."""
    with open(log, "wb") as output:
        cpu_before, started = _cpu(), time.perf_counter()
        code = subprocess.call(command, stdout=output, stderr=subprocess.STDOUT, cwd=cwd, env=env)
        wall = time.perf_counter() - started
        orphans = _wait_for_orphans()
        cpu = _cpu() - cpu_before
    if code != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        sys.exit(f"{' '.join(command)} exited with {code}:\n" + "\n".join(tail))
    return Timing(wall, cpu, orphans)


def checkout_env(root: Path, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """This environment with the checkout at `root` first on PYTHONPATH, so that a command
    runs the code measured (not another editable install), and without the `without` names."""
    env = {key: value for key, value in os.environ.items() if key not in without}
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = f"{root}{os.pathsep}{path}" if path else str(root)
    return env


def peak_rss_mb(command: list[str], *, log: Path, cwd: Path | None = None,
                env: dict[str, str] | None = None) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of `command` under ``/usr/bin/time -v``: the largest
    resident set of the command and of the descendants it waited for."""
    report = log.with_suffix(".time")
    timing = run(["/usr/bin/time", "-v", "-o", str(report), *command], log=log, cwd=cwd, env=env)
    for line in report.read_text().splitlines():
        if "Maximum resident set size (kbytes)" in line:
            return int(line.rsplit(":", 1)[1]) / 1024, timing.wall
    raise RuntimeError(f"no peak RSS in {report}")
