"""`curate report` and the report `filter` writes: every reason, real images, both formats,
recipe run directories (shard folders, a `read` without data, a `write` without sidecars),
examples as text, OASST trees measured by their messages, readable charts, and the page in
headless Chromium at 1366 px."""

from __future__ import annotations

import base64
import html as html_lib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from typer.testing import CliRunner

from curate.cli import app
from curate.report import charts

PNG = b"\x89PNG\r\n\x1a\n"
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
                 if Path(p).exists()), None)
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
QUESTION = "Which city is the capital?"


def _records() -> list[dict]:
    answers = ["Paris is the capital of France, and it sits on the river Seine."] * 6 + [
        "N/A", "", "As an AI language model, I cannot have a favourite city.",
        "I'm sorry, but I can't help with that.", "Paris.<|im_end|>",
        "The answer depends on what you mean by the word capital in the",
        " ".join(f"word{i}" for i in range(400)) + "."]
    return [{"id": f"r{i}", "messages": [{"role": "user", "content": QUESTION},
                                         {"role": "assistant", "content": answer}]}
            for i, answer in enumerate(answers)]


def _write_jsonl(path: Path, rows: list, *, bad_line: str | None = None) -> Path:
    lines = [json.dumps(row, ensure_ascii=False) for row in rows]
    if bad_line is not None:
        lines.insert(3, bad_line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _invoke(*args: str) -> None:
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def filtered(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    source = _write_jsonl(folder / "in.jsonl", _records())
    config = folder / "rules.yaml"
    config.write_text("flags: {refusal: true}\n")
    _invoke("filter", source, "-o", folder / "clean.jsonl", "--preset", "sft-default",
            "--max-words", "100", "--config", config)
    return folder


def _section(html: str, title: str) -> str:
    """The HTML of one h2 section."""
    start = html.index(f">{html_lib.escape(title)}</h2>")
    end = html.find("<h2", start)
    return html[start:end if end > 0 else len(html)]


def test_filter_writes_a_report_with_every_reason_and_real_images(filtered):
    stats = json.loads((filtered / "clean.stats.json").read_text())
    reasons = set(stats["removed_by_reason"])
    assert reasons == {"placeholder", "empty_answer", "ai_boilerplate", "refusal",
                       "template_tokens", "truncated", "words_above_max"}
    html = (filtered / "clean.report.html").read_text()
    for reason in reasons:
        assert f"Removed for {reason}: 1 record<" in html, reason
    images = re.findall(r"src='data:image/png;base64,([^']+)'", html)
    assert len(images) >= 3  # reasons, lengths of kept and removed, the words threshold
    assert all(base64.b64decode(data).startswith(PNG) for data in images)
    assert "id='lengths-filter'" in html and "id='score-filter-words'" in html
    assert html.count("<div class='example'>") == sum(
        min(3, n) for n in stats["removed_by_reason"].values())
    assert "words = 400 (threshold 100)" in html  # the failing score of an example


def test_removed_examples_show_the_text_not_the_id(filtered):
    html = (filtered / "clean.report.html").read_text()
    titles = re.findall(r"<div class='title'>([^<]*)</div>", html)
    assert titles and all(title.startswith(QUESTION) for title in titles), titles
    placeholder = html[html.index("Removed for placeholder"):]
    body = re.search(r"<pre>(.*?)</pre>", placeholder, re.DOTALL)[1]
    assert body == f"[user] {QUESTION}\n\n[assistant] N/A"


def test_markdown_report_writes_png_files(filtered):
    out = filtered / "report.md"
    _invoke("report", filtered / "clean.stats.json", "-o", out)
    text = out.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert links
    for link in links:
        assert (filtered / link).read_bytes().startswith(PNG)
    assert "| filter | placeholder | removed | 1 |" in text
    assert "[assistant] N/A" in text


def test_a_step_that_removed_nothing_gets_no_empty_sections(filtered):
    _invoke("score", filtered / "clean.jsonl", "-o", filtered / "scored.jsonl",
            "--signals", "counts")
    out = filtered / "run.html"
    _invoke("report", filtered, "-o", out)
    html = out.read_text()
    overview = _section(html, "Overview")
    assert "<td>score</td>" in overview and "<td>filter</td>" in overview
    assert "filter: what was removed" in html
    assert "score: what was removed" not in html
    for text in ("No records to measure", "Nothing was removed", "No thresholded scores"):
        assert text not in html


@pytest.fixture(scope="module")
def recipe_run(tmp_path_factory) -> Path:
    """A recipe run: read (with one unreadable line) -> dedup -> filter -> write."""
    folder = tmp_path_factory.mktemp("recipe")
    records = _records() + [{"id": "copy", "messages": _records()[0]["messages"]}]
    _write_jsonl(folder / "in.jsonl", records, bad_line="{not json")
    recipe = folder / "recipe.yaml"
    recipe.write_text("name: t\non_error: skip\nsteps:\n  - read: {path: in.jsonl}\n"
                      "  - dedup: {method: exact}\n"
                      "  - filter: {preset: sft-default, report: false}\n"
                      "  - write: {path: out.jsonl}\n")
    _invoke("run", recipe, "-o", folder / "run")
    return folder / "run"


def test_report_of_a_recipe_run_reads_shard_folders_and_skips_empty_steps(recipe_run, tmp_path):
    assert (recipe_run / "02_dedup" / "out" / "_manifest.json").exists()  # the new layout
    assert not (recipe_run / "01_read" / "out").exists()  # a read writes no data
    out = tmp_path / "run.html"
    _invoke("report", recipe_run, "-o", out)
    html = out.read_text()
    overview = _section(html, "Overview")
    for step in ("01_read", "02_dedup", "03_filter", "04_write"):
        stats = json.loads((recipe_run / step / "out.stats.json").read_text())
        row = re.search(rf"<tr><td>{step}</td><td>([\d,]+)</td><td>([\d,]+)</td>", overview)
        assert row and (int(row[1]), int(row[2])) == (stats["in"], stats["out"]), step
    assert "04_write: what was removed" not in html
    dedup = _section(html, "02_dedup: what was removed")
    assert dedup.count("<div class='example'>") == 3  # 6 duplicates of r0, the first 3
    # the kept record each duplicate lost to is shown as text, read from the kept output
    assert "kept: the record it duplicates (id r0)" in dedup
    assert html_lib.escape("[assistant] Paris is the capital of France") in dedup
    filtered = _section(html, "03_filter: what was removed")
    assert "Removed for placeholder" in filtered and "id='lengths-03-filter'" in filtered


def test_rejected_input_lines_are_shown_with_file_and_line(recipe_run, tmp_path):
    out = tmp_path / "run.html"
    _invoke("report", recipe_run, "-o", out)
    read = _section(out.read_text(), "01_read: what was removed")
    assert "0 of 15 records removed (0.0%), 1 rejected." in read
    assert "Rejected for bad_json: 1 record<" in read
    assert re.search(r"<div class='title'>[^<]*in\.jsonl:4</div>", read)
    assert "{not json" in read


def test_a_moved_run_directory_still_finds_its_files(recipe_run, tmp_path):
    moved = tmp_path / "elsewhere"
    shutil.copytree(recipe_run, moved)
    out = tmp_path / "moved.html"
    _invoke("report", moved, "-o", out)
    assert "kept: the record it duplicates (id r0)" in out.read_text()


def test_removed_oasst_trees_are_measured_and_shown_by_their_messages(tmp_path):
    def node(role, text, replies=(), rank=None):
        return {"message_id": f"{role}-{text[:6]}", "role": role, "text": text,
                "lang": lang, "rank": rank, "review_result": True, "deleted": False,
                "synthetic": False, "replies": list(replies)}

    lang = "en"
    english = node("prompter", "Why is the sky blue?",
                   [node("assistant", "Because of Rayleigh scattering.", rank=0)])
    lang = "de"
    german = node("prompter", "Wie spät ist es?", [node("assistant", "Es ist drei Uhr.", rank=0)])
    source = _write_jsonl(tmp_path / "trees.jsonl", [
        {"message_tree_id": "t-en", "tree_state": "ready_for_export", "prompt": english},
        {"message_tree_id": "t-de", "tree_state": "ready_for_export", "prompt": german}])
    _invoke("convert", source, "-o", tmp_path / "sft.jsonl", "--lang", "en")
    out = tmp_path / "r.html"
    _invoke("report", tmp_path / "sft.stats.json", "-o", out)
    html = out.read_text()
    removed_row = re.search(r"<tr><td>removed</td><td>1</td><td>(\d+)</td>", html)
    assert removed_row and removed_row[1] == "8"  # 4 + 4 words of the two messages, no ids
    assert "[prompter] Wie spät ist es?\n\n  [assistant, rank 0] Es ist drei Uhr." in html
    assert "message_id" not in html


def _drawn(figure):
    FigureCanvasAgg(figure).draw()  # as `charts.png` does, so positions are final
    return figure


def _outside(figure) -> bool:
    """The legend lies wholly outside the plotting area (so it covers no bar)."""
    axes = _drawn(figure).axes[0]
    legend = axes.get_legend().get_window_extent()
    return not legend.overlaps(axes.get_window_extent())


def _unclipped(figure) -> bool:
    """Every tick label shown and both axis labels lie inside the image."""
    axes = _drawn(figure).axes[0]
    width, height = figure.canvas.get_width_height()
    texts = [axes.xaxis.label, axes.yaxis.label]
    for axis in (axes.xaxis, axes.yaxis):
        low, high = sorted(axis.get_view_interval())
        texts += [label for location, label in zip(axis.get_ticklocs(), axis.get_ticklabels())
                  if low <= location <= high]
    boxes = [text.get_window_extent() for text in texts if text.get_text()]
    return all(box.x0 >= 0 and box.y0 >= 0 and box.x1 <= width and box.y1 <= height
               for box in boxes)


def test_counts_go_on_a_log_scale_when_the_removed_tail_would_vanish():
    rng = np.random.default_rng(0)
    kept = rng.integers(5, 400, 5000)
    figure = charts.distribution(kept, [3, 900, 950], "words")
    assert figure.axes[0].get_yscale() == "log" and figure.axes[0].get_xscale() == "log"
    assert _outside(figure) and _unclipped(figure)
    many = charts.distribution(rng.integers(0, 3, 200_000), [5], "words")
    assert _unclipped(many)  # "100,000" fits beside the axis label
    balanced = charts.distribution(rng.random(300), rng.random(200), "score", high=0.9)
    assert balanced.axes[0].get_yscale() == "linear"
    assert balanced.axes[0].get_xscale() == "linear"
    assert _outside(balanced)
    with_zero = charts.distribution([0, 0, 1, 5, 300], [0, 700], "words")
    assert with_zero.axes[0].get_xscale() == "symlog"  # 0 words stays on the axis


def test_rare_reasons_stay_visible_and_legends_cover_no_bars():
    bars = charts.reason_bars({"ai_boilerplate": 608, "placeholder": 19, "broken": 0,
                               "05_filter: dup_10gram_char_frac_above_max": 19})
    assert bars.axes[0].get_xscale() == "log" and _unclipped(bars)
    assert charts.reason_bars({"a": 20, "b": 6}).axes[0].get_xscale() == "linear"
    funnel = charts.funnel(["01_read", "02_filter"], [100, 80], [0, 20], [1, 0])
    assert _outside(funnel) and _unclipped(funnel)


def test_the_report_reads_well_in_chromium_at_1366_px(recipe_run, tmp_path):
    assert CHROMIUM, "Debian's chromium is not installed (apt-get install -y chromium)"
    from playwright.sync_api import sync_playwright

    out = tmp_path / "run.html"
    _invoke("report", recipe_run, "-o", out)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(out.as_uri())
            layout = page.evaluate("""() => ({
                overflow: document.documentElement.scrollWidth - window.innerWidth,
                images: [...document.images].map(i => [i.naturalWidth, i.width,
                                                        i.getBoundingClientRect().right]),
                empty: [...document.querySelectorAll('h2')].filter(h => {
                    const next = h.nextElementSibling; return !next || next.tagName === 'H2';
                }).map(h => h.textContent),
                links: [...document.querySelectorAll('nav a')].map(
                    a => !!document.getElementById(a.getAttribute('href').slice(1))),
            })""")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "curate_report_1366.png"), full_page=True)
        finally:
            browser.close()
    assert layout["overflow"] <= 0  # nothing wider than the window
    assert layout["images"] and all(natural > 0 and shown <= natural and right <= 1366
                                    for natural, shown, right in layout["images"])
    assert layout["empty"] == []  # every section has something in it
    assert layout["links"] and all(layout["links"])  # every contents link has its target
    assert (ARTIFACTS / "curate_report_1366.png").read_bytes().startswith(PNG)


