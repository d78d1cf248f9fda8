"""`curate report` and the report `filter` writes: every reason, real images, both formats."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app

PNG = b"\x89PNG\r\n\x1a\n"


def _records() -> list[dict]:
    answers = ["Paris is the capital of France, and it sits on the river Seine."] * 6 + [
        "N/A", "", "As an AI language model, I cannot have a favourite city.",
        "I'm sorry, but I can't help with that.", "Paris.<|im_end|>",
        "The answer depends on what you mean by the word capital in the",
        " ".join(f"word{i}" for i in range(400)) + "."]
    return [{"id": f"r{i}", "messages": [{"role": "user", "content": "Which city is the capital?"},
                                         {"role": "assistant", "content": answer}]}
            for i, answer in enumerate(answers)]


@pytest.fixture(scope="module")
def filtered(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    source = folder / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in _records()) + "\n")
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(folder / "clean.jsonl"),
                                      "--preset", "sft-default", "--max-words", "100",
                                      "--config", str(_config(folder))])
    assert result.exit_code == 0, result.output
    return folder


def _config(folder: Path) -> Path:
    path = folder / "rules.yaml"
    path.write_text("flags: {refusal: true}\n")
    return path


def test_filter_writes_a_report_with_every_reason_and_real_images(filtered):
    stats = json.loads((filtered / "clean.stats.json").read_text())
    reasons = set(stats["removed_by_reason"])
    assert reasons == {"placeholder", "empty_answer", "ai_boilerplate", "refusal",
                       "template_tokens", "truncated", "words_above_max"}
    html = (filtered / "clean.report.html").read_text()
    for reason in reasons:
        assert reason in html, reason
    images = re.findall(r"src='data:image/png;base64,([^']+)'", html)
    assert len(images) >= 3  # reasons, lengths before/after, the words threshold
    assert all(base64.b64decode(data).startswith(PNG) for data in images)
    assert "id='lengths-filter'" in html and "id='score-filter-words'" in html
    assert html.count("<details>") == sum(min(3, n) for n in stats["removed_by_reason"].values())
    assert "words = 400 (threshold 100)" in html  # the failing score of an example


def test_markdown_report_writes_png_files(filtered):
    out = filtered / "report.md"
    result = CliRunner().invoke(app, ["report", str(filtered / "clean.stats.json"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert links
    for link in links:
        assert (filtered / link).read_bytes().startswith(PNG)
    assert "| filter | placeholder |" in text


def test_report_of_a_run_directory_covers_every_step(filtered):
    source = filtered / "clean.jsonl"
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(filtered / "scored.jsonl"),
                                      "--signals", "counts"])
    assert result.exit_code == 0, result.output
    out = filtered / "run.html"
    result = CliRunner().invoke(app, ["report", str(filtered), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert "Lengths before and after: filter" in html and "Lengths before and after: score" in html


def test_report_of_a_recipe_run_directory_reads_its_step_folders(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in _records()) + "\n")
    run = tmp_path / "run"
    for step, args in (("01_filter", ["filter", str(source), "--preset", "sft-default", "--no-report"]),
                       ("02_score", ["score", str(source), "--signals", "counts"])):
        (run / step).mkdir(parents=True)
        result = CliRunner().invoke(app, [*args, "-o", str(run / step / "out.jsonl")])
        assert result.exit_code == 0, result.output
    out = tmp_path / "run.html"
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.index("Lengths before and after: 01_filter") < html.index(
        "Lengths before and after: 02_score")
    assert "placeholder" in html


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
    out = tmp_path / "clean.jsonl"
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(out), "--preset",
                                      "sft-default"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "clean.report.html").read_text(encoding="utf-8")
    table = html[html.index("Removed records by language"):]
    table = table[:table.index("</table>")]
    assert "<th>en</th>" in table and "<th>zh</th>" in table
    placeholder = table[table.index("placeholder"):].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", placeholder) == ["1", "1"]  # one English, one Chinese
    assert "truncated" in table
