"""Ranking and ratings projects through the app's API (`gradio_client`): the order shown is
mapped back, refusals keep the item, role checks hold on every admin endpoint, the review
queue puts the least agreed items first and an adjudication becomes gold, and 20 labelers
ranking at once fill exactly K judgments per item."""

from __future__ import annotations

import html
import itertools
import random
import re
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from labeling_app.app import LabelingApp, launch, load_guidelines
from labeling_app.project import Project, ratings_project
from labeling_app.store import Store

from .test_multi_store import multi_items

PASSWORD = "correct horse battery"
HTTP = {"timeout": 120}
K = 4


def _serve(store: Store, task: str):
    return launch(LabelingApp(store, load_guidelines(task=task), min_seconds=0))


def _client(url: str, user: str) -> Client:
    return Client(url, auth=(user, PASSWORD), verbose=False, httpx_kwargs=HTTP)


def _shown(out: tuple, per_pane: int, k: int = K) -> list[int]:
    """Response indices in screen order, read from the panes ("response i of n")."""
    return [int(re.search(r"response (\d+) of", out[1 + p * per_pane])[1]) for p in range(k)]


def _message(out: tuple, per_pane: int, k: int = K) -> str:
    return out[1 + k * per_pane + 1]


@pytest.fixture(scope="module")
def ranking(tmp_path_factory):
    store = Store(tmp_path_factory.mktemp("ranking") / "labels.sqlite", create=True)
    store.add_items(multi_items(6, k=K), overlap=2, project=Project(task="ranking"))
    for name in ("ann", "bea"):
        store.add_user(name, password=PASSWORD)
    store.add_user("boss", role="admin", password=PASSWORD)
    running = _serve(store, "ranking")
    yield running.url, store
    running.close()
    store.close()


def test_a_ranking_is_mapped_back_and_a_refusal_keeps_the_item(ranking):
    url, store = ranking
    client = _client(url, "ann")
    out = client.predict(api_name="/load")
    shown = _shown(out, 2)
    refused = client.predict("", "1", "2", None, "4", api_name="/submit")
    assert "Not saved:** rank every response (missing: response 3)" in _message(refused, 2)
    assert _shown(refused, 2) == shown  # the same item, in the same order
    saved = client.predict("", "2", "1", "1", "3", api_name="/submit")
    assert _message(saved, 2) == "Saved."
    row = next(r for r in store.judgments_of() if r["user"] == "ann")
    expected = [None] * K
    for position, index in enumerate(shown):
        expected[index] = [2, 1, 1, 3][position]
    assert row["value"] == expected and row["shown_order"] == shown
    client.close()


def test_annotators_cannot_reach_admin_review_or_export_endpoints(ranking):
    url, store = ranking
    client = _client(url, "bea")
    for endpoint, args in (("/admin_refresh", (False, "human")), ("/review_queue", (False,)),
                           ("/review_item", ("m00",)), ("/adjudicate", ("m00", "A>B=C>D", "")),
                           ("/export_dpo", (0.0, False, False, "human", "overall")),
                           ("/export_judgments", (0.0, False, False, "all", "overall"))):
        with pytest.raises(AppError, match="admins only"):
            client.predict(*args, api_name=endpoint)
    assert store.adjudications() == []
    client.close()


