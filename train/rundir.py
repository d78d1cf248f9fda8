"""RUN_DIR: what every run writes, and when.

    RUN_DIR/
      .prefkit-run.json    marker: made by `train`, the files it wrote, its data's fingerprint
      config.yaml          resolved options, device, versions (written before training)
      metrics.jsonl        one line per logged step (appended as training goes)
      checkpoints/         trainer checkpoints, for --resume
      base_model/          the tiny model's initial weights and tokenizer (--model tiny)
      removed.jsonl        records dropped before training, each with a reason
      rejects.jsonl        bad records skipped with --on-error skip
      loss.png rewards.png curves
      config.json, model.safetensors, tokenizer files...   the final model
      adapter/ value_model/  LoRA adapter (--lora); PPO's critic
      README.md            model card (--push-to-hub)
      summary.json         written last: its presence marks a finished run

Final files are written under temporary names and renamed, so an interrupted run leaves
no half-written model or summary.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from curate.io import atomic_path, write_json, write_records

MARKER = ".prefkit-run.json"
# What a run may write besides the final model files (which the marker lists as they land).
ARTIFACTS = frozenset({
    MARKER, "config.yaml", "metrics.jsonl", "summary.json", "checkpoints", "base_model",
    "base_model.tmp", "removed.jsonl", "rejects.jsonl", "loss.png", "rewards.png", "adapter",
    "value_model", "tensorboard", "README.md", "eval", ".final.tmp"})
_SAMPLED_ABOVE = 256 << 20  # larger inputs are fingerprinted by size, head and tail


class RunDir:
    """The output directory of one run. Only the main process of `state` (accelerate's
    process state; None for a single process) writes.

    A marker file (`.prefkit-run.json`) says that `train` made the directory, lists the
    files it wrote and fingerprints the data it trained on: `--overwrite` removes exactly
    those files (and refuses a directory holding anything else), and `--resume` refuses
    other data unless forced.
    """

    def __init__(self, path: str | Path, *, state: Any = None) -> None:
        self.path = Path(path)
        self.state = state
        self.is_main = state is None or state.is_main_process

    config = property(lambda self: self.path / "config.yaml")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    summary = property(lambda self: self.path / "summary.json")
    checkpoints = property(lambda self: self.path / "checkpoints")
    marker = property(lambda self: self.path / MARKER)

    def check(self, *, resume: bool, overwrite: bool, inputs: Iterable[Path] = (),
              data: dict[str, Any] | None = None, force: bool = False) -> None:
        """Refuse to mix runs: an existing run needs --resume (on the same data, unless
        `force`) or --overwrite (only of a directory `train` wrote, holding none of `inputs`)."""
        if not self.is_main:
            return
        existing = self.path.exists() and any(self.path.iterdir())
        if resume:
            if existing and not self.marker.is_file():
                raise ValueError(f"{self.path}: not a run directory written by `train` (no "
                                 f"{MARKER}); refusing to resume into it (it would replace its "
                                 "files), choose another -o")
            if self.last_checkpoint() is None:
                raise FileNotFoundError(f"{self.path}: no checkpoint to resume from "
                                        f"(looked in {self.checkpoints})")
            if not force:
                self._check_same_data(data or {})
        elif existing and overwrite:
            self._check_overwritable(inputs)
        elif existing:
            raise ValueError(f"{self.path}: exists and is not empty; pass --resume to continue "
                             "its last checkpoint or --overwrite to start again")

    def _check_overwritable(self, inputs: Iterable[Path]) -> None:
        if not self.marker.is_file():
            raise ValueError(f"{self.path}: not a run directory written by `train` (no {MARKER}); "
                             "refusing to overwrite it, choose another -o")
        root = self.path.resolve()
        for item in inputs:
            if item.resolve().is_relative_to(root):
                raise ValueError(f"{self.path}: holds the input {item}; refusing to overwrite it")
        unexpected = sorted(name for name in os.listdir(self.path) if name not in self._ours())
        if unexpected:
            shown = ", ".join(unexpected[:5]) + (" ..." if len(unexpected) > 5 else "")
            raise ValueError(f"{self.path}: holds files `train` did not write ({shown}); "
                             "refusing to overwrite it")

    def _check_same_data(self, data: dict[str, Any]) -> None:
        recorded = self._read_marker().get("data", {})
        for name, now in data.items():
            before = recorded.get(name)
            if before is not None and before.get("sha256") != now.get("sha256"):
                raise ValueError(f"{self.path}: was trained on {name} {before['source']}, not on "
                                 f"{now['source']} (its content differs); pass --force to resume "
                                 "with other data anyway")

    def _ours(self) -> set[str]:
        written = set(self._read_marker().get("written", []))
        return {name for name in os.listdir(self.path)
                if name in ARTIFACTS or name in written
                or (name.startswith(".") and name.endswith(".tmp"))}  # an interrupted write

    def _read_marker(self) -> dict[str, Any]:
        try:
            return json.loads(self.marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def create(self, *, resume: bool, overwrite: bool, command: str = "",
               data: dict[str, Any] | None = None) -> None:
        """Make the directory (emptied of what an earlier run wrote with --overwrite); mark it
        as ours; keep metrics up to the checkpoint a resumed run continues from."""
        if self.is_main and overwrite and self.path.exists():
            for name in self._ours():
                target = self.path / name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink()
        if self.state is not None:
            self.state.wait_for_everyone()
        self.path.mkdir(parents=True, exist_ok=True)
        if self.is_main:
            marker = self._read_marker() if resume else {}
            marker.update({"command": command or marker.get("command", ""),
                           "data": {**marker.get("data", {}), **(data or {})}})
            marker.setdefault("written", [])
            write_json(self.marker, marker)
            kept = []
            if resume:
                last = self.resume_step()
                kept = [row for row in self.read_metrics() if row.get("step", 0) <= last]
                self.summary.unlink(missing_ok=True)  # the run is unfinished again
            with atomic_path(self.metrics) as temp:
                temp.write_text("".join(json.dumps(row) + "\n" for row in kept), encoding="utf-8")

    def remember(self, names: Iterable[str]) -> None:
        """Add files this run wrote (model files, whose names vary by model) to the marker."""
        if self.is_main:
            marker = self._read_marker()
            marker["written"] = sorted(set(marker.get("written", [])) | set(names))
            write_json(self.marker, marker)

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
        self.remember(item.name for item in staging.iterdir())
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


def fingerprint(source: str | Path) -> dict[str, Any]:
    """What a run's data is: the source as given, and a sha256 of a local file's (or a dataset
    directory's) bytes; inputs over 256 MB are hashed by size, first and last 16 MB. A hub
    id is fingerprinted by its name."""
    path = Path(source)
    digest = hashlib.sha256()
    if not path.exists():
        digest.update(str(source).encode())
    for item in sorted(p for p in (path.rglob("*") if path.is_dir() else [path]) if p.is_file()):
        digest.update(str(item.relative_to(path) if path.is_dir() else "").encode())
        size = item.stat().st_size
        digest.update(str(size).encode())
        with open(item, "rb") as handle:
            if size <= _SAMPLED_ABOVE:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
            else:
                digest.update(handle.read(16 << 20))
                handle.seek(size - (16 << 20))
                digest.update(handle.read())
    return {"source": str(source), "sha256": digest.hexdigest()}


def _plain(value: Any) -> Any:
    """YAML-safe copy: paths as strings, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
