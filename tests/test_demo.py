"""The README's first command, `make demo`: the main job end to end, in CI too."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from curate.io import read_records
from schemas import PreferencePair

REPO = Path(__file__).resolve().parent.parent


def test_make_demo_curates_labels_and_trains(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    process = subprocess.run(["make", "-s", "demo", f"DEMO_DIR={out}"], cwd=REPO, check=False,
                             capture_output=True, text=True)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-3000:]
    sft = list(read_records(out / "curate" / "sft.jsonl"))
    assert 200 < len(sft) < 392  # the messy sample lost its duplicates and bad records
    prefs = list(read_records(out / "prefs.jsonl"))
    assert prefs and all(PreferencePair.model_validate(p) for p in prefs)
    assert all(p["meta"]["simulated"] for p in prefs)
    for run in ("sft", "dpo"):
        summary = json.loads((out / run / "summary.json").read_text())
        assert summary["last_loss"] < summary["first_loss"], run
        assert (out / run / "config.yaml").exists() and (out / run / "loss.png").exists()
    assert (out / "label_report.html").exists() and (out / "curate_report.html").exists()
    assert f"label serve -d {out}/labels.sqlite" in process.stdout
