"""The Gradio app through its API (`gradio_client`), with a server started in the test."""

from __future__ import annotations

import json
import random
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from labeling_app.app import LOCAL_USER, LabelingApp, launch, load_guidelines
from labeling_app.store import Store
from schemas import PreferencePair
from schemas.labeling import WINNER

PASSWORD = "correct horse"
SCALE = ("left_much", "left", "tie", "right", "right_much")
# What the endpoints return: the hidden lease and the buttons are not part of the API.
PROMPT, LEFT, RIGHT, COUNTER, MESSAGE, RATIONALE = range(6)
# A generous HTTP timeout (httpx's default is 5 s): the machine is shared and 20 clients log
# in at once; the test asserts outcomes, never speed.
HTTP = {"timeout": 120}


def _start(store: Store, **kwargs) -> tuple[object, str, LabelingApp]:
    labeling = LabelingApp(store, load_guidelines(), min_seconds=0, **kwargs)
    running = launch(labeling)
    return running, running.url, labeling


@pytest.fixture(scope="module")
def server(tmp_path_factory, make_items):
    store = Store(tmp_path_factory.mktemp("api") / "labels.sqlite", create=True)
    store.add_items(make_items(6), overlap=2)
    store.add_user("ann", password=PASSWORD)
    store.add_user("ann2", password=PASSWORD)
    store.add_user("boss", role="admin", password=PASSWORD)
    blocks, url, labeling = _start(store)
    yield url, store, labeling
    blocks.close()
    store.close()


def _client(url: str, user: str) -> Client:
    return Client(url, auth=(user, PASSWORD), verbose=False, httpx_kwargs=HTTP)


def test_wrong_password_and_anonymous_requests_are_refused(server):
    url, _, _ = server
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, auth=("ann", "wrong password"), verbose=False, httpx_kwargs=HTTP)
    with pytest.raises(ValueError, match="Could not login"):
        Client(url, auth=("mallory", PASSWORD), verbose=False, httpx_kwargs=HTTP)
    assert httpx.get(f"{url}config").status_code == 401
    assert httpx.get(url).headers["location"] == "login"  # the page sends you to log in


def test_vote_buttons_are_disabled_until_an_item_is_loaded(server):
    url, _, _ = server
    with httpx.Client(timeout=120) as http:
        http.post(f"{url}login", data={"username": "ann", "password": PASSWORD}
                  ).raise_for_status()
        components = http.get(f"{url}config").json()["components"]
    buttons = {c["props"]["elem_id"]: c["props"]["interactive"] for c in components
               if str(c["props"].get("elem_id", "")).startswith("vote-")}
    assert len(buttons) == 7 and not any(buttons.values())  # the load event enables them


def test_annotator_cannot_reach_admin_panels_or_exports(server):
    url, _, _ = server
    client = _client(url, "ann")
    for endpoint, args in (("/admin_refresh", ()), ("/export_dpo", (0.6, False, True)),
                           ("/export_judgments", (0.0, False, True))):
        with pytest.raises(AppError, match="admins only"):
            client.predict(*args, api_name=endpoint)
    client.close()


def test_vote_without_a_lease_is_refused_server_side(server):
    url, store, _ = server
    client = _client(url, "ann2")  # a fresh session: no item was ever loaded
    before = len(store.judgment_rows())
    out = client.predict("", api_name="/vote_left")
    assert "no live lease" in out[MESSAGE]
    assert len(store.judgment_rows()) == before
    client.close()


def test_too_fast_vote_is_refused_with_a_message(server):
    url, store, labeling = server
    client = _client(url, "ann2")
    first = client.predict(api_name="/load")
    labeling.min_seconds = 3600
    try:
        out = client.predict("keep this", api_name="/vote_right")
    finally:
        labeling.min_seconds = 0
    assert "too fast" in out[MESSAGE]
    assert out[LEFT] == first[LEFT]  # the same item stays on screen
    assert all(r["user"] != "ann2" or r["shown"] != "right" for r in store.judgment_rows())
    saved = client.predict("", api_name="/vote_right")
    assert saved[MESSAGE] == "Saved."
    client.close()


