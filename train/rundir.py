"""RUN_DIR: what every run writes, and when.

    RUN_DIR/
      config.yaml          resolved options, device, versions (written before training)
      metrics.jsonl        one line per logged step (appended as training goes)
      checkpoints/         trainer checkpoints, for --resume
      base_model/          the tiny model's initial weights and tokenizer (--model tiny)
      removed.jsonl        records dropped before training, each with a reason
      rejects.jsonl        bad records skipped with --on-error skip
      loss.png rewards.png curves
      config.json, model.safetensors, tokenizer files...   the final model
      summary.json         written last: its presence marks a finished run

Final files are written under temporary names and renamed, so an interrupted run leaves
no half-written model or summary.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from curate.io import atomic_path, write_json, write_records

_RUN_MARKERS = ("config.yaml", "summary.json", "metrics.jsonl", "checkpoints")


class RunDir:
    """The output directory of one run. Only the main process of `state` (accelerate's
    process state; None for a single process) writes."""

    def __init__(self, path: str | Path, *, state: Any = None) -> None:
        self.path = Path(path)
        self.state = state
        self.is_main = state is None or state.is_main_process

    config = property(lambda self: self.path / "config.yaml")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    summary = property(lambda self: self.path / "summary.json")
    checkpoints = property(lambda self: self.path / "checkpoints")

    def check(self, *, resume: bool, overwrite: bool) -> None:
        """Refuse to mix runs: an existing run needs --resume (continue) or --overwrite."""
        if not self.is_main:
            return
        existing = self.path.exists() and any(self.path.iterdir())
        if resume:
            if self.last_checkpoint() is None:
                raise FileNotFoundError(f"{self.path}: no checkpoint to resume from "
                                        f"(looked in {self.checkpoints})")
        elif existing and overwrite:
            if not any((self.path / marker).exists() for marker in _RUN_MARKERS):
                raise ValueError(f"{self.path}: not a run directory; refusing to overwrite it")
        elif existing:
            raise ValueError(f"{self.path}: exists and is not empty; pass --resume to continue "
                             "its last checkpoint or --overwrite to start again")

    def create(self, *, resume: bool, overwrite: bool) -> None:
        """Make the directory (emptied with --overwrite); keep metrics up to the checkpoint
        a resumed run continues from."""
        if self.is_main and overwrite and self.path.exists():
            shutil.rmtree(self.path)
        if self.state is not None:
            self.state.wait_for_everyone()
        self.path.mkdir(parents=True, exist_ok=True)
        if self.is_main:
            kept = []
            if resume:
                last = self.resume_step()
                kept = [row for row in self.read_metrics() if row.get("step", 0) <= last]
                self.summary.unlink(missing_ok=True)  # the run is unfinished again
            with atomic_path(self.metrics) as temp:
                temp.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")

    def resume_step(self) -> int:
        """The step of the last checkpoint (0 without one)."""
        last = self.last_checkpoint()
        return int(Path(last).name.rsplit("-", 1)[1]) if last else 0

    def last_checkpoint(self) -> str | None:
        from transformers.trainer_utils import get_last_checkpoint

        return get_last_checkpoint(str(self.checkpoints)) if self.checkpoints.is_dir() else None

    def write_config(self, values: dict[str, Any]) -> None:
        if self.is_main:
            with atomic_path(self.config) as temp:
                temp.write_text(yaml.safe_dump(_plain(values), sort_keys=False), encoding="utf-8")

    def log_metrics(self, row: dict[str, Any]) -> None:
        if self.is_main:
            with open(self.metrics, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, default=float) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        if not self.metrics.exists():
            return []
        return [json.loads(line) for line in self.metrics.read_text(encoding="utf-8").splitlines()
                if line.strip()]

    def write_removed(self, removed: list[dict[str, Any]], rejects: list[dict[str, Any]] | None
                      ) -> None:
        if not self.is_main:
            return
        write_records(self.path / "removed.jsonl", removed)
        if rejects is not None:
            write_records(self.path / "rejects.jsonl", rejects)

    def save_model(self, model: Any, tokenizer: Any,
                   save: Callable[[str], None] | None = None) -> None:
        """Save weights and tokenizer into a staging folder, then move each file in place.

        `save` (e.g. `Trainer.save_model`, which gathers sharded weights) runs on every
        process; without it the main process calls `model.save_pretrained`.
        """
        staging = self.path / ".final.tmp"
        if self.is_main:
            shutil.rmtree(staging, ignore_errors=True)
        if save is not None:
            save(str(staging))
        elif self.is_main:
            model.save_pretrained(staging)
        if not self.is_main:
            return
        tokenizer.save_pretrained(staging)
        for item in staging.iterdir():
            target = self.path / item.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(item, target)
        staging.rmdir()

    def write_summary(self, summary: dict[str, Any]) -> None:
        if self.is_main:
            write_json(self.summary, summary)


@contextmanager
def removed_if_setup_fails(path: str | Path) -> Iterator[None]:
    """A RUN_DIR that this run creates is removed again if setting the run up fails (a
    template or length check after the tiny model was built, a bad trainer option), so
    fixing the input and running again needs no --overwrite. Existing runs are untouched."""
    path = Path(path)
    made = not path.exists()
    fresh = made or not any(path.iterdir())
    try:
        yield
    except BaseException:
        if fresh and path.is_dir() and os.environ.get("RANK", "0") == "0":  # the main process
            if made:
                shutil.rmtree(path, ignore_errors=True)
            else:
                for item in path.iterdir():
                    if item.is_dir():
                        shutil.rmtree(item)
                    else:
                        item.unlink()
        raise


def _plain(value: Any) -> Any:
    """YAML-safe copy: paths as strings, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
