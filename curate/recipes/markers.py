"""Completion markers: a step is done when its marker's hashes match its config and input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import xxhash

from curate.io import write_json

MARKER = "done.json"


def config_hash(step: str, options: dict[str, Any], files: str) -> str:
    """Hash of a step's type, its options (defaults included) and the files they name."""
    canonical = json.dumps({"step": step, "options": options, "files": files}, sort_keys=True,
                           default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def file_hash(paths: list[Path]) -> str:
    """Content hash of files (and of saved-dataset directories' files), streamed."""
    digest = xxhash.xxh3_128()
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.name).encode())
            with open(file, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()


def read_marker(step_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((step_dir / MARKER).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def write_marker(step_dir: Path, marker: dict[str, Any]) -> None:
    """Written last, atomically: a step killed before this point has no marker and reruns."""
    write_json(step_dir / MARKER, marker)


def is_current(marker: dict[str, Any] | None, config: str, input_hash: str, output: Path) -> bool:
    return (marker is not None and marker.get("config_hash") == config
            and marker.get("input_hash") == input_hash and output.exists()
            and marker.get("output_hash") == file_hash([output]))
