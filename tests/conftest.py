"""Test-wide setup: offline Hugging Face, no telemetry, and the shared real-data folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


def require_shared_data() -> Path:
    """`../shared/data`. Absent: a failure under CI (`CI` set), so no test vanishes from a
    green run; a skip with the reason on a developer's machine without the folder."""
    if not SHARED_DATA.is_dir():
        message = f"real-data folder {SHARED_DATA} is absent"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, and CI is set: CI must run every real-data test")
        pytest.skip(message)
    return SHARED_DATA


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` (see `require_shared_data`)."""
    return require_shared_data()
