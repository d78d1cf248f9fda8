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


def manifest_hash(out: Path) -> str:
    """Hash of a sharded output's manifest, which holds every shard's content hash; the
    shards' sizes are checked against it (a truncated or replaced shard gives "")."""
    from curate.io.sources import MANIFEST, InputError, manifest_shards

    try:
        manifest_shards(out)
        return xxhash.xxh3_128((out / MANIFEST).read_bytes()).hexdigest()
    except (OSError, InputError):
        return ""


def output_hash(outset: Any) -> str:
    """The hash of a committed output set's data: its manifest, or the file's content."""
    if outset.sharded:
        return manifest_hash(outset.out)
    return file_hash([outset.out])


def is_current(marker: dict[str, Any] | None, config: str, input_hash: str, output: Path,
               expected_output: str | None = None) -> bool:
    """The marker matches the config and input, and the output is still what it wrote
    (`expected_output`, for a read step, is its input's hash)."""
    if marker is None or marker.get("config_hash") != config or \
            marker.get("input_hash") != input_hash:
        return False
    if expected_output is not None:
        return marker.get("output_hash") == expected_output
    return bool(marker.get("output_hash")) and marker.get("output_hash") == manifest_hash(output)
