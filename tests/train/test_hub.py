"""`--push-to-hub`: the model card built from config.yaml and summary.json, and the upload,
through a local stand-in for the hub API that stores repositories in a directory."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.train.conftest import write_jsonl
from train import hub
from train.cli import app


class LocalHub:
    """`HfApi`'s three calls `train` makes, against a folder: repo id -> directory."""

    root: Path
    logged_in = True

    def whoami(self):
        if not self.logged_in:
            raise OSError("Invalid user token.")
        return {"name": "tester"}

    def create_repo(self, repo_id, private=False, exist_ok=False):
        (self.root / repo_id).mkdir(parents=True, exist_ok=exist_ok)
        (self.root / repo_id / ".private").write_text(str(private))

    def upload_folder(self, folder_path, repo_id, ignore_patterns=(), commit_message=""):
        folder = Path(folder_path)
        for path in folder.rglob("*"):
            relative = path.relative_to(folder).as_posix()
            if path.is_file() and not any(fnmatch.fnmatch(relative, p) for p in ignore_patterns):
                target = self.root / repo_id / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)


@pytest.fixture
def local_hub(tmp_path, monkeypatch):
    LocalHub.root = tmp_path / "hub"
    LocalHub.logged_in = True
    monkeypatch.setattr(hub, "api_factory", LocalHub)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")  # the stand-in needs no network
    return LocalHub


def test_push_uploads_the_model_and_a_card_describing_the_run(toy_dir, local_hub, tmp_path):
    run = tmp_path / "dpo"
    result = CliRunner().invoke(app, [
        "dpo", "--data", str(toy_dir / "pairs.jsonl"), "-o", str(run), "--max-steps", "2",
        "--eval-split", "24", "--push-to-hub", "prefkit/dpo-toy"])
    assert result.exit_code == 0, result.output
    assert "uploaded to https://huggingface.co/prefkit/dpo-toy" in result.output

    repo = local_hub.root / "prefkit" / "dpo-toy"
    uploaded = {p.relative_to(repo).as_posix() for p in repo.rglob("*") if p.is_file()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "README.md", "loss.png",
            "rewards.png", "summary.json", "config.yaml"} <= uploaded
    assert not any(name.startswith(("checkpoints/", "base_model/")) for name in uploaded)
    assert (repo / ".private").read_text() == "True"
    card = (repo / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: transformers\ntags:\n- prefkit\n- trl\n- dpo")
    assert f"source: `{toy_dir / 'pairs.jsonl'}`" in card
    assert "- 240 records in: " in card and "held out (split by prompt)" in card
    assert "| loss | `sigmoid` |" in card and "| beta | `0.1` |" in card
    assert "held out `reward_accuracy`" in card and "held out `length_baseline_accuracy`" in card
    assert "![loss.png](loss.png)" in card and "![rewards.png](rewards.png)" in card
    assert 'AutoModelForCausalLM.from_pretrained("prefkit/dpo-toy")' in card


def test_a_push_that_cannot_happen_fails_before_training(toy_dir, local_hub, tmp_path,
                                                         monkeypatch):
    local_hub.logged_in = False
    result = CliRunner().invoke(app, [
        "sft", "--data", str(toy_dir / "sft.jsonl"), "-o", str(tmp_path / "a"),
        "--push-to-hub", "prefkit/x"])
    assert result.exit_code == 1
    assert "cannot reach the hub as a logged-in user (Invalid user token.)" in result.output
    assert not (tmp_path / "a").exists()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = CliRunner().invoke(app, [
        "sft", "--data", str(toy_dir / "sft.jsonl"), "-o", str(tmp_path / "b"),
        "--push-to-hub", "prefkit/x"])
    assert result.exit_code == 1 and "HF_HUB_OFFLINE is set" in result.output
    bad = write_jsonl(tmp_path / "x.jsonl", [])
    result = CliRunner().invoke(app, ["sft", "--data", str(bad), "-o", str(tmp_path / "c"),
                                      "--push-to-hub", "no-slash"])
    assert result.exit_code == 1 and "expected a repo id org/name" in result.output
