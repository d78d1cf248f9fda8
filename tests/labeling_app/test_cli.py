"""The `label` command end to end: import, users, simulate, export, report."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from curate.cli import app as curate_app
from labeling_app.cli import app
from schemas import PreferencePair

runner = CliRunner()
REPORT_KEYS = ("n_pairs", "p_longer_wins", "p_longer_wins_ci", "length_coef", "lc_win_rate",
               "p_left_wins", "agreement")


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def _items_file(tmp_path, make_items, count=6, **kwargs):
    path = tmp_path / "items.jsonl"
    path.write_text("".join(i.model_dump_json() + "\n" for i in make_items(count, **kwargs)))
    return path


def test_every_command_has_help_with_an_example():
    for command in (["import"], ["serve"], ["users", "add"], ["users", "list"],
                    ["users", "disable"], ["users", "enable"], ["users", "remove"],
                    ["simulate"], ["export"], ["report"], ["backup"]):
        result = _ok(runner.invoke(app, [*command, "--help"]))
        assert f"Example: label {' '.join(command)}" in result.output


def test_alpaca_eval_outputs_labelled_by_length_simulators(shared_data, tmp_path):
    """curate pairs -> label import -> label simulate -> label export / report."""
    folder = shared_data / "alpaca_eval"
    items, db = tmp_path / "items.jsonl", tmp_path / "labels.sqlite"
    _ok(runner.invoke(curate_app, ["pairs", str(folder / "alpaca-7b_outputs.json"),
                                   str(folder / "llama-2-7b-chat-hf_outputs.json"),
                                   "-o", str(items)]))
    n_items = len(items.read_text().splitlines())
    _ok(runner.invoke(app, ["import", str(items), "-d", str(db), "--overlap", "3"]))
    imported = json.loads((tmp_path / "labels.import.stats.json").read_text())
    assert imported["added"] == imported["in"] == n_items
    _ok(runner.invoke(app, ["simulate", "-d", str(db), "--labelers", "4", "--seed", "1",
                            "--policy", "length"]))
    prefs = tmp_path / "prefs.jsonl"
    exported = _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(prefs),
                                       "--format", "dpo", "--min-agreement", "0.6",
                                       "--include-simulated"]))
    assert "chosen is longer in 100% of pairs" in exported.output
    pairs = [PreferencePair.model_validate_json(line) for line in prefs.read_text().splitlines()]
    stats = json.loads((tmp_path / "prefs.stats.json").read_text())
    assert stats["in"] == n_items == stats["out"] + stats["removed"] and len(pairs) == stats["out"]
    assert stats["lengths"]["chosen_longer_share"] == 1.0
    meta = pairs[0].meta
    assert meta["simulated"] is True and meta["n_votes"] == 3
    assert {"strength", "votes", "agreement", "item_id", "source_chosen",
            "source_rejected"} <= set(meta)
    report = json.loads(_ok(runner.invoke(app, ["report", "-d", str(db), "--json",
                                                "--include-simulated"])).stdout)
    assert all(key in report for key in REPORT_KEYS)
    assert report["n_pairs"] == 3 * n_items
    assert report["p_longer_wins"] == 1.0
    assert report["p_left_wins"] == pytest.approx(0.5, abs=0.05)
    assert report["agreement"]["percent"] == 1.0
    html = tmp_path / "report.html"
    _ok(runner.invoke(app, ["report", "-d", str(db), "-o", str(html), "--include-simulated"]))
    assert "Judgment report" in html.read_text()
    assert html.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert json.loads(html.with_suffix(".json").read_text())["n_pairs"] == 3 * n_items


def test_report_audits_an_ai_judge_file(shared_data):
    path = shared_data / "alpaca_eval/llama-2-7b-chat-hf_vs_davinci003_gpt4_annotations.json"
    result = _ok(runner.invoke(app, ["report", str(path), "--json"]))
    report = json.loads(result.stdout)
    assert all(key in report for key in REPORT_KEYS)
    assert report["n_pairs"] == 805 and report["p_left_wins"] is None
    assert report["agreement"] is None and report["p_longer_wins"] > 0.65
    assert set(report["lc_win_rate"]) == {"text_davinci_003", "llama-2-7b-chat-hf"}
    assert "P(longer wins)=" in result.stderr


def test_report_never_replaces_the_input_or_files_it_did_not_write(shared_data, tmp_path):
    """Found by an outsider: `label report ann.json -o ann.html` wrote the report's JSON over
    the 2 MB annotations it read, and `-o notes.html` replaced an unrelated notes.png."""
    source = tmp_path / "ann.json"
    source.write_bytes((shared_data / "alpaca_eval/"
                        "llama-2-7b-chat-hf_vs_davinci003_gpt4_annotations.json").read_bytes())
    original = source.read_bytes()
    result = runner.invoke(app, ["report", str(source), "-o", str(tmp_path / "ann.html")])
    assert result.exit_code == 1 and "is also an input" in " ".join(result.output.split())
    assert source.read_bytes() == original and not (tmp_path / "ann.html").exists()
    for mine, text in (("notes.png", "my picture"), ("notes.json", '{"mine": 1}')):
        (tmp_path / mine).write_text(text)
        result = runner.invoke(app, ["report", str(source), "-o", str(tmp_path / "notes.html")])
        assert result.exit_code == 1 and "did not write" in " ".join(result.output.split())
        assert (tmp_path / mine).read_text() == text and not (tmp_path / "notes.html").exists()
        (tmp_path / mine).unlink()
    html = tmp_path / "report.html"
    for _ in range(2):  # a report's own files are replaced by the next report
        _ok(runner.invoke(app, ["report", str(source), "-o", str(html)]))
        assert json.loads(html.with_suffix(".json").read_text())["n_pairs"] == 805
        assert html.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.iterdir()) == \
        ["ann.json", "report.html", "report.json", "report.png"]
    summary = json.loads(html.with_suffix(".json").read_text())  # as reports were before sets
    html.with_suffix(".json").write_text(json.dumps({k: v for k, v in summary.items()
                                                     if k != "output_set"}))
    _ok(runner.invoke(app, ["report", str(source), "-o", str(html)]))
    assert "output_set" in json.loads(html.with_suffix(".json").read_text())


def test_blind_relabel_recovers_the_original_preferences(shared_data, tmp_path):
    """curate convert -> curate pairs --from-preference -> perfect simulated labelers ->
    export: every chosen side comes back, whatever side it was shown on."""
    source = tmp_path / "source.jsonl"
    _ok(runner.invoke(curate_app, ["convert", str(shared_data / "dpo_en_demo_300.json"),
                                   "-o", str(source), "--to", "preference"]))
    items, db = tmp_path / "items.jsonl", tmp_path / "labels.sqlite"
    _ok(runner.invoke(curate_app, ["pairs", "--from-preference", str(source), "-o", str(items),
                                   "--seed", "7", "--gold-fraction", "0.1"]))
    _ok(runner.invoke(app, ["import", str(items), "-d", str(db), "--overlap", "2"]))
    _ok(runner.invoke(app, ["simulate", "-d", str(db), "--labelers", "2", "--policy",
                            "quality", "--accuracy", "1.0"]))
    prefs = tmp_path / "prefs.jsonl"
    _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(prefs), "--include-simulated"]))
    original = {json.loads(line)["id"]: json.loads(line) for line in source.read_text().splitlines()}
    exported = [json.loads(line) for line in prefs.read_text().splitlines()]
    assert len(exported) == len(original)
    for pair in exported:
        assert pair["chosen"] == original[pair["id"]]["chosen"]
        assert pair["rejected"] == original[pair["id"]]["rejected"]
        assert pair["meta"]["source_chosen"] == "chosen"
    report = json.loads(_ok(runner.invoke(app, ["report", "-d", str(db), "--json",
                                                "--include-simulated"])).stdout)
    assert report["gold"]["accuracy"] == 1.0
    assert report["lc_win_rate"]["chosen"] > 0.9


def test_import_is_all_or_nothing_on_bad_input(tmp_path, make_items):
    items = _items_file(tmp_path, make_items, 3)
    lines = items.read_text().splitlines()
    lines.insert(1, json.dumps({"id": "x", "prompt": "q", "response_a": "", "response_b": "b"}))
    items.write_text("\n".join(lines) + "\n")
    db = tmp_path / "labels.sqlite"
    failed = runner.invoke(app, ["import", str(items), "-d", str(db)])
    assert failed.exit_code == 1
    assert f"{items}:2: field 'response_a'" in failed.output
    assert not db.exists()  # nothing half-written
    _ok(runner.invoke(app, ["import", str(items), "-d", str(db), "--on-error", "skip"]))
    stats = json.loads((tmp_path / "labels.import.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["rejected"]) == (4, 3, 1)
    rejects = (tmp_path / "labels.import.rejects.jsonl").read_text().splitlines()
    assert json.loads(rejects[0])["line"] == 2
    changed = tmp_path / "changed.jsonl"
    changed.write_text(lines[0].replace("Answer A", "Other answer") + "\n")
    conflict = runner.invoke(app, ["import", str(changed), "-d", str(db)])
    assert conflict.exit_code == 1 and "already in the database" in conflict.output


def test_users_and_serve_preconditions(tmp_path, make_items):
    db = tmp_path / "labels.sqlite"
    _ok(runner.invoke(app, ["import", str(_items_file(tmp_path, make_items)), "-d", str(db)]))
    no_login = runner.invoke(app, ["serve", "-d", str(db)])
    assert no_login.exit_code == 1 and "nobody can log in" in no_login.output
    exposed = runner.invoke(app, ["serve", "-d", str(db), "--open", "--host", "0.0.0.0"])
    assert exposed.exit_code == 1 and "loopback" in exposed.output
    _ok(runner.invoke(app, ["users", "add", "alice", "-d", str(db), "--role", "admin",
                            "--password-stdin"], input="pa55word-long-enough\n"))
    again = runner.invoke(app, ["users", "add", "alice", "-d", str(db)],
                          input="another-long-password\n")
    assert again.exit_code == 1 and "already exists" in again.output
    empty = runner.invoke(app, ["users", "add", "bob", "-d", str(db)], input="\n")
    assert empty.exit_code == 1 and "must not be empty" in empty.output
    listed = [json.loads(line) for line in
              _ok(runner.invoke(app, ["users", "list", "-d", str(db)])).stdout.splitlines()]
    assert listed == [{"name": "alice", "role": "admin", "kind": "human", "simulated": False,
                       "disabled": False,
                       "can_log_in": True, "judgments": 0, "sessions": 0}]


def test_export_judgments_csv_config_file_and_simulated_filter(tmp_path, make_items):
    db = tmp_path / "labels.sqlite"
    _ok(runner.invoke(app, ["import", str(_items_file(tmp_path, make_items, 12)), "-d",
                            str(db), "--overlap", "2"]))
    _ok(runner.invoke(app, ["simulate", "-d", str(db), "--labelers", "2", "--policy", "left"]))
    out = tmp_path / "votes.csv"
    config = tmp_path / "export.yaml"
    config.write_text(yaml.safe_dump({"format": "judgments", "include_simulated": False}))
    _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(out), "--config", str(config)]))
    stats = json.loads((tmp_path / "votes.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"]) == (24, 0, 24)
    assert out.read_text().startswith("item_id,user,choice,winner")
    _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(out), "--config", str(config),
                            "--include-simulated"]))  # the flag overrides the file
    rows = out.read_text().splitlines()
    assert len(rows) == 25 and all(",true," in row for row in rows[1:])
    report = json.loads(_ok(runner.invoke(app, ["report", str(out), "--json",
                                                "--include-simulated"])).stdout)
    assert report["n_pairs"] == 24 and report["p_left_wins"] == 1.0
    flagged = {row["user"]: row["flags"] for row in report["labelers"]}
    assert flagged == {"sim-01": ["picks_left"], "sim-02": ["picks_left"]}
    config.write_text(yaml.safe_dump({"min_agreemnt": 0.5}))
    bad = runner.invoke(app, ["export", "-d", str(db), "-o", str(out), "--config", str(config)])
    assert bad.exit_code == 1 and "min_agreemnt" in bad.output


def test_simulate_is_deterministic_for_a_seed(tmp_path, make_items):
    items = _items_file(tmp_path, make_items, 20)
    results = []
    for name in ("one", "two"):
        db = tmp_path / f"{name}.sqlite"
        _ok(runner.invoke(app, ["import", str(items), "-d", str(db)]))
        _ok(runner.invoke(app, ["simulate", "-d", str(db), "--seed", "5", "--policy", "random"]))
        out = tmp_path / f"{name}.jsonl"
        _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(out), "--format",
                                "judgments", "--include-simulated"]))
        results.append([{k: v for k, v in json.loads(line).items()
                         if k not in ("seconds", "created_at")}
                        for line in out.read_text().splitlines()])
    assert results[0] == results[1] and len(results[0]) == 60
    assert {row["user"] for row in results[0]} == {f"sim-0{i}" for i in range(1, 6)}


def _share_of_a(tmp_path, name, items, seed):
    db = tmp_path / f"{name}.sqlite"
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(item.model_dump_json() + "\n" for item in items))
    _ok(runner.invoke(app, ["import", str(path), "-d", str(db), "--overlap", "1"]))
    _ok(runner.invoke(app, ["simulate", "-d", str(db), "--labelers", "1", "--seed", str(seed),
                            "--policy", "quality"]))
    out = tmp_path / f"{name}.votes.jsonl"
    _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(out), "--format", "judgments",
                            "--include-simulated"]))
    winners = [json.loads(line)["winner"] for line in out.read_text().splitlines()]
    assert len(winners) == len(items)
    return winners.count("a") / len(winners)


@pytest.mark.parametrize("seed", [0, 7])
def test_simulated_coin_flips_are_independent_of_the_side_shown(tmp_path, make_items, seed):
    """Without gold the quality policy flips a coin. Its coin and the left/right draw once
    came from two `random.Random(seed)` in lockstep, so every vote went to A. The same items
    with A and B swapped must both come out near half and half."""
    items = make_items(200)  # no gold, no meta.truth
    swapped = [item.model_copy(update={"response_a": item.response_b,
                                       "response_b": item.response_a}) for item in items]
    for name, batch in (("straight", items), ("swapped", swapped)):
        share = _share_of_a(tmp_path, name, batch, seed)
        assert 0.35 < share < 0.65, (name, share)


def test_report_and_export_leave_simulated_votes_out_and_say_so(tmp_path, make_items):
    db = tmp_path / "labels.sqlite"
    _ok(runner.invoke(app, ["import", str(_items_file(tmp_path, make_items, 10)), "-d", str(db),
                            "--overlap", "2"]))
    _ok(runner.invoke(app, ["simulate", "-d", str(db), "--labelers", "2", "--policy", "left"]))
    report = runner.invoke(app, ["report", "-d", str(db), "--json"])
    summary = json.loads(_ok(report).stdout)
    assert summary["n_pairs"] == 0 and summary["simulated"] == {"votes": 20, "included": False}
    assert "simulated votes left out=20" in report.stderr
    shown = _ok(runner.invoke(app, ["report", "-d", str(db)])).stdout
    assert "Simulated votes: 20 left out" in shown
    html = tmp_path / "report.html"
    _ok(runner.invoke(app, ["report", "-d", str(db), "-o", str(html), "--include-simulated"]))
    assert "Includes simulated votes" in html.read_text()
    prefs = tmp_path / "prefs.jsonl"
    exported = _ok(runner.invoke(app, ["export", "-d", str(db), "-o", str(prefs)]))
    assert "simulated votes: 20 left out" in exported.stderr
    stats = json.loads((tmp_path / "prefs.stats.json").read_text())
    assert stats["out"] == 0 and stats["removed_by_reason"] == {"only_simulated_votes": 10}