@pytest.mark.parametrize("name", ["missing-dir/x.stats.json", "nothing.jsonl"])
def test_report_of_something_missing_is_an_error(tmp_path, name):
    result = CliRunner().invoke(app, ["report", str(tmp_path / name), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "error:" in result.output
    assert not (tmp_path / "r.html").exists()


def test_report_help_has_an_example():
    result = CliRunner().invoke(app, ["report", "--help"])
    assert result.exit_code == 0 and "Example: curate report" in result.output


def test_the_report_breaks_removals_down_by_language(tmp_path):
    answers = {"en-ok": "Paris is the capital of France, and it sits on the river Seine.",
               "en-na": "N/A", "zh-ok": "巴黎是法国的首都，位于塞纳河畔。", "zh-na": "无",
               "zh-cut": "巴黎是法国的首都，也是法国最大的城市，人口大约有两百万，"}
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": key, "messages": [
        {"role": "user", "content": "Which city?"}, {"role": "assistant", "content": text}]},
        ensure_ascii=False) + "\n" for key, text in answers.items()), encoding="utf-8")
    _invoke("filter", source, "-o", tmp_path / "clean.jsonl", "--preset", "sft-default")
    html = (tmp_path / "clean.report.html").read_text(encoding="utf-8")
    table = _section(html, "Removed records by language")
    assert "<th>en</th>" in table and "<th>zh</th>" in table
    placeholder = table[table.index("placeholder"):].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", placeholder) == ["1", "1"]  # one English, one Chinese
    assert "truncated" in table