def test_admin_sees_metrics_and_exports_train_ready_pairs(server, tmp_path):
    url, store, _ = server
    annotators = {name: _client(url, name) for name in ("ann", "ann2")}
    for client in annotators.values():
        out = client.predict(api_name="/load")
        while out[LEFT]:
            out = client.predict("", api_name="/vote_left_much")
        client.close()
    admin = _client(url, "boss")
    overview = admin.predict(api_name="/admin_refresh")[0]
    assert "<b>Judgments:</b> 12 on 6 items by 2 labelers" in overview
    link, note = admin.predict(0.0, False, True, api_name="/export_dpo")
    lines = _download(url, link, "boss").splitlines()
    pairs = [PreferencePair.model_validate(json.loads(line)) for line in lines]
    # Clicks on "A much better" land on whichever side was on the left: an item is exported
    # only where both votes name the same canonical side (two votes that split are dropped).
    rows = store.judgment_rows()
    sides: dict[str, set[str]] = {}
    for row in rows:
        sides.setdefault(row["item_id"], set()).add(WINNER[row["choice"]])
    assert {p.id for p in pairs} == {item for item, s in sides.items() if len(s) == 1}
    for pair in pairs:
        side = pair.meta["chosen_side"]
        assert all(WINNER[r["choice"]] == side for r in rows if r["item_id"] == pair.id)
    assert note.startswith(f"{len(pairs)} pairs")
    link, _ = admin.predict(0.0, False, True, api_name="/export_judgments")
    assert len(_download(url, link, "boss").splitlines()) == 1 + len(rows)
    admin.close()


def _download(url: str, link: str, user: str) -> str:
    """The file behind an export's download link, fetched with `user`'s session."""
    href = re.search(r'href="([^"]+)"', link)[1]
    with httpx.Client(timeout=120) as http:
        http.post(f"{url}login", data={"username": user, "password": PASSWORD}
                  ).raise_for_status()
        response = http.get(f"{url}{href}")
        response.raise_for_status()
        return response.text


def test_twenty_concurrent_labelers_fill_exactly_k_slots(tmp_path, make_items):
    store = Store(tmp_path / "labels.sqlite", create=True)
    store.add_items(make_items(30), overlap=3)
    names = [f"labeler-{i:02d}" for i in range(20)]
    for name in names:
        store.add_user(name, password=PASSWORD)
    blocks, url, _ = _start(store)
    problems: list[str] = []

    def labeler(name: str, seed: int) -> int:
        rng = random.Random(seed)
        client = _client(url, name)
        out = client.predict(api_name="/load")
        count = 0
        while out[LEFT]:
            out = client.predict("", api_name=f"/vote_{rng.choice(SCALE)}")
            if out[MESSAGE] == "Saved.":
                count += 1
            else:
                problems.append(f"{name}: {out[MESSAGE]}")
        client.close()
        return count

    try:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:  # map re-raises any failure
            submitted = dict(zip(names, pool.map(labeler, names, range(len(names))),
                                 strict=True))
    finally:
        blocks.close()
    rows = store.judgment_rows()
    store.close()
    assert problems == []
    assert sum(submitted.values()) == len(rows) == 90  # nothing lost, nothing extra
    per_item: dict[str, list[str]] = {}
    for row in rows:
        per_item.setdefault(row["item_id"], []).append(row["user"])
    assert len(per_item) == 30
    assert all(len(users) == 3 == len(set(users)) for users in per_item.values())
    for name, count in submitted.items():
        assert count == sum(row["user"] == name for row in rows)


def test_open_mode_needs_no_login(tmp_path, make_items):
    store = Store(tmp_path / "labels.sqlite", create=True)
    store.add_items(make_items(2), overlap=1)
    store.add_user(LOCAL_USER, role="admin")
    blocks, url, _ = _start(store, open_mode=True)
    try:
        client = Client(url, verbose=False, httpx_kwargs=HTTP)
        out = client.predict(api_name="/load")
        assert out[PROMPT] == "<p>Question 0?</p>\n"
        assert client.predict("", api_name="/vote_tie")[MESSAGE] == "Saved."
        assert "<b>Judgments:</b> 1" in client.predict(api_name="/admin_refresh")[0]
        client.close()
    finally:
        blocks.close()
    assert [r["user"] for r in store.judgment_rows()] == [LOCAL_USER]
    store.close()
