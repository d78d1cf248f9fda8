"""Every command in the README's ```bash blocks runs as written (issue 16).

The commands run in order, through bash, in one working folder, as a reader following the
README would run them. The files they name are made there from the built-in samples
(`SAMPLES`), so no command is rewritten; the only change to a command line is the port of
`label serve` (a free one instead of 7860). What cannot run here is listed in `EXCLUDED` with
the reason. While `label serve` runs, three labelers vote (`labelers_vote`), standing in
for people in the browser, so that `label report` and `label export` have judgments.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
README = REPO_ROOT / "README.md"
SAMPLES_DIR = REPO_ROOT / "curate" / "samples"
PASSWORD = "a-long-enough-password"  # stdin of `label users add` (12+ characters)

# A file the README names -> the built-in sample it is made from.
SAMPLES = {
    "oasst_trees.jsonl": "oasst_trees.jsonl",
    "hh_rlhf.jsonl.gz": "hh.jsonl",  # gzipped
    "math500_test.jsonl": "eval_set.jsonl",
    "gsm8k_test.jsonl": "eval_set.jsonl",
    "alpaca-7b_outputs.json": "model_a.jsonl",  # as a JSON array, like AlpacaEval's files
    "llama-2-7b-chat-hf_outputs.json": "model_b.jsonl",
}
# MATH-style problems (problem, solution, subject, level) are not among the samples: the
# real MATH-500 file of the project's data folder stands in for `math.jsonl`.
REAL_DATA = {"math.jsonl": "math500_test.jsonl"}
# The recipes and samples the README's recipe names, as in a checkout.
CHECKOUT = ("recipes", "curate/samples")

EXCLUDED = {  # command as written -> why it does not run here
    "make demo": "installs .venv (minutes); tests/test_demo.py runs it",
    "make test": "runs this whole suite",
    "source .venv/bin/activate": "the tests already run inside the project's environment",
    # Several machines (HEAD_IP, storage every node sees at /shared); the Ray engine runs on a
    # real two-node cluster on one machine in tests/curate/test_ray_engine.py.
    "ray start --head --port 6379": "a cluster's head node",
    "ray start --address HEAD_IP:6379": "another machine joining the head node HEAD_IP",
    "RAY_ADDRESS=HEAD_IP:6379 curate run recipes/web_text_cleaning.yaml -o /shared/runs/web "
    "--engine ray": "a cluster at HEAD_IP with shared storage at /shared",
    # An OpenAI-compatible server; tests/labeling_app/test_operations.py runs this line
    # against a local stub of that API, and the quick tour's `label judge --judge tiny` here.
    "label judge -d labels.sqlite --judge-url http://localhost:8000/v1 --judge-model "
    "Qwen2.5-7B-Instruct": "an OpenAI-compatible endpoint at localhost:8000",
}
# Commands the README says are refused, with the line their error must name.
REFUSED = {
    "label users remove ann -d labels.sqlite": "ann",  # "refused while ann has judgments"
}
PORT = re.compile(r"--port \d+")


def readme_commands(text: str) -> list[str]:
    """The commands of every ```bash block: continuation lines joined, comments and blank
    lines dropped (a `#` starts a comment only at a line's start or after a space)."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        for command in re.sub(r"\\\n\s*", "", block).splitlines():
            command = re.split(r"(?:^|\s)#", command, maxsplit=1)[0].strip()
            if command:
                commands.append(command)
    return commands


def test_readme_commands_are_extracted_whole():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    select = next(c for c in commands if c.startswith("curate select"))
    assert select.endswith("-d column:level -d length")  # the continuation line joined
    assert "make demo" in commands and "curate stats sft.jsonl" in commands
    assert not any("#" in command for command in commands)
    outputs = [c.split(" -o ")[1].split()[0] for c in commands
               if c.startswith("curate convert") and " -o " in c]
    assert len(outputs) == len(set(outputs))  # no command overwrites an earlier one's output


def _environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
            "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}


