"""Labeling app under load, and the admin dashboard's metrics at 100k judgments.

1. Votes over HTTP. N in {1, 10, 50} simulated labelers log in and vote at once against
   `label serve`'s app (SQLite store, leases, overlap 3, auth), run in its own process.
   Each labeler is an async client calling the endpoints as Gradio's browser client does
   (votes and page loads are `queue=False` events: one POST each); a vote's latency is
   from the request to the response. Two loads:
   * paced: each labeler thinks 1 to 3 s (uniform) before each vote. Real labelers are
     slower still: the server refuses votes sooner than `--min-seconds` (3 s by default)
     after the item appears. This is the load the p95 target is about.
   * flat out: no thinking at all, every labeler votes as fast as the server answers: the
     throughput ceiling (latency is then N / throughput, by Little's law).
   Reported: p50 / p95 vote latency, votes/s, lost votes (acknowledged but not in the
   database), duplicate (item, user) rows and overfilled items.
   Peer, same run, same N, same think times, same payload sizes: a Gradio app whose vote
   handler does nothing (no database): the floor Gradio itself sets. Ratio = ours / floor.

2. Lost votes at the storage layer: N threads x V votes written to prefkit's store vs a
   JSON-list file rewritten per vote without a lock, and vs one JSON line appended per vote
   (Chatbot Arena's way: fastchat opens its log in append mode for each vote).

3. Login flood: 50 paced labelers vote while an unauthenticated client floods `/login` with
   wrong passwords on 48 connections (a separate process), from one address (the per-address
   limit answers it at once) and from many (X-Forwarded-For rotated through the trusted proxy
   address: every attempt is hashed until the hashing queue is full). Reported: p50 / p95 vote
   latency, login attempts per second, how many were checked (a hash) or refused without one.
   Peers, same run: the same server and labelers with no flood (ratio = flood / idle), and the
   app behind Gradio's own `launch(auth=...)` (how prefkit logged in before: scrypt in the
   request thread pool, no limits) under the same flood.

4. Dashboard metrics for 100k judgments (50 labelers, K = 3, 5 source models): reading
   them from the database plus `metrics.summarize` (agreement, kappa per labeler pair,
   Krippendorff's alpha nominal and ordinal, length bias with bootstrap CI, the length
   curve, the length-controlled model, per-labeler table). Peers on the same votes:
   the `krippendorff` package's alpha (dense labelers x items matrix) and sklearn's
   `cohen_kappa_score` called per labeler pair.

5. Rankings (K = 4) and ratings (K = 4 responses, 3 criteria and flags) over HTTP: N paced
   labelers submit as in 1, against the ranking and the ratings tabs. Reported as in 1
   (lost, duplicated, overfilled included). Peer, same run: a Gradio app with the same
   submit endpoint (inputs and outputs) whose handler does nothing.

6. Dashboard metrics for 100k ranking judgments and 100k ratings judgments (K = 4, 50
   labelers, overlap 3): `summary.database_summary`, which reads the votes, expands each
   into its 6 pair votes and computes everything of 4 plus Kendall's W, or alpha per
   criterion. Peers on the same votes: the plain Python loop that expands votes into pair
   votes one by one (rankings), and the `krippendorff` package's alpha per criterion
   (ratings).

    python benchmarks/label_bench.py
    python benchmarks/label_bench.py --labelers 1 10 --votes 10 --judgments 20000
    python benchmarks/label_bench.py --sections flood
    python benchmarks/label_bench.py --sections multi-http multi-metrics --labelers 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import itertools
import json
import multiprocessing
import os
import random
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

import httpx
import numpy as np

from curate.io import Rejects, read_rows
from curate.pairs import PairsOptions, pair_outputs
from labeling_app.store import Store
from schemas.labeling import Item

PASSWORD = "bench-password-long"
OVERLAP = 3
SCALE = ("left_much", "left", "tie", "right", "right_much")
SECTIONS = ["http", "storage", "flood", "metrics", "multi-http", "multi-metrics"]
K = 4
DASHBOARD_REPEATS = 5


# -- items ----------------------------------------------------------------------------------

def alpaca_items(count: int) -> list[Item]:
    """Real A/B items (AlpacaEval: alpaca-7b vs llama-2-7b-chat), repeated to `count`."""
    folder = DATA / "alpaca_eval"
    tables = [list(read_rows(folder / name)) for name in
              ("alpaca-7b_outputs.json", "llama-2-7b-chat-hf_outputs.json")]
    base = pair_outputs(*tables, PairsOptions(), names=("a", "b"), rejects=Rejects()).kept
    return [Item.model_validate(base[i % len(base)] | {"id": f"{base[i % len(base)]['id']}-{i}"})
            for i in range(count)]


# -- servers (each in its own process) ------------------------------------------------------

def _serve_prefkit(db: str, pipe) -> None:
    from labeling_app.app import LabelingApp, launch, load_guidelines

    store = Store(db)
    running = launch(LabelingApp(store, load_guidelines(), min_seconds=0))
    pipe.send(running.url)
    pipe.recv()
    running.close()


def _serve_gradio_auth(db: str, pipe) -> None:
    """The same app behind Gradio's own login, as prefkit served it before its guard: the
    password check (scrypt) runs in the request thread pool, with no rate limit."""
    import anyio

    from labeling_app.app import LabelingApp, load_guidelines

    store = Store(db)
    blocks = LabelingApp(store, load_guidelines(), min_seconds=0).blocks()
    blocks.queue(default_concurrency_limit=2)

    async def check_login(username: str, password: str) -> bool:
        return await anyio.to_thread.run_sync(store.check_password, username, password)

    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True, ssr_mode=False,
                              auth=check_login)
    pipe.send(url)
    pipe.recv()
    with contextlib.redirect_stdout(io.StringIO()):  # "Closing server running on port ..."
        blocks.close()


def _serve_noop(texts: tuple[str, str, str], users: list[str], pipe) -> None:
    """Gradio with the same endpoints and payloads, and handlers that do nothing."""
    import gradio as gr

    from labeling_app.app import LabelingApp

    def view(*_):  # the same outputs as prefkit's handlers return, with no work behind them
        return (None, *texts, "counter", "Saved.", "", *(gr.update(interactive=True)
                                                         for _ in range(7)))

    with gr.Blocks() as blocks:
        lease = gr.State(None)
        prompt, left, right, counter, message = (gr.Markdown() for _ in range(5))
        rationale = gr.Textbox()
        buttons = [gr.Button(str(i)) for i in range(7)]
        outputs = [lease, prompt, left, right, counter, message, rationale, *buttons]
        blocks.load(view, None, outputs, api_name="load", queue=False)
        for shown, button in zip(SCALE, buttons, strict=False):
            button.click(view, [lease, rationale], outputs, api_name=f"vote_{shown}",
                         queue=False, **LabelingApp.RAW_VALUES)
    blocks.queue(default_concurrency_limit=2)
    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True, ssr_mode=False,
                              auth=[(user, PASSWORD) for user in users])
    pipe.send(url)
    pipe.recv()
    with contextlib.redirect_stdout(io.StringIO()):
        blocks.close()


class Server:
    def __init__(self, target, *args) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipe, child = context.Pipe()
        self.process = context.Process(target=target, args=(*args, child), daemon=True)

    def __enter__(self) -> str:
        self.process.start()
        return self.pipe.recv()

    def __exit__(self, *exc) -> None:
        self.pipe.send("stop")
        self.process.join(timeout=30)


# -- the labelers ---------------------------------------------------------------------------

class Labeler:
    """One browser-like session: login cookie, then join + SSE stream per event."""

    def __init__(self, url: str, user: str) -> None:
        self.url, self.user = url, user
        self.http = httpx.AsyncClient(timeout=120)
        self.session = secrets.token_hex(8)
        self.endpoints: dict[str, int] = {}

    async def login(self) -> None:
        response = await self.http.post(f"{self.url}login",
                                        data={"username": self.user, "password": PASSWORD})
        response.raise_for_status()
        config = (await self.http.get(f"{self.url}config")).json()
        self.endpoints = {d["api_name"]: d["id"] for d in config["dependencies"]
                          if d.get("api_name")}
        self.direct = {d["api_name"] for d in config["dependencies"] if d.get("queue") is False}

    async def call(self, endpoint: str, data: list) -> tuple[list, float]:
        started = time.perf_counter()
        if endpoint in self.direct:  # queue=False: one POST, as Gradio's browser client does
            response = await self.http.post(f"{self.url}gradio_api/run/{endpoint}", json={
                "data": data, "session_hash": self.session, "event_data": None,
                "fn_index": self.endpoints[endpoint], "trigger_id": None})
            response.raise_for_status()
            return response.json()["data"], time.perf_counter() - started
        join = await self.http.post(f"{self.url}gradio_api/queue/join", json={
            "data": data, "fn_index": self.endpoints[endpoint], "session_hash": self.session,
            "event_data": None, "trigger_id": None})
        join.raise_for_status()
        event = join.json()["event_id"]
        async with self.http.stream("GET", f"{self.url}gradio_api/queue/data",
                                    params={"session_hash": self.session}) as stream:
            async for line in stream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed" and message["event_id"] == event:
                    if not message.get("success"):
                        raise RuntimeError(f"{self.user}: {message}")
                    return message["output"]["data"], time.perf_counter() - started
        raise RuntimeError(f"{self.user}: the stream closed before the result")


async def run_labelers(url: str, users: list[str], votes_each: int, seed: int,
                       think: tuple[float, float] | None, on_ready=None) -> dict:
    """Every labeler logs in and loads its first item (not timed), then votes `votes_each`
    times, thinking `think` seconds (uniform) before each vote when given. `on_ready` runs
    once all are logged in, before the first vote."""
    labelers = [Labeler(url, user) for user in users]
    await asyncio.gather(*(labeler.login() for labeler in labelers))
    screens = await asyncio.gather(*(labeler.call("load", []) for labeler in labelers))
    if on_ready:
        on_ready()
    latencies: list[float] = []
    acknowledged: dict[str, int] = {}
    failed = 0

    async def work(labeler: Labeler, rng: random.Random, data: list) -> None:
        nonlocal failed
        count = tries = 0
        while data[2] and count < votes_each and tries < 3 * votes_each:  # data[2]: left pane
            tries += 1
            if think:
                await asyncio.sleep(rng.uniform(*think))
            try:
                data, seconds = await labeler.call(f"vote_{rng.choice(SCALE)}", [None, ""])
            except (httpx.HTTPError, RuntimeError):  # a dropped or refused vote: counted
                failed += 1
                continue
            latencies.append(seconds)
            count += data[5] == "Saved."
        acknowledged[labeler.user] = count

    wall = await _drive(labelers, screens, work, seed)
    return _latencies(latencies, failed, acknowledged, wall)


async def _drive(labelers: list, screens: list, work, seed: int) -> float:
    """Run every labeler's `work(labeler, rng, first_screen)` at once; close their clients;
    the wall-clock seconds."""
    started = time.perf_counter()
    await asyncio.gather(*(work(labeler, random.Random(seed + i), data)
                           for i, (labeler, (data, _)) in enumerate(zip(labelers, screens,
                                                                        strict=True))))
    wall = time.perf_counter() - started
    for labeler in labelers:
        await labeler.http.aclose()
    return wall


def _latencies(latencies: list[float], failed: int, acknowledged: dict, wall: float) -> dict:
    return {"votes": len(latencies), "failed": failed, "acknowledged": acknowledged, "wall": wall,
            "p50": float(np.percentile(latencies, 50)) * 1000,
            "p95": float(np.percentile(latencies, 95)) * 1000}


def fresh_database(folder: Path, items: list[Item], users: list[str]) -> Path:
    db = folder / f"labels-{len(users)}-{secrets.token_hex(3)}.sqlite"
    with Store(db, create=True) as store:
        store.add_items(items, overlap=OVERLAP)
        for user in users:
            store.add_user(user, password=PASSWORD)
    return db


def http_benchmark(labeler_counts: list[int], votes_each: int, folder: Path,
                   think: tuple[float, float]) -> None:
    most = max(labeler_counts)
    items = alpaca_items(max(200, -(-most * votes_each * 3 // OVERLAP) * 2))
    texts = (items[0].prompt, items[0].response_a, items[0].response_b)
    print(f"\n1. Votes over HTTP ({len(items)} AlpacaEval items, overlap {OVERLAP}; server in its "
          f"own process; paced = {think[0]:g} to {think[1]:g} s of thinking before each vote)")
    print(f"{'load':>8} {'N':>3} {'votes':>6} {'p50 ms':>8} {'p95 ms':>8} {'votes/s':>8} "
          f"{'lost':>5} {'dup':>4} {'over':>5} | {'floor p50':>9} {'floor p95':>9} "
          f"{'floor v/s':>9} | {'p50 x':>6} {'p95 x':>6} {'v/s x':>6}")
    for mode, pause in (("paced", think), ("flat out", None)):
        for n in labeler_counts:
            users = [f"labeler-{i:02d}" for i in range(n)]
            votes = votes_each * (3 if n == 1 else 1)  # enough samples for a p95 at N = 1
            db = fresh_database(folder, items, users)
            with Server(_serve_prefkit, str(db)) as url:
                ours = asyncio.run(run_labelers(url, users, votes, n, pause))
            with Server(_serve_noop, texts, users) as url:
                floor = asyncio.run(run_labelers(url, users, votes, n, pause))
            lost, duplicates, overfilled = audit(db, ours["acknowledged"])
            rate, floor_rate = ours["votes"] / ours["wall"], floor["votes"] / floor["wall"]
            print(f"{mode:>8} {n:>3} {ours['votes']:>6} {ours['p50']:>8.1f} {ours['p95']:>8.1f} "
                  f"{rate:>8.1f} {lost:>5} {duplicates:>4} {overfilled:>5} | "
                  f"{floor['p50']:>9.1f} {floor['p95']:>9.1f} {floor_rate:>9.1f} | "
                  f"{ours['p50'] / floor['p50']:>6.2f} {ours['p95'] / floor['p95']:>6.2f} "
                  f"{rate / floor_rate:>6.2f}")
    print("floor: the same Gradio endpoints with handlers that do nothing (no database); "
          "x = prefkit / floor")


# -- login flood ----------------------------------------------------------------------------

def _flood(url: str, connections: int, rotate: bool, flooding, stop, pipe) -> None:
    """Wrong-password logins for random names on `connections` connections until `stop`;
    sets `flooding` at the first answer; sends back the count of each status code and the
    seconds flooded."""
    async def worker(http: httpx.AsyncClient, counts: dict, rng: random.Random) -> None:
        while not stop.is_set():
            headers = {"X-Forwarded-For": f"10.{rng.randrange(256)}.{rng.randrange(256)}."
                       f"{rng.randrange(1, 255)}"} if rotate else {}
            try:
                response = await http.post(f"{url}login", headers=headers, data={
                    "username": f"user{rng.randrange(10_000)}", "password": "wrong-guess"})
                counts[response.status_code] = counts.get(response.status_code, 0) + 1
                flooding.set()
            except httpx.HTTPError:
                counts["error"] = counts.get("error", 0) + 1

    async def main() -> tuple[dict, float]:
        counts: dict = {}
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        started = time.perf_counter()
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            await asyncio.gather(*(worker(http, counts, random.Random(i))
                                   for i in range(connections)))
        return counts, time.perf_counter() - started

    pipe.send(asyncio.run(main()))


def _start_flood(flood, flooding) -> None:
    """The labelers vote once the flood is under way (its start-up is not measured)."""
    flood.start()
    flooding.wait(60)


def flood_benchmark(items: list[Item], n: int, votes_each: int, folder: Path,
                    think: tuple[float, float], connections: int = 48) -> None:
    users = [f"labeler-{i:02d}" for i in range(n)]
    print(f"\n3. Login flood: {n} paced labelers vote while an unauthenticated client floods "
          f"/login on {connections} connections (wrong passwords, random names)")
    print(f"{'server':<44} {'flood from':<15} {'votes':>5} {'failed':>6} {'p50 ms':>7} "
          f"{'p95 ms':>8} {'logins/s':>8} {'hashed':>7} {'refused':>7} {'lost':>4}")
    context = multiprocessing.get_context("spawn")
    idle_p95 = None
    runs = [("prefkit", _serve_prefkit, None), ("prefkit", _serve_prefkit, False),
            ("prefkit", _serve_prefkit, True),
            ("Gradio launch(auth=...) (prefkit before)", _serve_gradio_auth, False)]
    for name, target, rotate in runs:
        db = fresh_database(folder, items, users)
        counts, seconds = {}, 1.0
        with Server(target, str(db)) as url:
            if rotate is None:  # the peer: no flood
                result = asyncio.run(run_labelers(url, users, votes_each, n, think))
            else:
                stop, flooding = context.Event(), context.Event()
                receive, send = context.Pipe()
                flood = context.Process(target=_flood, daemon=True,
                                        args=(url, connections, rotate, flooding, stop, send))

                result = asyncio.run(run_labelers(
                    url, users, votes_each, n, think,
                    on_ready=functools.partial(_start_flood, flood, flooding)))
                stop.set()
                counts, seconds = receive.recv()
                flood.join(timeout=60)
        lost = audit(db, result["acknowledged"])[0]
        attempts = sum(counts.values())
        hashed = counts.get(401, 0) + counts.get(400, 0)
        source = "-" if rotate is None else ("many addresses" if rotate else "1 address")
        label = f"{name} (no flood)" if rotate is None else name
        print(f"{label:<44} {source:<15} {result['votes']:>5} {result['failed']:>6} "
              f"{result['p50']:>7.1f} "
              f"{result['p95']:>8.1f} {attempts / seconds:>8.0f} {hashed:>7} "
              f"{attempts - hashed:>7} {lost:>4}")
        if rotate is None:
            idle_p95 = result["p95"]
        else:
            print(f"{'':<44} {'':<15} p95 x idle: {result['p95'] / idle_p95:.2f}; status "
                  f"counts {dict(sorted(counts.items(), key=str))}")
    print("failed: votes that got no answer (connection dropped, error); hashed: attempts whose "
          "password was checked (401; Gradio's own login answers 400); refused: by the rate limit "
          "(429) or a full hashing queue (503), without a hash")


def audit(db: Path, acknowledged: dict[str, int]) -> tuple[int, int, int]:
    """Acknowledged votes missing from the database, duplicate (item, user) rows, items
    with more than `overlap` judgments."""
    conn = sqlite3.connect(db)
    stored = dict(conn.execute("SELECT user, count(*) FROM judgments GROUP BY user").fetchall())
    lost = sum(max(count - stored.get(user, 0), 0) for user, count in acknowledged.items())
    duplicates = conn.execute("SELECT count(*) FROM (SELECT 1 FROM judgments GROUP BY item_id, "
                              "user HAVING count(*) > 1)").fetchone()[0]
    overfilled = conn.execute("SELECT count(*) FROM items i WHERE (SELECT count(*) FROM "
                              "judgments j WHERE j.item_id = i.id AND j.choice != 'skip') "
                              "> i.overlap").fetchone()[0]
    conn.close()
    return lost, duplicates, overfilled


# -- storage layer --------------------------------------------------------------------------

def storage_benchmark(threads: int, votes_each: int, folder: Path) -> None:
    print(f"\n2. Lost votes at the storage layer ({threads} threads x {votes_each} votes)")
    users = [f"user-{i:02d}" for i in range(threads)]
    db = folder / "storage.sqlite"
    with Store(db, create=True) as store:
        store.add_items(alpaca_items(threads * votes_each), overlap=OVERLAP)
        for user in users:
            store.add_user(user)

        def prefkit_labeler(user: str) -> None:
            for _ in range(votes_each):
                assignment = store.next_assignment(user)
                store.submit(user, assignment.lease_id, "left", guideline_version="bench")

        seconds = _run_threads(prefkit_labeler, users)
        stored = len(store.judgment_rows())
    expected = threads * votes_each
    print(f"prefkit store (SQLite WAL, leases)  : {stored:>5} / {expected} stored, "
          f"{expected - stored} lost, {expected / seconds:,.0f} votes/s")

    path = folder / "votes.json"
    path.write_text("[]")

    def naive_labeler(user: str) -> None:
        for i in range(votes_each):
            try:
                votes = json.loads(path.read_text())
            except json.JSONDecodeError:  # read mid-write: this request fails
                continue
            votes.append({"user": user, "item": i, "choice": "left"})
            path.write_text(json.dumps(votes))

    ours_rate = expected / seconds
    seconds = _run_threads(naive_labeler, users)
    try:
        stored, note = len(json.loads(path.read_text())), ""
    except json.JSONDecodeError:  # interleaved writes left invalid JSON: every vote is gone
        stored, note = 0, " (the file ended up corrupt)"
    print(f"JSON-list file, no lock (peer)      : {stored:>5} / {expected} stored, "
          f"{expected - stored} lost, {expected / seconds:,.0f} votes/s{note}")
    kept = f"{expected / stored:.1f}x the votes kept" if stored else "the peer kept no vote"
    print(f"ratio prefkit / peer: {ours_rate * seconds / expected:.2f}x the votes/s; {kept}")

    # Chatbot Arena's way: open the log in append mode per vote and write one JSON line
    # (fastchat's gradio_web_server `vote_last_response`). Nothing stops a vote being given
    # twice or an item being overfilled; that is counted, not prevented.
    log = folder / "votes.jsonl"

    def appending_labeler(user: str) -> None:
        for i in range(votes_each):
            with open(log, "a") as handle:
                handle.write(json.dumps({"user": user, "item": i, "choice": "left"}) + "\n")

    seconds = _run_threads(appending_labeler, users)
    lines = log.read_text().splitlines()
    good = sum(1 for line in lines if line.startswith("{") and line.endswith("}"))
    print(f"JSON Lines appended per vote (peer) : {good:>5} / {expected} stored, "
          f"{expected - good} lost, {expected / seconds:,.0f} votes/s (no leases: overlap, "
          f"double votes and overfilling are not enforced)")
    print(f"ratio prefkit / JSON Lines appends: {ours_rate * seconds / expected:.2f}x the votes/s")


def _run_threads(function, users: list[str]) -> float:
    workers = [threading.Thread(target=function, args=(user,)) for user in users]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


# -- dashboard metrics ----------------------------------------------------------------------

def metrics_benchmark(n_judgments: int, folder: Path) -> None:
    from labeling_app import metrics
    from labeling_app.judgments import store_frame

    n_items, labelers, models = n_judgments // OVERLAP, 50, [f"model-{i}" for i in range(5)]
    print(f"\n4. Dashboard metrics: {n_items * OVERLAP:,} judgments, {n_items:,} items, "
          f"{labelers} labelers, {len(models)} source models")
    rng = np.random.default_rng(0)
    db = folder / "metrics.sqlite"
    with Store(db, create=True) as store:
        conn = store._conn()
        pairs = [rng.choice(len(models), 2, replace=False) for _ in range(n_items)]
        lengths = rng.integers(50, 3000, size=(n_items, 2))
        conn.executemany(
            "INSERT INTO items (id, prompt, response_a, response_b, source_a, source_b, meta, "
            "len_a, len_b, overlap, done, imported_at) VALUES (?, '\"q\"', '\"a\"', '\"b\"', ?, ?,"
            " '{}', ?, ?, ?, ?, 0)",
            [(f"i{i}", models[a], models[b], int(lengths[i, 0]), int(lengths[i, 1]), OVERLAP,
              OVERLAP) for i, (a, b) in enumerate(pairs)])
        conn.executemany("INSERT INTO users (name, role, simulated, created_at) "
                         "VALUES (?, 'annotator', 0, 0)",
                         [(f"u{i:02d}",) for i in range(labelers)])
        choices = ("a_much", "a", "tie", "b", "b_much", "both_bad")
        rows = []
        for i in range(n_items):
            longer = 0 if lengths[i, 0] > lengths[i, 1] else 3
            for user in rng.choice(labelers, OVERLAP, replace=False):
                choice = choices[longer + int(rng.integers(0, 2))] if rng.random() < 0.6 \
                    else choices[int(rng.integers(0, 6))]
                rows.append((f"i{i}", f"u{user:02d}", choice, "left", str(rng.choice(["a", "b"])),
                             float(rng.gamma(4, 5)), "1", "", 0, 0.0))
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO judgments (item_id, user, choice, shown, left_side, seconds,"
                         " guideline_version, rationale, simulated, created_at) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
        started = time.perf_counter()
        frame = store_frame(store)
        loaded = time.perf_counter() - started
    timings = []
    for _ in range(2):  # the first refresh also imports sklearn; the server pays that once
        started = time.perf_counter()
        summary = metrics.summarize(frame)
        timings.append(time.perf_counter() - started)
    print(f"prefkit dashboard: read {loaded:.2f}s + metrics {timings[1]:.2f}s = "
          f"{loaded + timings[1]:.2f}s (target < 2 s; first refresh, imports included: "
          f"{loaded + timings[0]:.2f}s); alpha nominal "
          f"{summary['agreement']['krippendorff_alpha_nominal']:.4f}, ordinal "
          f"{summary['agreement']['krippendorff_alpha_ordinal']:.4f}")
    peers(frame, summary)


def peers(frame, summary) -> None:
    from sklearn.metrics import cohen_kappa_score

    from labeling_app import metrics

    classes = {"a": 0, "tie": 1, "both_bad": 1, "b": 2}
    items = {item: i for i, item in enumerate(frame["item_id"].unique(maintain_order=True))}
    users = {user: i for i, user in enumerate(sorted(frame["user"].unique()))}
    votes: dict[str, dict[str, int]] = {}
    for item, user, winner in frame.select("item_id", "user", "winner").iter_rows():
        votes.setdefault(user, {})[item] = classes[winner]

    started = time.perf_counter()
    kappas = {}
    with warnings.catch_warnings():  # sklearn warns on pairs that agree on one class only
        warnings.simplefilter("ignore")
        for first, second in itertools.combinations(sorted(votes), 2):
            shared = sorted(votes[first].keys() & votes[second].keys())
            if len(shared) >= 5:
                kappas[first, second] = cohen_kappa_score([votes[first][i] for i in shared],
                                                          [votes[second][i] for i in shared])
    sklearn_seconds = time.perf_counter() - started
    started = time.perf_counter()
    ours = metrics.cohen_kappa_pairs(metrics.judgment_pairs(frame))
    our_seconds = time.perf_counter() - started
    mine = {(k["user_1"], k["user_2"]): np.nan if k["kappa"] is None else k["kappa"]
            for k in ours}
    same = mine.keys() == kappas.keys() and all(
        np.isclose(mine[pair], kappas[pair], equal_nan=True) for pair in kappas)
    print(f"kappa per labeler pair ({len(kappas)} pairs): prefkit {our_seconds:.3f}s vs sklearn "
          f"cohen_kappa_score loop {sklearn_seconds:.2f}s: {sklearn_seconds / our_seconds:.0f}x "
          f"faster, same values: {same}")
    try:
        import krippendorff
    except ImportError:
        print("krippendorff package not installed: `pip install krippendorff` for that peer")
        return
    started = time.perf_counter()
    matrix = np.full((len(users), len(items)), np.nan)
    for item, user, winner in frame.select("item_id", "user", "winner").iter_rows():
        matrix[users[user], items[item]] = classes[winner]
    reference = krippendorff.alpha(reliability_data=matrix, level_of_measurement="nominal")
    peer_seconds = time.perf_counter() - started
    started = time.perf_counter()
    units = frame["item_id"].rank("dense").to_numpy()
    alpha = metrics.krippendorff_alpha(units, frame["winner"].replace_strict(classes).to_numpy(),
                                       n_values=3)
    our_seconds = time.perf_counter() - started
    print(f"alpha nominal: prefkit {our_seconds:.3f}s vs krippendorff.alpha (dense matrix) "
          f"{peer_seconds:.3f}s: {peer_seconds / our_seconds:.1f}x faster; values "
          f"{alpha:.6f} vs {reference:.6f}")


# -- rankings and ratings ------------------------------------------------------------------

def multi_items(count: int) -> list:
    """K-way items from AlpacaEval: each prompt with both models' answers and two shortened
    copies (the texts of real responses, four of them)."""
    from schemas.labeling import MultiItem

    base = alpaca_items(min(count, 800))
    out = []
    for n in range(count):
        item = base[n % len(base)]
        a, b = item.response_a, item.response_b
        out.append(MultiItem(id=f"k{n}", prompt=item.prompt,
                             responses=[a, b, a[: len(a) // 2], b[: len(b) // 2]],
                             sources=[item.source_a, item.source_b, "short-a", "short-b"]))
    return out


def _serve_prefkit_multi(db: str, task: str, pipe) -> None:
    from labeling_app.app import LabelingApp, launch, load_guidelines

    store = Store(db)
    running = launch(LabelingApp(store, load_guidelines(task=task), min_seconds=0))
    pipe.send(running.url)
    pipe.recv()
    running.close()


def _serve_noop_multi(texts: list[str], task: str, users: list[str], pipe) -> None:
    """The K-way tab's submit endpoint (same inputs and outputs, and the same skipped
    pre- and postprocessing) with a handler that does nothing."""
    import gradio as gr

    from labeling_app.app import LabelingApp
    from labeling_app.project import ratings_project

    criteria = ratings_project().criteria if task == "ratings" else []
    empty = [None] * len(criteria) + [[]] if criteria else [None]  # as `MultiView._cleared`

    def view(*_):  # plain values, as the K-way tab returns while the page's shape holds
        panes = [x for text in texts[1:] for x in (text, *empty)]
        return (None, texts[0], *panes, "counter", "Saved.", "", "submit", "skip", (K, True))

    with gr.Blocks() as blocks:
        lease, shape = gr.State(None), gr.State((K, False))
        prompt = gr.HTML()
        outputs, controls = [lease, prompt], []
        for _ in range(K):
            with gr.Column():
                pane = gr.HTML()
                if criteria:
                    mine = [gr.Radio([str(v) for v in c.points]) for c in criteria]
                    mine.append(gr.CheckboxGroup(["unsafe", "hallucination", "refusal"]))
                else:
                    mine = [gr.Radio([str(r) for r in range(1, K + 1)])]
            outputs += [pane, *mine]
            controls += mine
        counter, message, rationale = gr.Markdown(), gr.Markdown(), gr.Textbox()
        buttons = [gr.Button("submit"), gr.Button("skip")]
        outputs += [counter, message, rationale, *buttons, shape]
        blocks.load(view, None, outputs, api_name="load", queue=False)
        buttons[0].click(view, [lease, shape, rationale, *controls], outputs, api_name="submit",
                         queue=False, **LabelingApp.RAW_VALUES)
    blocks.queue(default_concurrency_limit=2)
    _, url, _ = blocks.launch(prevent_thread_lock=True, quiet=True, ssr_mode=False,
                              auth=[(user, PASSWORD) for user in users])
    pipe.send(url)
    pipe.recv()
    with contextlib.redirect_stdout(io.StringIO()):
        blocks.close()


def _submission(task: str, rng: random.Random) -> list:
    if task == "ranking":
        return [str(rng.randint(1, K)) for _ in range(K)]
    values = []
    for _ in range(K):
        values += [str(rng.randint(1, 7)) for _ in range(3)]
        values.append(["unsafe"] if rng.random() < 0.1 else [])
    return values


async def run_multi_labelers(url: str, users: list[str], votes_each: int, seed: int,
                             think: tuple[float, float], task: str) -> dict:
    """As `run_labelers`, submitting rankings or ratings."""
    labelers = [Labeler(url, user) for user in users]
    await asyncio.gather(*(labeler.login() for labeler in labelers))
    screens = await asyncio.gather(*(labeler.call("load", []) for labeler in labelers))
    per_pane = 1 + (4 if task == "ratings" else 1)  # pane, controls
    message = 2 + K * per_pane + 1
    latencies: list[float] = []
    acknowledged: dict[str, int] = {}
    failed = 0

    async def work(labeler: Labeler, rng: random.Random, data: list) -> None:
        nonlocal failed
        count = tries = 0
        while "Nothing to judge" not in data[1] and count < votes_each and \
                tries < 3 * votes_each:  # data[1]: the prompt
            tries += 1
            await asyncio.sleep(rng.uniform(*think))
            try:
                data, seconds = await labeler.call(  # lease, shape, rationale, controls
                    "submit", [None, None, "", *_submission(task, rng)])
            except (httpx.HTTPError, RuntimeError):
                failed += 1
                continue
            latencies.append(seconds)
            count += data[message] == "Saved."
        acknowledged[labeler.user] = count

    wall = await _drive(labelers, screens, work, seed)
    return _latencies(latencies, failed, acknowledged, wall)


def multi_http_benchmark(labeler_counts: list[int], votes_each: int, folder: Path,
                         think: tuple[float, float], tasks: list[str]) -> None:
    from labeling_app.project import Project, ratings_project

    most = max(labeler_counts)
    items = multi_items(max(200, -(-most * votes_each * 3 // OVERLAP) * 2))
    texts = [items[0].prompt, *items[0].responses]
    print(f"\n5. Rankings and ratings over HTTP ({len(items)} items of K = {K} AlpacaEval "
          f"responses, overlap {OVERLAP}; paced {think[0]:g} to {think[1]:g} s)")
    print(f"{'task':>8} {'N':>3} {'votes':>6} {'p50 ms':>8} {'p95 ms':>8} {'votes/s':>8} "
          f"{'lost':>5} {'dup':>4} {'over':>5} | {'floor p50':>9} {'floor p95':>9} | "
          f"{'p50 x':>6} {'p95 x':>6}")
    projects = {"ranking": Project(task="ranking"), "ratings": ratings_project()}
    for task in tasks:
        project = projects[task]
        for n in labeler_counts:
            users = [f"labeler-{i:02d}" for i in range(n)]
            db = folder / f"{task}-{n}-{secrets.token_hex(3)}.sqlite"
            with Store(db, create=True) as store:
                store.add_items(items, overlap=OVERLAP, project=project)
                for user in users:
                    store.add_user(user, password=PASSWORD)
            with Server(_serve_prefkit_multi, str(db), task) as url:
                ours = asyncio.run(run_multi_labelers(url, users, votes_each, n, think, task))
            with Server(_serve_noop_multi, texts, task, users) as url:
                floor = asyncio.run(run_multi_labelers(url, users, votes_each, n, think, task))
            lost, duplicates, overfilled = audit(db, ours["acknowledged"])
            print(f"{task:>8} {n:>3} {ours['votes']:>6} {ours['p50']:>8.1f} {ours['p95']:>8.1f} "
                  f"{ours['votes'] / ours['wall']:>8.1f} {lost:>5} {duplicates:>4} "
                  f"{overfilled:>5} | {floor['p50']:>9.1f} {floor['p95']:>9.1f} | "
                  f"{ours['p50'] / floor['p50']:>6.2f} {ours['p95'] / floor['p95']:>6.2f}")
    print("floor: the same submit endpoint with a handler that does nothing (no database)")


def multi_database(folder: Path, task: str, n_judgments: int, seed: int = 0) -> Path:
    """`n_judgments` rankings or ratings of K = 4 responses (50 labelers, overlap 3), written
    straight into a database of the current schema."""
    from labeling_app.kway import value_numbers
    from labeling_app.project import Project, ratings_project

    rng = np.random.default_rng(seed)
    n_items, labelers, models = n_judgments // OVERLAP, 50, [f"model-{i}" for i in range(5)]
    project = Project(task="ranking") if task == "ranking" else ratings_project()
    db = folder / f"{task}-metrics.sqlite"
    with Store(db, create=True) as store:
        store.set_project(project)
        conn = store._conn()
        lengths = rng.integers(50, 3000, size=(n_items, K))
        sources = [rng.choice(len(models), K) for _ in range(n_items)]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO items (id, task, prompt, response_a, response_b, meta, responses, "
            "sources, lengths, len_a, len_b, overlap, done, imported_at) VALUES (?, ?, '\"q\"', "
            "'null', 'null', '{}', ?, ?, ?, 0, 0, ?, ?, 0)",
            [(f"i{i}", task, json.dumps(["r"] * K), json.dumps([models[s] for s in sources[i]]),
              json.dumps(lengths[i].tolist()), OVERLAP, OVERLAP) for i in range(n_items)])
        conn.executemany("INSERT INTO users (name, role, simulated, created_at) "
                         "VALUES (?, 'annotator', 0, 0)", [(f"u{i:02d}",) for i in range(labelers)])
        rows = []
        for i in range(n_items):
            by_length = (-lengths[i]).argsort().argsort() + 1  # longer ranked better
            for user in rng.choice(labelers, OVERLAP, replace=False):
                order = rng.permutation(K).tolist()
                if task == "ranking":
                    value = [int(r) if rng.random() < 0.6 else int(rng.integers(1, K + 1))
                             for r in by_length]
                else:
                    value = {"scores": {c.name: [int(min(7, max(1, 8 - r - rng.integers(0, 2))))
                                                 for r in by_length] for c in project.criteria},
                             "flags": [["unsafe"] if rng.random() < 0.05 else [] for _ in range(K)]}
                rows.append((f"i{i}", f"u{user:02d}", "ranked" if task == "ranking" else "rated",
                             float(rng.gamma(4, 5)), "1", "", 0, 0.0, json.dumps(value),
                             json.dumps(order), value_numbers(value, project)))
        conn.executemany("INSERT INTO judgments (item_id, user, choice, seconds, "
                         "guideline_version, rationale, simulated, created_at, value, shown_order,"
                         " numbers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("COMMIT")
    return db


def multi_metrics_benchmark(n_judgments: int, folder: Path) -> None:
    from labeling_app.multi_metrics import load_multi, pair_frame
    from labeling_app.summary import database_summary

    print(f"\n6. Dashboard metrics of rankings and ratings: {n_judgments // OVERLAP * OVERLAP:,} "
          f"judgments each (K = {K}, 50 labelers, overlap {OVERLAP})")
    for task in ("ranking", "ratings"):
        db = multi_database(folder, task, n_judgments)
        with Store(db) as store:
            database_summary(store)  # imports (sklearn) paid once, as the server does
            times = []
            for _ in range(DASHBOARD_REPEATS):
                started = time.perf_counter()
                summary = database_summary(store)
                times.append(time.perf_counter() - started)
            seconds = float(np.median(times))
            mv = load_multi(store)
        extra = (f"Kendall's W mean {summary['kendall_w']['mean']:.3f}" if task == "ranking"
                 else "alpha interval " + ", ".join(f"{n} {v['alpha_interval']:.3f}"
                                                     for n, v in summary["criteria"].items()))
        print(f"{task}: prefkit dashboard {seconds:.2f}s (target < 2 s; median of "
              f"{DASHBOARD_REPEATS}: {', '.join(f'{t:.2f}' for t in times)}) for "
              f"{summary['n_judgments']:,} judgments = {summary['n_pairs']:,} pair votes; {extra}")
        if task == "ranking":
            started = time.perf_counter()
            ours = pair_frame(mv)
            our_seconds = time.perf_counter() - started
            started = time.perf_counter()
            naive = _naive_pairs(store_rows(db))
            peer_seconds = time.perf_counter() - started
            same = sorted(ours.select("item", "user", "i", "j", "winner").rows()) == sorted(naive)
            print(f"pair votes: prefkit {our_seconds:.2f}s vs a Python loop over the votes "
                  f"{peer_seconds:.2f}s: {peer_seconds / our_seconds:.1f}x faster, same pairs: "
                  f"{same}")
        else:
            _alpha_peer(mv, summary)


def store_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT item_id, user, value FROM judgments").fetchall()
    conn.close()
    return rows


def _naive_pairs(rows: list[tuple]) -> list[tuple]:
    """The obvious implementation: decode each vote, compare every pair of responses."""
    out = []
    for item, user, value in rows:
        ranks = json.loads(value)
        for i, j in itertools.combinations(range(len(ranks)), 2):
            winner = "a" if ranks[i] < ranks[j] else "b" if ranks[i] > ranks[j] else "tie"
            out.append((item, user, i, j, winner))
    return out


def _alpha_peer(mv, summary) -> None:
    try:
        import krippendorff
    except ImportError:
        print("krippendorff package not installed: `pip install krippendorff` for that peer")
        return
    from labeling_app.multi_metrics import scores

    started = time.perf_counter()
    users = {u: n for n, u in enumerate(sorted(mv.votes["user"].unique()))}
    items = {it: n for n, it in enumerate(mv.votes["item"].unique(maintain_order=True))}
    by_criterion = scores(mv.votes, mv.project, K)
    results = {}
    for name, array in by_criterion.items():
        matrix = np.full((len(users), len(items) * K), np.nan)
        for n, (item, user) in enumerate(mv.votes.select("item", "user").iter_rows()):
            matrix[users[user], items[item] * K:(items[item] + 1) * K] = array[n]
        results[name] = krippendorff.alpha(reliability_data=matrix,
                                           level_of_measurement="interval")
    peer_seconds = time.perf_counter() - started
    same = all(np.isclose(results[n], summary["criteria"][n]["alpha_interval"]) for n in results)
    print(f"alpha interval per criterion: krippendorff.alpha (dense matrices) {peer_seconds:.2f}s "
          f"for the three alone; same values: {same}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labelers", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--votes", type=int, default=15, help="Votes per labeler (x3 at N=1).")
    parser.add_argument("--think", type=float, nargs=2, default=[1.0, 3.0],
                        help="Paced load: seconds of thinking before each vote (uniform).")
    parser.add_argument("--judgments", type=int, default=100_000)
    parser.add_argument("--flood-connections", type=int, default=48)
    parser.add_argument("--sections", nargs="+", default=SECTIONS, choices=SECTIONS,
                        help="Which parts to run (default: all).")
    parser.add_argument("--tasks", nargs="+", default=["ranking", "ratings"],
                        choices=["ranking", "ratings"], help="K-way tasks over HTTP.")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="label-bench-") as folder:
        if "http" in args.sections:
            http_benchmark(args.labelers, args.votes, Path(folder), tuple(args.think))
        if "storage" in args.sections:
            storage_benchmark(20, 25, Path(folder))
        if "flood" in args.sections:
            most = max(args.labelers)
            flood_benchmark(alpaca_items(max(200, most * args.votes * 2)), most, args.votes,
                            Path(folder), tuple(args.think), args.flood_connections)
        if "metrics" in args.sections:
            metrics_benchmark(args.judgments, Path(folder))
        if "multi-http" in args.sections:
            multi_http_benchmark(args.labelers, args.votes, Path(folder), tuple(args.think),
                                 args.tasks)
        if "multi-metrics" in args.sections:
            multi_metrics_benchmark(args.judgments, Path(folder))


if __name__ == "__main__":
    main()
