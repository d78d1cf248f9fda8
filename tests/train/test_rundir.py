"""The run directory: `--overwrite` removes only what a run wrote, `--resume` continues only on
the same data, and a run's log is readable outside a terminal."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from tests.train.conftest import sum_conversations, write_jsonl
from train.cli import app
from train.options import SFTOptions
from train.sft import train_sft


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def message(result) -> str:
    return " ".join(result.output.split())


def test_overwrite_refuses_directories_train_did_not_write(tmp_path):
    """The reported bug: any directory with a config.yaml was rmtree'd, a project's src/ and
    the --data file with it."""
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "main.py").write_text("print('precious')")
    (project / "config.yaml").write_text("name: project\n")
    data = write_jsonl(project / "sft.jsonl", sum_conversations(8, filler=False))
    result = run("sft", "--data", data, "-o", project, "--overwrite", "--max-steps", "1")
    assert result.exit_code == 1
    assert "not a run directory written by `train`" in message(result)
    assert (project / "src" / "main.py").read_text() == "print('precious')"
    assert data.exists() and (project / "config.yaml").exists()


def test_overwrite_refuses_a_run_holding_the_data_or_other_files(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(8, filler=False))
    options = {"data": data, "max_steps": 1, "eval_split": 0}
    run_dir = tmp_path / "run"
    train_sft(SFTOptions(output=run_dir, **options))
    (run_dir / "notes.md").write_text("my notes")
    result = run("sft", "--data", data, "-o", run_dir, "--overwrite", "--max-steps", "1",
                 "--eval-split", "0")
    assert result.exit_code == 1 and "holds files `train` did not write (notes.md)" in \
        message(result)
    (run_dir / "notes.md").unlink()
    inside = write_jsonl(run_dir / "data.jsonl", sum_conversations(8, filler=False))
    result = run("sft", "--data", inside, "-o", run_dir, "--overwrite", "--max-steps", "1",
                 "--eval-split", "0")
    assert result.exit_code == 1 and "holds the input" in message(result)
    assert inside.exists() and (run_dir / "model.safetensors").exists()


def test_overwrite_replaces_exactly_what_the_run_wrote(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(8, filler=False))
    run_dir = tmp_path / "run"
    train_sft(SFTOptions(data=data, output=run_dir, max_steps=2, eval_split=0, save_steps=1))
    written = set(json.loads((run_dir / ".prefkit-run.json").read_text())["written"])
    assert {"model.safetensors", "config.json", "tokenizer.json"} <= written
    (run_dir / ".stale.tmp").write_text("left by a killed write")
    summary = train_sft(SFTOptions(data=data, output=run_dir, max_steps=1, eval_split=0,
                                   overwrite=True))
    assert summary["steps"] == 1
    assert not (run_dir / ".stale.tmp").exists()
    assert sorted(p.name for p in (run_dir / "checkpoints").glob("checkpoint-*")) == \
        ["checkpoint-1"]


def test_resume_refuses_other_data_unless_forced(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", sum_conversations(16, filler=False))
    second = write_jsonl(tmp_path / "b.jsonl", sum_conversations(16, seed=5))
    run_dir = tmp_path / "run"
    train_sft(SFTOptions(data=first, output=run_dir, max_steps=2, save_steps=1, eval_split=0))
    result = run("sft", "--data", second, "-o", run_dir, "--resume", "--max-steps", "3",
                 "--eval-split", "0")
    assert result.exit_code == 1
    assert f"was trained on data {first}, not on {second}" in message(result)
    assert "pass --force" in message(result)
    copy = tmp_path / "copy.jsonl"  # the same content under another name is the same data
    copy.write_bytes(first.read_bytes())
    result = run("sft", "--data", copy, "-o", run_dir, "--resume", "--max-steps", "3",
                 "--eval-split", "0", "--save-steps", "1")
    assert result.exit_code == 0, result.output
    result = run("sft", "--data", second, "-o", run_dir, "--resume", "--force", "--max-steps",
                 "4", "--eval-split", "0")
    assert result.exit_code == 0, result.output
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == 4


def test_resume_refuses_a_directory_train_did_not_write(tmp_path):
    """Found by an outsider: --resume into a user's folder holding a copied checkpoint
    replaced its README.md, config.yaml, metrics.jsonl and removed.jsonl."""
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(16, filler=False))
    run_dir = tmp_path / "run"
    train_sft(SFTOptions(data=data, output=run_dir, max_steps=2, save_steps=1, eval_split=0))
    mine = tmp_path / "mine"
    (mine / "checkpoints").mkdir(parents=True)
    shutil.copytree(run_dir / "checkpoints" / "checkpoint-2", mine / "checkpoints" / "checkpoint-2")
    notes = {"README.md": "my notes", "config.yaml": "my: config\n",
             "metrics.jsonl": '{"my": "metrics"}\n', "removed.jsonl": '{"mine": 1}\n'}
    for name, text in notes.items():
        (mine / name).write_text(text)
    for extra in ((), ("--force",)):
        result = run("sft", "--data", data, "-o", mine, "--resume", "--max-steps", "3",
                     "--eval-split", "0", *extra)
        assert result.exit_code == 1
        assert "not a run directory written by `train`" in message(result)
        assert "refusing to resume into it" in message(result)
    assert {name: (mine / name).read_text() for name in notes} == notes
    assert sorted(p.name for p in mine.iterdir()) == sorted([*notes, "checkpoints"])


def test_zero_steps_is_an_error_not_one_step(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(4))
    result = run("sft", "--data", data, "-o", tmp_path / "run", "--max-steps", "0")
    assert result.exit_code == 1
    assert "field 'max_steps': 0 steps would train nothing" in message(result)
    assert not (tmp_path / "run").exists()


def test_a_log_file_gets_plain_progress_lines(tmp_path, monkeypatch):
    """Outside a terminal (nohup, Slurm) progress is printed as plain lines (every 10 s;
    here every update), for reading the data and tokenising as well as for training."""
    monkeypatch.setenv("PREFKIT_PROGRESS_INTERVAL", "0")
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(20))
    result = run("sft", "--data", data, "-o", tmp_path / "run", "--max-steps", "3",
                 "--eval-split", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(f"[train] read {data} 20 records") for line in lines)
    assert any(line.startswith("[train sft] tokenise 20/20 records") for line in lines)
    steps = [line for line in lines if line.startswith("[train sft] step ")]
    assert steps[-1].startswith("[train sft] step 3/3") and "steps/s" in steps[-1] or \
        "s/step" in steps[-1]
    assert "loss=" in steps[-1] and "\x1b" not in result.output  # no terminal escapes


def test_warnings_reach_stderr_and_the_summary(tmp_path):
    rows = sum_conversations(8, filler=False)
    rows[2]["messages"][1]["content"] = ""
    data = write_jsonl(tmp_path / "sft.jsonl", rows)
    result = run("sft", "--data", data, "-o", tmp_path / "run", "--max-steps", "1",
                 "--eval-split", "0")
    assert result.exit_code == 0, result.output
    assert "warning: 1 records have an empty assistant turn" in message(result)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["data"]["empty_assistant_turns"] == 1
    assert summary["warnings"][0].startswith("1 records have an empty assistant turn")


def test_a_run_whose_curves_fail_still_ends_with_its_summary(tmp_path, monkeypatch):
    """Found by an outsider: killing the drawing child (`python -m train.plots`) made a run
    that had trained and saved its model end in a traceback, without summary.json."""
    import sys

    from train.plots import Plotter

    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"
    monkeypatch.setattr(Plotter, "COMMAND", (sys.executable, "-c", suicide))
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(8, filler=False))
    run_dir = tmp_path / "run"
    summary = train_sft(SFTOptions(data=data, output=run_dir, max_steps=2, eval_split=0))
    warning = "the curves (loss.png) were not drawn: the drawing process was killed (signal 9)"
    assert warning in summary["warnings"]
    assert json.loads((run_dir / "summary.json").read_text())["steps"] == 2
    assert (run_dir / "model.safetensors").exists() and not (run_dir / "loss.png").exists()


def test_curves_are_drawn_by_the_child(tmp_path):
    from train.plots import Plotter

    failures = []
    plots = Plotter(enabled=True, on_failure=failures.append)
    rows = [{"step": s, "loss": 2.0 / s} for s in range(1, 6)]
    with plots.drawing(rows, tmp_path, "sft", "a title"):
        pass
    plots.close()
    assert failures == []
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
