"""Built-in sample data, written for this project (public domain, CC0).

The files beside this module are made by `python -m curate.samples.generate`; see README.md.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent


def sample_path(name: str) -> Path:
    """The path of a built-in sample file, e.g. `sample_path("instructions.alpaca.json")`."""
    path = SAMPLES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such sample file")
    return path