def test_the_review_queue_and_an_adjudication_that_becomes_gold(ranking):
    url, store = ranking
    rng = random.Random(4)
    for name in ("ann", "bea"):
        client = _client(url, name)
        out = client.predict(api_name="/load")
        while re.search(r"response \d+ of", str(out[1])):
            ranks = [str(rng.randint(1, K)) for _ in range(K)]
            out = client.predict(f"{name}: <b>why</b>", *ranks, api_name="/submit")
        client.close()
    rows = [r for r in store.judgments_of() if r["choice"] == "ranked"]

    def relation(ranks, i, j):
        return "a" if ranks[i] < ranks[j] else "b" if ranks[i] > ranks[j] else "tie"

    by_item: dict[str, list[list[int]]] = {}
    for row in rows:
        by_item.setdefault(row["item_id"], []).append(row["value"])
    agreement = {item: sum(relation(a, i, j) == relation(b, i, j)
                           for i, j in itertools.combinations(range(K), 2)) / 6
                 for item, (a, b) in by_item.items()}
    admin = _client(url, "boss")
    queue = admin.predict(False, api_name="/review_queue")
    listed = [(row[0], row[1]) for row in queue["data"]]
    expected = sorted(agreement.items(), key=lambda kv: (kv[1], kv[0]))
    assert listed == [(item, f"{share:.0%}") for item, share in expected]
    worst = listed[0][0]
    page = admin.predict(worst, api_name="/review_item")
    # every vote side by side, its rationale escaped (ann may have voted on this item in an
    # earlier test of the module, with another rationale; bea's votes are all from here)
    votes = store.judgments_of(worst)
    assert sorted(v["user"] for v in votes) == ["ann", "bea"]
    for vote in votes:
        assert f"<td>{vote['user']}</td>" in page
        assert f"<td>{html.escape(vote['rationale'] or '')}</td>" in page
    assert "bea: &lt;b&gt;why&lt;/b&gt;" in page and "<b>why</b>" not in page
    message, _ = admin.predict(worst, "A > B", "", api_name="/adjudicate")
    assert "Not saved" in message and "rank all 4" in message
    message, page = admin.predict(worst, "B > A = D > C", "B is right", api_name="/adjudicate")
    assert message.startswith("Decided") and "boss</b> decided B &gt; A = D &gt; C" in page
    assert store.item(worst).gold == [2, 1, 3, 2]
    gold = [2, 1, 3, 2]
    labelers = admin.predict(False, "human", api_name="/admin_refresh")[1]
    table = {row[0]: row for row in labelers["data"]}
    column = labelers["headers"].index("gold_accuracy")
    for user, ranks in zip(("ann", "bea"), _votes_on(store, worst), strict=True):
        hits = [relation(ranks, i, j) == relation(gold, i, j)
                for i, j in itertools.combinations(range(K), 2)]
        assert float(table[user][column]) == pytest.approx(sum(hits) / 6, abs=5e-4)
    admin.close()


def _votes_on(store: Store, item: str) -> list[list[int]]:
    by_user = {r["user"]: r["value"] for r in store.judgments_of(item) if r["value"]}
    return [by_user["ann"], by_user["bea"]]


def test_twenty_labelers_ranking_at_once_fill_exactly_k_judgments(tmp_path):
    store = Store(tmp_path / "labels.sqlite", create=True)
    store.add_items(multi_items(12, k=K), overlap=3, project=Project(task="ranking"))
    names = [f"r{i:02d}" for i in range(20)]
    for name in names:
        store.add_user(name, password=PASSWORD)
    running = _serve(store, "ranking")
    problems: list[str] = []

    def labeler(name: str, seed: int) -> int:
        rng, count = random.Random(seed), 0
        client = _client(running.url, name)
        out = client.predict(api_name="/load")
        while re.search(r"response \d+ of", str(out[1])):
            out = client.predict("", *(str(rng.randint(1, K)) for _ in range(K)),
                                 api_name="/submit")
            if _message(out, 2) == "Saved.":
                count += 1
            else:
                problems.append(f"{name}: {_message(out, 2)}")
        client.close()
        return count

    try:
        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            saved = dict(zip(names, pool.map(labeler, names, range(len(names))), strict=True))
    finally:
        running.close()
    rows = store.judgments_of()
    store.close()
    assert problems == []
    assert sum(saved.values()) == len(rows) == 36  # nothing lost, nothing extra
    per_item: dict[str, list[str]] = {}
    for row in rows:
        per_item.setdefault(row["item_id"], []).append(row["user"])
        assert sorted(row["shown_order"]) == list(range(K))
    assert len(per_item) == 12
    assert all(len(users) == 3 == len(set(users)) for users in per_item.values())
    assert all(saved[name] == sum(r["user"] == name for r in rows) for name in names)


