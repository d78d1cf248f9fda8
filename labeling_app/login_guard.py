"""Login attempts: rate limits with backoff, and password hashing in its own small pool.

* Each failed login costs the user name and the client address a strike. Past a few free
  strikes (5 per name, 20 per address) the next attempt must wait 1 s, 2 s, 4 s ... up to
  15 minutes; a correct password clears the name's strikes. An attempt inside the wait is
  answered at once with "try again in N s", without hashing anything. Unknown names are
  counted like real ones, so the limiter tells nothing about which names exist.
* scrypt (~50 ms, 16 MiB) runs in a pool of its own with one thread and a short queue.
  Votes run in Gradio's thread pool; with hashing there too, a login flood took every
  thread and pushed vote latency from 12 ms to 3 s. When the queue is full, a login is
  answered "busy, try again" at once. An attempt whose name or address got locked while
  it waited in the queue is refused when its turn comes, unhashed. scrypt releases the
  GIL, so hashing never stalls the vote threads; and the hashing thread runs at a lower CPU
  priority (nice +10, on Linux), so on a busy machine votes get the cores first and a
  flood's hashing waits (a login may then take a second instead of 50 ms).

Hand-written: a rate limiter this small is clearer than a dependency, and the pieces a
library would bring (storage back-ends, decorators) have nothing to attach to here.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    free_per_user: int = 5
    free_per_address: int = 20
    max_wait: float = 900.0
    remembered: int = 10_000  # names and addresses tracked at most (oldest forgotten first)
    hash_threads: int = 1
    hash_queue: int = 64  # logins waiting for a hash at most (~3 s of work); more: retry


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry_after: float = 0.0  # > 0: refused without checking; try again in that many seconds
    busy: bool = False  # refused because the hashing queue is full


class _Strikes:
    """Failures per key, and until when the key must wait; bounded, oldest forgotten."""

    def __init__(self, free: int, limits: Limits) -> None:
        self.free, self.limits = free, limits
        self.entries: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float:
        _, until = self.entries.get(key, (0, 0.0))
        return max(0.0, until - now)

    def fail(self, key: str, now: float) -> None:
        count = self.entries.pop(key, (0, 0.0))[0] + 1
        over = count - self.free
        until = now + min(2.0 ** (over - 1), self.limits.max_wait) if over > 0 else 0.0
        self.entries[key] = (count, until)
        while len(self.entries) > self.limits.remembered:
            self.entries.popitem(last=False)

    def clear(self, key: str) -> None:
        self.entries.pop(key, None)


class LoginGuard:
    """Checks a login through `verify(name, password)` under the limits above."""

    def __init__(self, verify: Callable[[str, str], bool], limits: Limits = Limits(), *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.verify, self.limits, self.clock = verify, limits, clock
        self.users = _Strikes(limits.free_per_user, limits)
        self.addresses = _Strikes(limits.free_per_address, limits)
        self._pool = ThreadPoolExecutor(limits.hash_threads, thread_name_prefix="prefkit-hash",
                                        initializer=_lower_priority)
        self._pending = 0
        self._lock = threading.Lock()

    async def attempt(self, name: str, password: str, address: str) -> Outcome:
        name_key = name.casefold()
        with self._lock:
            now = self.clock()
            wait = max(self.users.wait(name_key, now), self.addresses.wait(address, now))
            if wait > 0:
                return Outcome(False, retry_after=wait)
            if self._pending >= self.limits.hash_queue:
                return Outcome(False, retry_after=1.0, busy=True)
            self._pending += 1
        try:
            ok = await asyncio.wrap_future(self._pool.submit(self._check, name_key, address,
                                                             name, password))
        finally:
            with self._lock:
                self._pending -= 1
        if ok is None:
            return Outcome(False, retry_after=self._wait(name_key, address))
        return Outcome(ok)

    def _wait(self, name_key: str, address: str) -> float:
        with self._lock:
            now = self.clock()
            return max(self.users.wait(name_key, now), self.addresses.wait(address, now))

    def _check(self, name_key: str, address: str, name: str, password: str) -> bool | None:
        """In the hashing thread: None (not checked) if a wait started while queued; else
        the answer, counted before the next queued attempt is looked at."""
        if self._wait(name_key, address) > 0:
            return None
        ok = self.verify(name, password)
        with self._lock:
            now = self.clock()
            if ok:
                self.users.clear(name_key)
            else:
                self.users.fail(name_key, now)
                self.addresses.fail(address, now)
        return ok

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _lower_priority() -> None:
    """Nice +10 for the calling thread (Linux applies setpriority to one thread by its id)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # not Linux, or not allowed: normal priority
        pass
