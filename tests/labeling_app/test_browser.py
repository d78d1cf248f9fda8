"""Headless Chromium (Debian's, driven by Playwright) logs in and labels four items: by key,
by mouse, by key after typing a rationale, and a double key press that must send one vote."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from labeling_app.app import LabelingApp, launch, load_guidelines
from labeling_app.store import Store

CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
                 if Path(p).exists()), None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# (shown, canonical side on the left) -> canonical choice, written out independently.
CANONICAL = {("left_much", "a"): "a_much", ("left_much", "b"): "b_much", ("right", "a"): "b",
             ("right", "b"): "a", ("tie", "a"): "tie", ("tie", "b"): "tie"}
BUSY = re.compile(r"\bprefkit-busy\b")


@pytest.fixture
def server(tmp_path, make_items):
    store = Store(tmp_path / "labels.sqlite", create=True)
    items = make_items(4)
    store.add_items(items, overlap=1)
    store.add_user("ann", password="browser-password")
    running = launch(LabelingApp(store, load_guidelines(), min_seconds=0))
    yield running.url, store, {item.id: item for item in items}
    running.close()
    store.close()


def test_labeler_votes_with_keys_and_mouse_and_the_database_maps_sides(server):
    assert CHROMIUM, "Debian's chromium is not installed (apt-get install -y chromium)"
    url, store, items = server
    seen = []  # (item id, text of the left pane, shown choice)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        calls = []  # the page's calls to event handlers (page load, votes)
        page.on("request", lambda r: calls.append(r.url) if "/run/" in r.url else None)
        page.goto(url)
        page.get_by_label("User name").fill("ann")
        page.get_by_label("Password").fill("browser-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#vote-left")).to_be_enabled(timeout=30_000)
        assert page.get_by_role("tab").all_inner_texts() == ["Label"]  # no Admin tab

        def on_screen() -> tuple[str, str]:
            number = int(re.search(r"Question (\d+)\?", page.locator("#prompt").inner_text())[1])
            return f"item-{number:03d}", page.locator("#pane-left").inner_text().strip()

        def answered(count: int) -> None:
            expect(page.locator("#progress")).to_contain_text(f"{count} judged by you")
            expect(page.locator("body")).not_to_have_class(BUSY)  # the next item is live

        item, left = on_screen()
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "label_browser.png"
        page.screenshot(path=screenshot, full_page=True)
        print(f"screenshot: {screenshot}")
        page.keyboard.press("1")  # A much better, by keyboard
        seen.append((item, left, "left_much"))
        answered(1)

        item, left = on_screen()
        page.locator("#vote-right").click()  # B better, by mouse
        seen.append((item, left, "right"))
        answered(2)

        item, left = on_screen()
        rationale = "5 stars for both; b and s are letters"  # typed keys must not vote
        page.locator("#rationale textarea").fill("")
        page.locator("#rationale textarea").type(rationale)
        page.locator("#prompt").click()  # leave the text box, then use a shortcut
        page.keyboard.press("3")  # Tie
        seen.append((item, left, "tie"))
        answered(3)

        item, left = on_screen()
        before = len(calls)
        page.keyboard.press("4")  # B better ...
        page.keyboard.press("5")  # ... and at once B much better: ignored, the page is busy
        seen.append((item, left, "right"))
        answered(4)
        assert len(calls) == before + 1  # one vote sent, not two
        expect(page.locator("#message")).to_have_text("Saved.")
        expect(page.locator("#prompt")).to_contain_text("Nothing to judge")
        expect(page.locator("#vote-left")).to_be_disabled()  # no item, no voting
        browser.close()

    rows = store.judgment_rows()
    assert len(rows) == 4
    for row, (item_id, left_text, shown) in zip(rows, seen, strict=True):
        item = items[item_id]
        left = "a" if left_text == item.response_a.strip() else "b"
        assert left_text == (item.response_a if left == "a" else item.response_b).strip()
        assert (row["item_id"], row["user"], row["shown"], row["left"]) == (item_id, "ann", shown,
                                                                            left)
        assert row["choice"] == CANONICAL[shown, left]
    assert rows[2]["rationale"] == rationale


def test_the_largest_importable_item_stays_responsive(tmp_path):
    """An item at the import cap (100,000 characters per text), of the kind that is slowest
    to render, loads and takes a vote by key (a 1 MB item once froze the page for 85 s)."""
    assert CHROMIUM, "Debian's chromium is not installed (apt-get install -y chromium)"
    from schemas.labeling import Item

    store = Store(tmp_path / "labels.sqlite", create=True)
    store.add_items([Item(id="huge", prompt="Which is better?", response_a="[" * 100_000,
                          response_b="**a " * 25_000)], overlap=1)
    store.add_user("local", role="admin")
    running = launch(LabelingApp(store, load_guidelines(), min_seconds=0, open_mode=True))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(running.url)
            expect(page.locator("#vote-left")).to_be_enabled(timeout=30_000)
            page.keyboard.press("3")
            expect(page.locator("#message")).to_have_text("Saved.")
            browser.close()
    finally:
        running.close()
    assert [row["choice"] for row in store.judgment_rows()] == ["tie"]
    store.close()
