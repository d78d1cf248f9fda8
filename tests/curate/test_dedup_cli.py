"""`curate dedup` end to end: files written, summary, config, bad input, real data."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from typer.testing import CliRunner

from curate.cli import app
from curate.dedup import normalise
from curate.io import read_records

runner = CliRunner()


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def sample_rows() -> list[dict]:
    rng = random.Random(1)
    vocabulary = [f"w{i}" for i in range(2000)]
    bases = [" ".join(rng.choice(vocabulary) for _ in range(50)) for _ in range(20)]
    rows = [{"text": b, "score": i} for i, b in enumerate(bases)]
    rows.append({"text": bases[3].upper() + "!!", "score": 100})  # exact copy of row 3
    words = bases[7].split()
    words[1] = "edited"
    rows.append({"text": " ".join(words), "score": 0})  # near copy of row 7
    return rows


def run(*args: str):
    return runner.invoke(app, ["dedup", *args])


def test_cli_writes_kept_removed_clusters_stats_and_a_summary(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", sample_rows())
    out, clusters = tmp_path / "out.jsonl", tmp_path / "clusters.jsonl"
    result = run(str(source), "-o", str(out), "--field", "text", "--clusters", str(clusters))
    assert result.exit_code == 0, result.output
    kept = list(read_records(out))
    assert [r["id"] for r in kept] == list(range(20))  # ids are the 0-based input lines
    removed = {line["record"]["id"]: line for line in read_records(tmp_path / "out.removed.jsonl")}
    assert removed[20]["reason"] == "exact_duplicate" and removed[20]["duplicate_of"] == 3
    assert removed[21]["reason"] == "near_duplicate" and removed[21]["duplicate_of"] == 7
    assert 0.8 <= removed[21]["similarity"] < 1 and removed[21]["cluster_id"] == 1
    assert list(read_records(clusters)) == [
        {"cluster_id": 0, "size": 2, "survivor": 3, "members": [3, 20],
         "min_similarity": 1.0, "max_similarity": 1.0},
        {"cluster_id": 1, "size": 2, "survivor": 7, "members": [7, 21],
         "min_similarity": removed[21]["similarity"], "max_similarity": removed[21]["similarity"]}]
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"], stats["clusters"]) == (22, 20, 2, 2)
    assert stats["removed_by_reason"] == {"exact_duplicate": 1, "near_duplicate": 1}
    assert stats["seconds"] > 0 and stats["docs_per_s"] > 0 and stats["bands"] == 25
    summary = [line for line in result.output.splitlines() if line.startswith("dedup:")]
    assert len(summary) == 1 and "in=22 kept=20 removed=2 clusters=2" in summary[0]
    assert "docs/s" in summary[0]


def test_cli_reruns_are_byte_identical_and_keep_column_works(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", sample_rows())
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.jsonl"
        args = [str(source), "-o", str(out), "--field", "text", "--keep", "score",
                "--clusters", str(tmp_path / f"{name}.clusters.jsonl")]
        assert run(*args).exit_code == 0
        outputs.append([(tmp_path / f"{name}{suffix}").read_bytes()
                        for suffix in (".jsonl", ".removed.jsonl", ".clusters.jsonl")])
    assert outputs[0] == outputs[1]
    kept_ids = {r["id"] for r in read_records(tmp_path / "a.jsonl")}
    assert 20 in kept_ids and 3 not in kept_ids  # score 100 beats score 3
    assert 7 in kept_ids and 21 not in kept_ids  # score 7 beats score 0


def test_config_file_is_validated_and_flags_override_it(tmp_path: Path):
    source = write_jsonl(tmp_path / "in.jsonl", sample_rows())
    out = tmp_path / "out.jsonl"
    config = tmp_path / "dedup.yaml"
    config.write_text("field: text\nmethod: exact\n")
    assert run(str(source), "-o", str(out), "--config", str(config)).exit_code == 0
    assert len(list(read_records(out))) == 21
    assert run(str(source), "-o", str(out), "--config", str(config), "--method", "both").exit_code == 0
    assert len(list(read_records(out))) == 20
    config.write_text("field: text\nbands: 4\n")
    result = run(str(source), "-o", str(out), "--config", str(config))
    assert result.exit_code == 1 and "dedup.yaml: field 'bands'" in result.output
    config.write_text("field: text\nshingles: 3\n")
    result = run(str(source), "-o", str(out), "--config", str(config))
    assert result.exit_code == 1 and "field 'shingles'" in result.output
    result = run(str(source), "-o", str(out), "--clusters", str(tmp_path / "clusters.txt"))
    assert result.exit_code == 1 and "field 'clusters'" in result.output


def test_bad_input_is_a_located_error_or_a_reject(tmp_path: Path):
    rows = [{"text": "some words here"}, {"title": "no text"}, "{broken", {"text": "--"},
            {"text": "Some words, here."}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    result = run(str(source), "-o", str(out), "--field", "text")
    assert result.exit_code == 1  # the first bad line in file order stops the run
    assert "in.jsonl:2: field 'text': missing" in result.output and not out.exists()
    write_jsonl(tmp_path / "in2.jsonl", [row for row in rows if row != {"title": "no text"}])
    result = run(str(tmp_path / "in2.jsonl"), "-o", str(out), "--field", "text")
    assert result.exit_code == 1
    assert "in2.jsonl:2: invalid JSON" in result.output and not out.exists()
    result = run(str(source), "-o", str(out), "--field", "text", "--on-error", "skip")
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    # "--" has no words: valid data, kept (it matches only its exact copies)
    assert (stats["in"], stats["out"], stats["removed"], stats["rejected"]) == (5, 2, 1, 2)
    assert stats["rejected_by_reason"] == {"bad_json": 1, "missing_field": 1}
    assert stats["no_word_texts"] == 1
    assert stats["in"] == stats["out"] + stats["removed"] + stats["rejected"]
    rejects = list(read_records(tmp_path / "out.rejects.jsonl"))
    assert sorted((r["line"], r["reason"]) for r in rejects) == [
        (2, "missing_field"), (3, "bad_json")]


def test_help_has_an_example_and_missing_input_exits_1(tmp_path: Path):
    result = run("--help")
    assert result.exit_code == 0 and "Example: curate dedup" in result.output
    result = run(str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1 and "no such file" in result.output


def test_against_via_the_cli_leaves_the_reference_untouched(tmp_path: Path):
    rows = sample_rows()
    source = write_jsonl(tmp_path / "new.jsonl", rows)
    reference = write_jsonl(tmp_path / "old.jsonl", [{"id": "old", "text": rows[5]["text"]}] * 2)
    before = reference.read_bytes()
    out = tmp_path / "out.jsonl"
    result = run(str(source), "-o", str(out), "--field", "text", "--against", str(reference))
    assert result.exit_code == 0, result.output
    removed = {line["record"]["id"]: line for line in read_records(tmp_path / "out.removed.jsonl")}
    assert set(removed) == {5, 20, 21} and removed[5]["duplicate_of"] == "old"
    assert reference.read_bytes() == before
    assert json.loads((tmp_path / "out.stats.json").read_text())["against"] == [str(reference)]


def test_real_hh_rlhf_first_turns_lose_exactly_their_normalised_duplicates(tmp_path: Path,
                                                                          shared_data: Path):
    with gzip.open(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz", "rt") as handle:
        transcripts = [json.loads(line)["chosen"] for line in handle]
    first_turns = [t.split("\n\nHuman: ", 1)[1].split("\n\nAssistant:", 1)[0] for t in transcripts]
    source = write_jsonl(tmp_path / "hh.jsonl", [{"prompt": t} for t in first_turns])
    out = tmp_path / "out.jsonl"
    assert run(str(source), "-o", str(out), "--field", "prompt", "--method", "exact").exit_code == 0
    removed = list(read_records(tmp_path / "out.removed.jsonl"))
    raw_repeats = [i for i, t in enumerate(first_turns) if t in first_turns[:i]]
    assert len(raw_repeats) == 134  # the data README's count
    assert {line["record"]["id"] for line in removed} >= set(raw_repeats)
    assert len(removed) == len(first_turns) - len({normalise(t) for t in first_turns})
    for line in removed:
        survivor = first_turns[line["duplicate_of"]]
        assert line["duplicate_of"] < line["record"]["id"]
        assert normalise(survivor) == normalise(line["record"]["prompt"])


def test_real_gsm8k_planted_near_duplicates_are_found_and_distant_edits_kept(tmp_path: Path,
                                                                           shared_data: Path):
    rows = list(read_records(shared_data / "gsm8k_train.jsonl"))[:3000]
    rng = random.Random(2)
    planted_near, planted_far = {}, {}
    for source_index in rng.sample(range(len(rows)), 60):
        words = rows[source_index]["question"].split()
        if len(words) < 40:
            continue
        near, far = list(words), list(words)
        near[rng.choice([0, 1, -2, -1])] = "ZZZ"  # at most 2 of ~40 shingles change
        for position in range(0, len(words), 4):
            far[position] = f"q{position}"  # every shingle changes
        planted_near[len(rows)] = source_index
        rows.append({"question": " ".join(near), "answer": "x"})
        planted_far[len(rows)] = source_index
        rows.append({"question": " ".join(far), "answer": "y"})
    for copies, test in ((planted_near, lambda j: j >= 0.85), (planted_far, lambda j: j < 0.3)):
        assert all(test(jaccard5(rows[c]["question"], rows[o]["question"])) for c, o in copies.items())
    source = write_jsonl(tmp_path / "gsm8k.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert run(str(source), "-o", str(out), "--field", "question").exit_code == 0
    removed = {line["record"]["id"]: line for line in read_records(tmp_path / "out.removed.jsonl")}
    assert planted_near and set(planted_near) <= set(removed)
    assert not set(planted_far) & set(removed)
    for copy, original in planted_near.items():
        survivor = removed[original]["duplicate_of"] if original in removed else original
        assert removed[copy]["duplicate_of"] == survivor
    for line in removed.values():
        survivor = rows[line["duplicate_of"]]["question"]
        assert line["similarity"] == round(jaccard5(survivor, line["record"]["question"]), 4)


def jaccard5(a: str, b: str) -> float:
    def grams(text: str) -> set[str]:
        w = normalise(text).split()
        return {" ".join(w[i:i + 5]) for i in range(max(len(w) - 4, 1))}
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def test_empty_input_warns_and_writes_empty_outputs(tmp_path: Path):
    source = tmp_path / "empty.jsonl"
    source.write_text("")
    out = tmp_path / "out.jsonl"
    result = run(str(source), "-o", str(out), "--clusters", str(tmp_path / "c.jsonl"))
    assert result.exit_code == 0, result.output
    assert "no records" in result.output and out.read_text() == ""
    assert (tmp_path / "c.jsonl").read_text() == ""
    assert json.loads((tmp_path / "out.stats.json").read_text())["in"] == 0


def test_ids_are_input_rows_even_when_malformed_rows_are_skipped(tmp_path: Path):
    rows = [{"text": "first text here"}, "{broken", {"text": "second text here"},
            {"id": "own", "text": "First text, here!"}, {"text": "SECOND TEXT HERE"}]
    source = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    result = run(str(source), "-o", str(out), "--field", "text", "--on-error", "skip")
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in read_records(out)] == [0, 2]  # line 2 (id 1) was malformed
    removed = {line["record"]["id"]: line["duplicate_of"]
               for line in read_records(tmp_path / "out.removed.jsonl")}
    assert removed == {"own": 0, 4: 2}
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert (stats["in"], stats["kept"], stats["removed"], stats["rejected"]) == (5, 2, 2, 1)
