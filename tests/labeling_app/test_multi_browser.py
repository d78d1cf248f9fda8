"""Headless Chromium ranks by keyboard and by mouse, and rates with buttons and flags; the
database holds what was chosen, mapped from the screen back to the items."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from labeling_app.app import LabelingApp, launch, load_guidelines
from labeling_app.project import Project, ratings_project
from labeling_app.store import Store

from .test_browser import ARTIFACTS, BUSY, CHROMIUM, FLAGS
from .test_multi_store import multi_items

PASSWORD = "browser-password"


@pytest.fixture
def page_of(tmp_path):
    """`page_of(project, items)`: a logged-in page on a fresh server, and its store."""
    opened = []

    def start(project: Project, items: list):
        assert CHROMIUM, "Debian's chromium is not installed (apt-get install -y chromium)"
        store = Store(tmp_path / "labels.sqlite", create=True)
        store.add_items(items, overlap=1, project=project)
        store.add_user("ann", password=PASSWORD)
        running = launch(LabelingApp(store, load_guidelines(task=project.task), min_seconds=0))
        playwright = sync_playwright().start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        opened.append((running, store, playwright, browser))
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        page.goto(running.url)
        page.get_by_label("User name").fill("ann")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#vote-submit")).to_be_enabled(timeout=30_000)
        return page, store

    yield start
    for running, store, playwright, browser in opened:
        browser.close()
        playwright.stop()
        running.close()
        store.close()


def _shown(page, k: int) -> list[int]:
    return [int(re.search(r"response (\d+) of", page.locator(f"#pane-{p}").inner_text())[1])
            for p in range(k)]


def _item_order(screen_ranks: list[int], shown: list[int]) -> list[int]:
    out = [0] * len(shown)
    for position, index in enumerate(shown):
        out[index] = screen_ranks[position]
    return out


def test_ranking_by_keyboard_and_by_mouse(page_of):
    page, store = page_of(Project(task="ranking"), multi_items(3, k=4))
    calls = []
    page.on("request", lambda r: calls.append(r.url) if "/run/" in r.url else None)
    expected = []

    def answered(count: int) -> None:
        expect(page.locator("#progress")).to_contain_text(f"{count} judged by you")
        expect(page.locator("body")).not_to_have_class(BUSY)

    # 1. Keys: 2 = 1 4 3 (responses 2 and 1 tie for best), then Enter.
    shown = _shown(page, 4)
    for key in ["2", "=", "1", "4", "3"]:
        page.keyboard.press(key)
    expect(page.locator("#rank-keys")).to_have_text("Typed: 2 = 1 > 4 > 3")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / "label_ranking.png", full_page=True)
    page.keyboard.press("Enter")
    expected.append(_item_order([1, 1, 3, 2], shown))
    answered(1)

    # 2. Keys, Escape, then the mouse decides every rank and submits.
    shown = _shown(page, 4)
    page.keyboard.press("1")
    page.keyboard.press("2")
    page.keyboard.press("Escape")
    expect(page.locator("#rank-keys")).to_have_text("")
    for position, rank in enumerate([3, 1, 2, 1]):
        page.locator(f"#rank-{position}").get_by_label(str(rank), exact=True).check()
    page.locator("#vote-submit").click()
    expected.append(_item_order([3, 1, 2, 1], shown))
    answered(2)

    # 3. Keys, and Enter pressed twice at once: one submission.
    shown = _shown(page, 4)
    for key in ["4", "3", "2", "1"]:
        page.keyboard.press(key)
    before = len(calls)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    expected.append(_item_order([4, 3, 2, 1], shown))
    answered(3)
    assert len(calls) == before + 1
    expect(page.locator("#prompt")).to_contain_text("Nothing to judge")
    expect(page.locator("#vote-submit")).to_be_disabled()
    assert [row["value"] for row in store.judgments_of()] == expected


def test_ratings_with_buttons_and_flags(page_of):
    project = ratings_project()
    page, store = page_of(project, multi_items(2, k=3))
    first = page.locator("#prompt").inner_text()
    shown = _shown(page, 3)
    scores = {"helpful": [7, 2, 5], "truthful": [6, 3, 4], "harmless": [7, 1, 7]}
    for position in range(3):
        for name, values in scores.items():
            page.locator(f"#rate-{position}-{name}").get_by_label(str(values[position]),
                                                                   exact=True).check()
    page.locator("#flags-1").get_by_label("unsafe").check()
    page.locator("#flags-1").get_by_label("hallucination").check()
    page.locator("#flags-2").get_by_label("refusal").check()
    page.screenshot(path=ARTIFACTS / "label_ratings.png", full_page=True)
    page.locator("#vote-submit").click()
    expect(page.locator("#message")).to_have_text("Saved.")
    # the next item comes with every score and flag cleared (the handler's raw values)
    expect(page.locator("#prompt")).not_to_have_text(first)
    expect(page.locator(".kcolumn input:checked")).to_have_count(0)
    [row] = store.judgments_of()
    flags = [[], ["hallucination", "unsafe"], ["refusal"]]
    for position, index in enumerate(shown):
        assert {name: row["value"]["scores"][name][index] for name in scores} == \
            {name: values[position] for name, values in scores.items()}
        assert row["value"]["flags"][index] == flags[position]


def test_items_with_fewer_responses_show_fewer_panes_and_ranks(page_of):
    """Three responses on a page built for four: the fourth column is hidden, the ranks go to
    3, the key 4 does nothing; the next four-response item shows every pane again."""
    three = multi_items(3, k=3)[2]  # "Question 2?", responses "response i of 2"
    page, store = page_of(Project(task="ranking"), [*multi_items(2, k=4), three])
    judged = []
    for count in range(1, 4):
        n = int(re.search(r"Question (\d+)", page.locator("#prompt").inner_text())[1])
        k = 3 if n == 2 else 4
        expect(page.locator("#response-3")).to_be_visible(visible=k == 4)
        expect(page.locator("#rank-0 input[type=radio]")).to_have_count(k)
        shown = _shown(page, k)
        if k == 3:
            page.keyboard.press("4")
            expect(page.locator("#rank-keys")).to_have_text("")
        for key in [str(p + 1) for p in range(k)]:
            page.keyboard.press(key)
        page.keyboard.press("Enter")
        judged.append((f"m{n:02d}", _item_order(list(range(1, k + 1)), shown)))
        expect(page.locator("#progress")).to_contain_text(f"{count} judged by you")
        expect(page.locator("body")).not_to_have_class(BUSY)
    expect(page.locator("#prompt")).to_contain_text("Nothing to judge")
    for p in range(4):
        expect(page.locator(f"#response-{p}")).to_be_hidden()
    assert sorted((row["item_id"], row["value"]) for row in store.judgments_of()) == \
        sorted(judged)
