"""AI judges: a local OpenAI-compatible stub written here (it always prefers the longer
answer, or always the first one, or answers nonsense) and the tiny local model. Both orders
are asked, disagreements become ties, the votes are stored as an AI user and kept apart from
human votes, and the bias report shows what the stub does."""

from __future__ import annotations

import json
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import ClassVar

import pytest
from typer.testing import CliRunner

from labeling_app.app import LabelingApp, load_guidelines
from labeling_app.cli import app
from labeling_app.project import Project, ratings_project
from labeling_app.store import Store
from schemas.labeling import Item

from .test_multi_store import multi_items

runner = CliRunner()
_RESPONSE = re.compile(r"\[Response (\w+)\]\n(.*?)\n\[End of Response \1\]", re.DOTALL)


class Stub(BaseHTTPRequestHandler):
    """`POST /v1/chat/completions`. The model name says how to answer: `...longer` prefers
    the longer response (ranks and scores by length), `...first` the first one shown,
    `...garbage` answers without a verdict."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Stub.requests.append(body)
        prompt = body["messages"][0]["content"]
        shown = _RESPONSE.findall(prompt)
        labels, lengths = [label for label, _ in shown], [len(text) for _, text in shown]
        mode = body["model"].rsplit("-", 1)[-1]
        order = sorted(range(len(shown)), key=lambda p: -lengths[p] if mode == "longer" else p)
        if mode == "garbage":
            answer = "I cannot decide."
        elif "# Criteria" in prompt:  # ratings: the longest gets 7, then 6, ...
            names = re.findall(r"^- (\w+) \(", prompt.split("# Criteria")[1], re.MULTILINE)
            answer = "\n".join(f"Response {labels[p]}: " + ", ".join(
                f"{name}={7 - order.index(p)}" for name in names) for p in range(len(shown)))
        elif labels == ["A", "B"]:
            answer = f"Thinking... [[{labels[order[0]]}]]"
        else:
            answer = "[[" + " > ".join(labels[p] for p in order) + "]]"
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": answer}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def stub():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def _pairwise_db(path, count=30, seed=0):
    """A/B items whose A side (model `stub-longer`) is longer on even items, and two people
    who vote by a seeded coin: humans show no length bias."""
    rng = random.Random(seed)
    items = []
    for n in range(count):
        short, long = f"short answer {n}.", f"a long answer {n}. " + "with detail " * 10
        a, b = (long, short) if n % 2 == 0 else (short, long)
        items.append(Item(id=f"p{n:02d}", prompt=f"Question {n}?", response_a=a, response_b=b,
                          source_a="stub-longer", source_b="other"))
    # Two streams: one seed for both would make every vote follow the side drawn left.
    store = Store(path, create=True, rng=random.Random(seed + 1))
    store.add_items(items, overlap=2)
    for user in ("ann", "bob"):
        store.add_user(user)
        while (assignment := store.next_assignment(user)) is not None:
            store.submit(user, assignment.lease_id, rng.choice(["left", "right"]),
                         guideline_version="1")
    return store


def _judge(db, url, model, *extra):
    result = runner.invoke(app, ["judge", "-d", str(db), "--judge-url", url, "--judge-model",
                                 model, *extra])
    assert result.exit_code == 0, result.output
    return result


def test_a_judge_that_prefers_longer_answers_is_measured_and_flagged(tmp_path, stub):
    db = tmp_path / "labels.sqlite"
    store = _pairwise_db(db)
    before = len(Stub.requests)
    result = _judge(db, stub, "stub-longer")
    assert "30 items judged by ai-stub-longer in both orders (same verdict 100%)" in result.output
    assert len(Stub.requests) - before == 60  # each item twice
    ai = [r for r in store.judgments_of() if r["kind"] == "ai"]
    assert len(ai) == 30 and all(r["user"] == "ai-stub-longer" for r in ai)
    for row in ai:
        longer = "a" if int(row["item_id"][1:]) % 2 == 0 else "b"
        assert row["choice"] == longer
        assert [o["order"] for o in row["detail"]["orders"]] == [[0, 1], [1, 0]]
        assert row["detail"]["template"] == "pairwise.v1"
    # Human numbers, computed here from the stored votes.
    humans = [r for r in store.judgments_of() if r["kind"] == "human"]
    human_longer = sum((r["choice"][0] == "a") == (int(r["item_id"][1:]) % 2 == 0)
                       for r in humans) / len(humans)
    ai_side = {r["item_id"]: r["choice"] for r in ai}
    agree = sum(r["choice"] == ai_side[r["item_id"]] for r in humans) / len(humans)
    store.close()
    report = json.loads(runner.invoke(app, ["report", "-d", str(db), "--json"]).stdout)
    [judge] = report["ai_judges"]
    assert judge["p_longer_wins"] == 1.0 and judge["p_longer_wins_ci"][0] > 0.85
    assert judge["human_p_longer_wins"] == pytest.approx(human_longer)
    assert 0.3 < human_longer < 0.7
    assert judge["agreement_with_humans"]["share"] == pytest.approx(agree)
    assert judge["position_consistency"] == 1.0
    # Its own model (source_a, always the longer side on even items) wins whenever longer.
    assert judge["judge_source"] == "stub-longer" and judge["p_own_wins"] == 0.5
    assert {"prefers_longer", "longer_than_humans"} <= set(judge["flags"])
    assert report["voters"]["counted"] == "human" and report["n_pairs"] == 60  # humans only
    text = runner.invoke(app, ["report", "-d", str(db)])
    assert "AI judge ai-stub-longer" in text.output and "prefers_longer" in text.output
    assert "AI judges flagged: ai-stub-longer" in text.output
    # The dashboard says the same (its handler, as the admin's request reaches it).
    with Store(db) as store:
        store.add_user("boss", role="admin")
        labeling = LabelingApp(store, load_guidelines())
        panels = labeling.on_admin_refresh(False, "human", SimpleNamespace(username="boss"))
        judges = panels[-1].to_dicts()
        assert judges[0]["judge"] == "ai-stub-longer" and "prefers_longer" in judges[0]["flags"]
        assert "AI judge ai-stub-longer" in panels[0]
        everyone = labeling.on_admin_refresh(False, "all", SimpleNamespace(username="boss"))[0]
        assert "human and AI votes together (60 human, 30 AI)" in everyone


def test_self_preference_is_flagged_when_the_judge_wrote_one_side(tmp_path, stub):
    """The judge's own model (`own-model`) wrote the longer side of every item, so the stub
    always picks it; the people pick it on every other item."""
    items = [Item(id=f"s{n:02d}", prompt=f"Question {n}?", response_a="own " + "words " * 20,
                  response_b=f"other {n}", source_a="own-model", source_b="other")
             for n in range(20)]
    db = tmp_path / "labels.sqlite"
    with Store(db, create=True, rng=random.Random(1)) as store:
        store.add_items(items, overlap=1)
        store.add_user("ann")
        while (assignment := store.next_assignment("ann")) is not None:
            own = int(assignment.item.id[1:]) % 2 == 0  # canonical a on even items
            shown = "left" if (assignment.left == "a") == own else "right"
            store.submit("ann", assignment.lease_id, shown, guideline_version="1")
    _judge(db, stub, "judge-longer", "--source-name", "own-model", "--name", "ai-self")
    report = json.loads(runner.invoke(app, ["report", "-d", str(db), "--json"]).stdout)
    [judge] = report["ai_judges"]
    assert (judge["judge"], judge["judge_source"]) == ("ai-self", "own-model")
    assert (judge["p_own_wins"], judge["n_own_pairs"]) == (1.0, 20)
    assert (judge["human_p_own_wins"], judge["human_n_own_pairs"]) == (0.5, 20)
    assert "self_preference" in judge["flags"]


def test_position_bias_becomes_ties_and_is_flagged(tmp_path, stub):
    db = tmp_path / "labels.sqlite"
    _pairwise_db(db, count=12).close()
    result = _judge(db, stub, "stub-first")
    assert "same verdict 0%" in result.output
    with Store(db) as store:
        ai = [r for r in store.judgments_of() if r["kind"] == "ai"]
    assert [r["choice"] for r in ai] == ["tie"] * 12  # A first, then A again: a tie
    assert all([o["verdict"] for o in r["detail"]["orders"]] == ["A", "A"] for r in ai)
    report = json.loads(runner.invoke(app, ["report", "-d", str(db), "--json"]).stdout)
    assert report["ai_judges"][0]["position_consistency"] == 0.0
    assert "position_inconsistent" in report["ai_judges"][0]["flags"]


def test_rankings_and_ratings_are_judged_in_both_orders(tmp_path, stub):
    lengths = {}
    for task, project in (("ranking", Project(task="ranking")), ("ratings", ratings_project())):
        db = tmp_path / f"{task}.sqlite"
        with Store(db, create=True) as store:
            store.add_items(multi_items(3, k=4), overlap=1, project=project)
        _judge(db, stub, "stub-longer", "--workers", "2")
        with Store(db) as store:
            rows = store.judgments_of()
            lengths = {item.id: [len(r) for r in item.responses] for item, _, _ in store.items()}
        assert len(rows) == 3 and all(r["kind"] == "ai" for r in rows)
        for row in rows:
            by_length = sorted(range(4), key=lambda i: -lengths[row["item_id"]][i])
            assert [o["order"] for o in row["detail"]["orders"]] == [[0, 1, 2, 3], [3, 2, 1, 0]]
            assert row["detail"]["consistency"] == 1.0
            if task == "ranking":
                assert row["value"] == [by_length.index(i) + 1 for i in range(4)]
            else:
                assert row["value"]["scores"]["helpful"] == [7 - by_length.index(i)
                                                             for i in range(4)]


def test_unreadable_answers_store_nothing_and_are_judged_again(tmp_path, stub):
    db = tmp_path / "labels.sqlite"
    _pairwise_db(db, count=4).close()
    result = _judge(db, stub, "stub-garbage", "--name", "ai-g")
    assert "0 items judged" in result.output and "4 unparsed" in result.output
    unparsed = [json.loads(line) for line in
                (tmp_path / "labels.judge.unparsed.jsonl").read_text().splitlines()]
    assert len(unparsed) == 4 and "no [[A]], [[B]] or [[C]]" in unparsed[0]["error"]
    assert unparsed[0]["orders"][0]["answer"] == "I cannot decide."
    result = _judge(db, stub, "stub-longer", "--name", "ai-g")  # the same judge, fixed
    assert "4 items judged by ai-g" in result.output
    again = _judge(db, stub, "stub-longer", "--name", "ai-g")
    assert "0 items judged" in again.output and "0 unparsed" in again.output
    stats = json.loads((tmp_path / "labels.judge.stats.json").read_text())
    assert stats["judged_before"] == 4


def test_bad_judge_options_fail_in_one_line(tmp_path, stub):
    db = tmp_path / "labels.sqlite"
    _pairwise_db(db, count=2).close()
    for args, message in ((["--judge", "tiny", "--judge-url", stub], "name one judge"),
                          (["--judge-url", stub], "--judge-url needs --judge-model"),
                          (["--judge", str(tmp_path / "nowhere")], "no such directory"),
                          (["--judge-url", "http://127.0.0.1:9/v1", "--judge-model", "x"],
                           "127.0.0.1:9")):
        result = runner.invoke(app, ["judge", "-d", str(db), *args])
        assert result.exit_code == 1 and message in result.output, (args, result.output)
        assert "Traceback" not in result.output


def test_the_tiny_local_model_judges_in_both_orders(tmp_path):
    db = tmp_path / "labels.sqlite"
    _pairwise_db(db, count=3).close()
    result = runner.invoke(app, ["judge", "-d", str(db), "--judge", "tiny"])
    assert result.exit_code == 0, result.output
    with Store(db) as store:
        ai = [r for r in store.judgments_of() if r["kind"] == "ai"]
    assert len(ai) == 3 and {r["user"] for r in ai} == {"ai-tiny"}
    for row in ai:
        verdicts = [o["verdict"] for o in row["detail"]["orders"]]
        assert all(re.fullmatch(r"\[\[[ABC]\]\]", o["answer"]) for o in row["detail"]["orders"])
        sides = ["tie" if v == "C" else "ab"[order["AB".index(v)]]
                 for v, order in zip(verdicts, ([0, 1], [1, 0]), strict=True)]
        assert row["choice"] == (sides[0] if sides[0] == sides[1] else "tie")
