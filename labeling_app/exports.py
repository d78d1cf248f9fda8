"""Export files of the admin tab: a private folder (0700, files 0600), each file downloadable
by admins only through an unguessable token, for `EXPORT_TTL` seconds; all deleted when the
server stops. (Gradio's own file cache kept them world-readable, and after the server.)"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

EXPORT_TTL = 3600.0


@dataclass
class ExportFiles:
    """Export files in a private folder, each reachable by an unguessable token for an hour."""

    ttl: float = EXPORT_TTL
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="prefkit-exports-")))
    files: dict[str, tuple[Path, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_path(self, name: str) -> tuple[str, Path]:
        """A token and a fresh path (in its own 0700 folder) for an export named `name`."""
        self.expire()
        token = secrets.token_urlsafe(24)
        folder = self.folder / token
        folder.mkdir(mode=0o700)
        return token, folder / name

    def publish(self, token: str, path: Path) -> str:
        """Make a written file downloadable; returns its relative URL."""
        path.chmod(0o600)
        with self._lock:
            self.files[token] = (path, time.monotonic() + self.ttl)
        return f"prefkit/export/{token}/{path.name}"

    def get(self, token: str) -> Path | None:
        self.expire()
        with self._lock:
            entry = self.files.get(token)
        return entry[0] if entry else None

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [token for token, (_, until) in self.files.items() if until <= now]
            for token in old:
                del self.files[token]
        for token in old:
            shutil.rmtree(self.folder / token, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self.files.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