def _make_inputs(folder: Path, shared_data: Path) -> None:
    for name, sample in SAMPLES.items():
        source = SAMPLES_DIR / sample
        if name.endswith(".gz"):
            (folder / name).write_bytes(gzip.compress(source.read_bytes()))
        elif name.endswith(".json"):
            rows = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines()]
            (folder / name).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        else:
            shutil.copyfile(source, folder / name)
    for name, real in REAL_DATA.items():
        shutil.copyfile(shared_data / real, folder / name)
    for part in CHECKOUT:
        shutil.copytree(REPO_ROOT / part, folder / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.py"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_briefly(command: str, folder: Path) -> None:
    """Start `label serve` as written (on a free port), wait until it answers HTTP, stop it
    with SIGTERM; it must not crash."""
    port = _free_port()
    command = PORT.sub(f"--port {port}", command)
    process = subprocess.Popen(["bash", "-c", f"exec {command}"], cwd=folder,
                               env=_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (command, process.stdout.read())
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except urllib.error.HTTPError:
                break  # it answered (a login redirect or refusal is an answer)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                assert time.monotonic() < deadline, f"{command}: no answer in 120 s"
                time.sleep(0.5)
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=60)[0]
    assert process.returncode in (0, -signal.SIGTERM), (command, output)
    assert "Traceback" not in output, output


def labelers_vote(folder: Path) -> None:
    """ann (added by the README) and two more labelers each vote on every item, always for
    the concise model A, through the store the server writes to."""
    from labeling_app.store import Store

    with Store(folder / "labels.sqlite") as store:
        for name in ("ann", "bo", "cy"):
            if store.role(name) is None:
                store.add_user(name, password=PASSWORD)
            while (assignment := store.next_assignment(name)) is not None:
                want = "a" if assignment.item.source_a == "sample-model-a" else "b"
                shown = "left" if assignment.left == want else "right"
                store.submit(name, assignment.lease_id, shown, guideline_version="readme")


def run_command(command: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", command], cwd=folder, env=_environment(),
                          input=f"{PASSWORD}\n{PASSWORD}\n", capture_output=True, text=True,
                          check=False, timeout=600)


def test_every_readme_command_runs_as_written(tmp_path, shared_data):
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert any(c.startswith("train ppo") for c in commands)
    _make_inputs(tmp_path, shared_data)
    ran, timings = [], []
    for command in commands:
        if command in EXCLUDED:
            continue
        started = time.monotonic()
        if command.startswith("label serve"):
            serve_briefly(command, tmp_path)
            labelers_vote(tmp_path)
        else:
            result = run_command(command, tmp_path)
            if command in REFUSED:
                assert result.returncode == 1 and REFUSED[command] in result.stderr, command
            else:
                assert result.returncode == 0, (command, result.stdout[-2000:],
                                                result.stderr[-3000:])
                assert "Traceback" not in result.stderr, (command, result.stderr[-3000:])
        ran.append(command)
        timings.append((round(time.monotonic() - started, 1), command))
    print("\n".join(f"{seconds:6.1f} s  {command}" for seconds, command in timings))
    assert set(EXCLUDED) <= set(commands)  # an exclusion that no longer matches is stale
    _check_outputs(tmp_path)


def _check_outputs(folder: Path) -> None:
    """What the commands were for: each output exists and holds what its command says."""
    from curate.io import read_records

    def count(name: str) -> int:
        return sum(1 for _ in read_records(str(folder / name)))

    stats = json.loads((folder / "sft.stats.json").read_text())  # -o sft.jsonl -> sft.stats.json
    assert stats["out"] == count("sft.jsonl") == 12  # one rank-0 thread per sample tree
    assert count("hh_pairs.jsonl") == 31 and count("pairs.jsonl") > 12
    assert (folder / "runs/alpaca/report.html").stat().st_size > 10_000
    prefs = list(read_records(str(folder / "prefs.jsonl")))
    assert prefs and all(p["meta"]["agreement"] >= 0.6 for p in prefs)
    assert "label_report.html" in os.listdir(folder)
    for run in ("sft", "rm", "dpo", "ppo"):
        summary = json.loads((folder / "runs" / run / "summary.json").read_text())
        assert summary["wall_s"] > 0 and (folder / "runs" / run / "config.yaml").exists(), run
