"""Running `label` as an operator does (issue 16): one-line failures, the README's commands
as written, progress in logs, a readable report, and backups of a live database."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from typer.testing import CliRunner

from labeling_app.cli import app
from labeling_app.plots import length_curve_figure
from labeling_app.store import Store

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-enough-password"
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
                 if Path(p).exists()), None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
runner = CliRunner()


def _env(**extra: str) -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "GRADIO_ANALYTICS_ENABLED": "False", **extra}


def _label(*args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
    """`label ...` in a subprocess: stderr is a pipe, not a terminal, as under nohup."""
    return subprocess.run([sys.executable, "-m", "labeling_app.cli", *args], cwd=cwd,
                          input=stdin, capture_output=True, text=True, env=_env(**env),
                          timeout=300, check=False)


@pytest.fixture
def db(tmp_path, make_items) -> Path:
    path = tmp_path / "labels.sqlite"
    with Store(path, create=True) as store:
        store.add_items(make_items(12), overlap=2)
        store.add_user("boss", role="admin", password=PASSWORD)
    return path


# -- every failure is one line --------------------------------------------------------------

def test_failures_end_in_one_error_line_and_exit_1(tmp_path, db):
    (tmp_path / "corrupt.sqlite").write_bytes(b"SQLite format 3\x00" + os.urandom(2000))
    (tmp_path / "afile").write_text("x")
    (tmp_path / "latin1.csv").write_bytes(b"item_id,user,choice,len_a,len_b\nx,caf\xe9,a,1,2\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        cases = [
            (["export", "-d", "missing.sqlite", "-o", "x.jsonl"], "missing.sqlite: no such"),
            (["export", "-d", "corrupt.sqlite", "-o", "x.jsonl"], "corrupt.sqlite: not a"),
            (["export", "-d", str(db), "-o", "afile/x.jsonl"], "afile: is a file"),
            (["report", "latin1.csv"], "latin1.csv:2: invalid UTF-8 byte"),
            (["users", "add", "ann", "--role", "annotator"], "Missing option '--db'"),
            (["export", "-d", str(db), "-o", "x.jsonl", "--simulated"], "No such option"),
            (["serve", "-d", str(db), "--port", port], f"port {port} on 127.0.0.1 already in use"),
            (["backup", "-d", str(db), str(db)], "exists"),
            (["users", "disable", "nobody", "-d", str(db)], "no user 'nobody'"),
        ]
        for args, message in cases:
            result = _label(*args, cwd=tmp_path)
            lines = result.stderr.strip().splitlines()
            assert result.returncode == 1, (args, result.stderr)
            assert len(lines) == 1 and lines[0].startswith("error:"), (args, result.stderr)
            assert message in lines[0], (args, lines[0])


# -- the README's commands, as written ------------------------------------------------------

def _readme_label_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [body for language, body in re.findall(r"```(\w*)\n(.*?)```", text, flags=re.DOTALL)
              if language in ("", "bash", "sh")]
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("label "):
                commands.append(line)
    return commands


def test_every_label_command_in_the_readme_runs_as_written(tmp_path, make_items):
    """Each `label` line of the README's shell blocks, in order, in one folder holding the
    files they name; an endpoint URL is pointed at the OpenAI-compatible stub of the judge
    tests (as `serve`'s port is pointed at a free one)."""
    from http.server import ThreadingHTTPServer

    from .test_judge import Stub
    from .test_multi_store import multi_items

    commands = _readme_label_commands()
    assert any(c.startswith("label users add") for c in commands)
    assert any(c.startswith("label backup") for c in commands)
    assert any(c.startswith("label judge") and "--judge-url" in c for c in commands)
    items = [json.loads(item.model_dump_json()) for item in make_items(6)]
    (tmp_path / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    (tmp_path / "ranking.jsonl").write_text("".join(item.model_dump_json() + "\n"
                                                    for item in multi_items(3)))
    stub = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    try:
        for command in commands:
            args = shlex.split(command)[1:]
            if "$" in command:  # an example with a variable (e.g. "$PASSWORD"): give it a value
                args = [arg.replace("$PASSWORD", PASSWORD) for arg in args]
            if "--judge-url" in args:
                args[args.index("--judge-url") + 1] = f"http://127.0.0.1:{stub.server_port}/v1"
                args[args.index("--judge-model") + 1] = "stub-longer"
            if args[0] == "serve":
                _serve_starts(args, tmp_path)
                continue
            result = _label(*args, cwd=tmp_path, stdin=PASSWORD + "\n")
            assert result.returncode == 0, (command, result.stderr)
    finally:
        stub.shutdown()
        stub.server_close()


def _serve_starts(args: list[str], cwd: Path) -> None:
    """Start `label serve` as written (on a free port instead of the README's), wait for it
    to answer, stop it with SIGTERM."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = str(probe.getsockname()[1])
    if "--port" in args:
        args[args.index("--port") + 1] = free
    else:
        args += ["--port", free]
    process = subprocess.Popen([sys.executable, "-m", "labeling_app.cli", *args], cwd=cwd,
                               env=_env(), stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        while not seen or "label serve:" not in seen[-1]:  # warnings may come first
            seen.append(process.stderr.readline())
            assert seen[-1], (args, seen)  # the process ended without serving
        assert f":{free}/" in seen[-1], (args, seen)
    finally:
        process.send_signal(signal.SIGTERM)
        rest = process.communicate(timeout=30)[1]
    assert process.returncode == 0 and "Traceback" not in rest, rest


# -- progress in logs -----------------------------------------------------------------------

def test_long_commands_print_plain_progress_lines_outside_a_terminal(tmp_path, make_items):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(i.model_dump_json() + "\n" for i in make_items(30)))
    db = str(tmp_path / "labels.sqlite")
    steps = [(["import", str(items), "-d", db], "[label import] validating items"),
             (["simulate", "-d", db, "--labelers", "3"], "[label simulate] simulated votes"),
             (["export", "-d", db, "-o", "prefs.jsonl", "--include-simulated"],
              "[label export] pairs"),
             (["report", "-d", db, "--json", "--include-simulated"],
              "[label report] reading and computing")]
    for args, line in steps:
        result = _label(*args, cwd=tmp_path, PREFKIT_PROGRESS_INTERVAL="0")
        assert result.returncode == 0, result.stderr
        assert line in result.stderr, (args, result.stderr)
        assert "\x1b[" not in result.stderr  # no terminal control codes in a log


# -- a report a person can read -------------------------------------------------------------

def test_the_length_curve_is_points_with_intervals_and_says_when_n_is_small(tmp_path, db):
    with Store(db) as store:
        for user in ("u1", "u2"):
            store.add_user(user)
            while (lease := store.next_assignment(user)) is not None:
                store.submit(user, lease.lease_id, "left", guideline_version="1")
    result = runner.invoke(app, ["report", "-d", str(db), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert "Only 24 votes: the intervals are wide" in page
    summary = json.loads((tmp_path / "r.json").read_text())
    assert len(summary["length_curve"]) == 3  # ~30 votes a bin at least, not 10 noisy bins
    figure = length_curve_figure(summary["length_curve"])
    (points,) = figure.axes[0].lines[:1]
    assert points.get_linestyle() == "None" and points.get_marker() == "o"
    assert any("too few" in text.get_text() for text in figure.axes[0].texts)


def test_the_html_report_fits_a_1366_px_window(tmp_path, db):
    """Many labelers with long names: the tables scroll in their box, the page never does."""
    assert CHROMIUM, "Debian's chromium is not installed (apt-get install -y chromium)"
    with Store(db) as store:
        for i in range(6):
            name = f"labeler-with-a-rather-long-name-{i:02d}"
            store.add_user(name)
            while (lease := store.next_assignment(name)) is not None:
                store.submit(name, lease.lease_id, "left" if i % 2 else "right",
                             guideline_version="1")
    report = tmp_path / "report.html"
    assert runner.invoke(app, ["report", "-d", str(db), "-o", str(report)]).exit_code == 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.goto(report.as_uri())
        width = page.evaluate("document.documentElement.scrollWidth")
        image = page.evaluate("[...document.images].map(i => i.getBoundingClientRect().right)")
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        page.screenshot(path=artifacts / "label_report_1366.png", full_page=True)
        browser.close()
    assert width <= 1366 and all(right <= 1366 for right in image)


# -- backups of a live database -------------------------------------------------------------

def test_backup_of_a_database_being_written_is_consistent_and_complete(tmp_path, make_items):
    """A writer votes in a loop while `label backup` copies the database, several times.
    Each copy is a consistent snapshot, and the last one has every vote, although they
    sit in the -wal file (a `cp` of the main file has none of them)."""
    db = tmp_path / "labels.sqlite"
    with Store(db, create=True) as store:
        store.add_items(make_items(300), overlap=1)
        store.add_user("writer")
    stop, written = threading.Event(), []
    server = Store(db)  # open all along, as `label serve` is: the -wal file is not folded in
    server._conn()  # this thread's connection stays open until the end

    def write() -> None:
        server._conn().execute("PRAGMA wal_autocheckpoint = 0")  # every vote stays in -wal
        while not stop.is_set() and (lease := server.next_assignment("writer")):
            server.submit("writer", lease.lease_id, "left", guideline_version="1")
            written.append(lease.item.id)

    writer = threading.Thread(target=write)
    writer.start()
    copies = []
    try:
        while len(written) < 20 and writer.is_alive():  # copy a database that has votes
            time.sleep(0.01)
        for i in range(4):
            target = tmp_path / f"copy-{i}.sqlite"
            before = len(written)
            result = runner.invoke(app, ["backup", "-d", str(db), str(target)])
            assert result.exit_code == 0, result.output
            copies.append((target, before, len(written)))
    finally:
        stop.set()
        writer.join()
    for target, before, after in copies:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            votes = conn.execute("SELECT count(*) FROM judgments").fetchone()[0]
            done = conn.execute("SELECT coalesce(sum(done), 0) FROM items").fetchone()[0]
            complete = conn.execute("SELECT value FROM counters WHERE name = "
                                    "'items_complete'").fetchone()[0]
        assert before <= votes <= after + 1  # at least what was acknowledged before
        assert done == complete == votes  # no vote half-copied
        assert not Path(f"{target}-wal").exists()  # one self-contained file
        assert oct(target.stat().st_mode & 0o777) == "0o600"
    final = tmp_path / "final.sqlite"
    assert runner.invoke(app, ["backup", "-d", str(db), str(final)]).exit_code == 0
    naive = tmp_path / "cp.sqlite"
    shutil.copy(db, naive)  # what `cp labels.sqlite backup.sqlite` does
    count = "SELECT count(*) FROM judgments"
    server.close()
    with sqlite3.connect(final) as good, sqlite3.connect(naive) as bad:
        assert good.execute(count).fetchone()[0] == len(written) > 0
        assert bad.execute(count).fetchone()[0] < len(written)


def test_report_takes_the_database_with_d_and_still_accepts_it_as_an_argument(db):
    new = runner.invoke(app, ["report", "-d", str(db), "--json"])
    old = runner.invoke(app, ["report", str(db), "--json"])
    assert new.exit_code == old.exit_code == 0
    assert json.loads(new.stdout)["n_pairs"] == json.loads(old.stdout)["n_pairs"] == 0
    assert "deprecated" in old.stderr and "deprecated" not in new.stderr
    both = runner.invoke(app, ["report", str(db), "-d", str(db)])
    assert both.exit_code == 1 and "not both" in both.output