def test_ratings_with_flags_through_the_api(tmp_path):
    store = Store(tmp_path / "labels.sqlite", create=True)
    project = ratings_project()
    store.add_items(multi_items(2, k=3), overlap=1, project=project)
    store.add_user("ann", password=PASSWORD)
    running = _serve(store, "ratings")
    per_pane = 1 + len(project.criteria) + 1
    try:
        client = _client(running.url, "ann")
        out = client.predict(api_name="/load")
        shown = _shown(out, per_pane, 3)
        values = []
        for position in range(3):
            values += [str(position + 1), "4", "7", ["refusal"] if position == 2 else []]
        missing = list(values)
        missing[1] = None
        refused = client.predict("", *missing, api_name="/submit")
        assert "rate every response on 'truthful' (missing: response 1)" in \
            _message(refused, per_pane, 3)
        assert _message(client.predict("", *values, api_name="/submit"), per_pane, 3) == "Saved."
        skipped = client.predict("", api_name="/skip")
        assert "Skip needs a rationale" in _message(skipped, per_pane, 3)
        assert _message(client.predict("not my field", api_name="/skip"), per_pane, 3) == \
            "Skipped."
        client.close()
    finally:
        running.close()
    rated, skip = store.judgments_of()
    store.close()
    assert skip["choice"] == "skip" and skip["rationale"] == "not my field"
    for position, index in enumerate(shown):
        assert rated["value"]["scores"]["helpful"][index] == position + 1
        assert rated["value"]["flags"][index] == (["refusal"] if position == 2 else [])
    assert rated["value"]["scores"]["harmless"] == [7, 7, 7]


def test_values_sent_raw_are_checked_like_the_page_controls_would(tmp_path):
    """Votes skip Gradio's own checks of each control (`LabelingApp.RAW_VALUES`): a value no
    control offers (a fraction, a bool, a list for a rank, a dict of flags, a rationale that
    is not text) is refused with the item kept, or answered 4xx; never saved, never a 500."""
    store = Store(tmp_path / "labels.sqlite", create=True)
    project = ratings_project()  # helpful, truthful, harmless 1-7; unsafe, hallucination, refusal
    store.add_items(multi_items(2, k=3), overlap=1, project=project)
    store.add_user("ann", password=PASSWORD)
    running = _serve(store, "ratings")
    per_pane = 1 + len(project.criteria) + 1
    good = ["5", "4", "7", []] * 3
    junk = [((0,), "5.5"), ((1,), 4), ((2,), True), ((3,), ["unsafe", 3]), ((4,), "8"),
            ((7,), {"unsafe": 1}), ((7,), "unsafe"), ((11,), ["rude"]), ((0, 5, 10), ["5"])]
    try:
        with httpx.Client(timeout=120) as http:
            http.post(f"{running.url}login", data={"username": "ann", "password": PASSWORD})
            config = http.get(f"{running.url}config").json()
            ids = {d["api_name"]: d["id"] for d in config["dependencies"] if d.get("api_name")}

            def call(endpoint: str, data: list) -> httpx.Response:  # `data` has the states too
                return http.post(f"{running.url}gradio_api/run/{endpoint}", json={
                    "data": data, "session_hash": "raw", "event_data": None,
                    "fn_index": ids[endpoint], "trigger_id": None})

            shown = _shown(call("load", []).json()["data"][1:], per_pane, 3)
            for where, value in junk:
                values = list(good)
                for index in where:
                    values[index] = value
                response = call("submit", [None, None, "", *values])
                assert response.status_code == 200, (where, value, response.text[:300])
                out = response.json()["data"][1:]
                assert "Not saved" in _message(out, per_pane, 3), (where, value)
                assert _shown(out, per_pane, 3) == shown
            for rationale in (7, ["why"], {"a": 1}):
                response = call("submit", [None, None, rationale, *good])
                assert response.status_code < 500, response.text[:300]
                if response.status_code == 200:
                    assert "the rationale is text" in \
                        _message(response.json()["data"][1:], per_pane, 3)
            assert store.judgments_of() == []
            saved = call("submit", [None, None, "fine", *good]).json()["data"][1:]
            assert _message(saved, per_pane, 3) == "Saved."
    finally:
        running.close()
    (row,) = store.judgments_of()
    assert row["value"]["scores"] == {"helpful": [5] * 3, "truthful": [4] * 3,
                                      "harmless": [7] * 3}
