"""`score_records` and `curate score`: stable score names, views, and computing only what is missing."""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.filtering import FilterOptions, filter_records
from curate.filters import FAMILIES, Family
from curate.scoring import ScoreOptions, score_records

CHAT = {"id": "c1", "messages": [
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "The capital of France is Paris, which is also its largest city."}]}
DOC = {"id": "d1", "text": "A plain document with a few words in it. It has two sentences."}
RAW = {"problem": "Compute $1+1$.", "solution": "We have $1+1=2$, so the answer is $\\boxed{2}$."}
PAIR = {"id": "p1", "prompt": [{"role": "user", "content": "Say hi."}],
        "chosen": [{"role": "assistant", "content": "Hi there, nice to meet you!"}],
        "rejected": [{"role": "assistant", "content": "No."}]}


def test_scores_have_stable_documented_names():
    [scored] = score_records([CHAT], ScoreOptions())
    scores = scored["scores"]
    for name in ("words", "chars", "lines", "toxicity", "lang", "lang_score", "mean_word_length",
                 "dup_line_frac", "c4_sentences", "line_punct_ratio", "empty_answer", "refusal"):
        assert name in scores, name
    assert scores["words"] == 12
    assert 0 <= scores["toxicity"] <= 1
    assert scores["lang"] == "en" and scores["lang_score"] > 0.5
    assert scores["field"] == "response"
    assert not any(name.startswith("prompt_") and name != "prompt_overlap" and
                   name != "prompt_field" for name in scores)


def test_view_both_adds_prompt_columns_and_input_is_not_modified():
    original = copy.deepcopy(CHAT)
    [scored] = score_records([CHAT], ScoreOptions(view="both", signals=["counts", "language"]))
    assert CHAT == original
    assert scored["scores"]["prompt_words"] == 6
    assert scored["scores"]["words"] == 12
    assert scored["scores"]["prompt_lang"] == "en"


def test_view_prompt_scores_only_the_prompt():
    [scored] = score_records([CHAT], ScoreOptions(view="prompt", signals=["counts", "toxicity"]))
    assert scored["scores"]["prompt_words"] == 6 and 0 <= scored["scores"]["prompt_toxicity"] <= 1
    assert "words" not in scored["scores"] and "toxicity" not in scored["scores"]


@pytest.mark.parametrize(("record", "options", "words"), [
    (DOC, {"field": "text"}, 13),
    (DOC, {}, 13),  # auto: no answer, so the text column
    (RAW, {}, 9),  # auto: `solution` is the answer of a raw problem/solution record
    (RAW, {"field": "problem"}, 3),
    (PAIR, {}, 6),  # a preference pair: the chosen reply
])
def test_documents_raw_columns_and_pairs_are_scored(record, options, words):
    [scored] = score_records([record], ScoreOptions(signals=["counts"], **options))
    assert scored["scores"]["words"] == words


def test_a_record_without_the_text_is_a_clear_error():
    with pytest.raises(ValueError, match="no text under 'response'"):
        score_records([{"id": "x", "title": "no text here"}], ScoreOptions())
    with pytest.raises(ValueError, match="no text under 'question'"):  # a prompt column on purpose
        score_records([RAW], ScoreOptions(prompt_field="question"))
    with pytest.raises(TypeError, match="'scores' column that is not an object"):
        score_records([dict(DOC, scores=0.7)], ScoreOptions())


@pytest.mark.parametrize(("values", "message"), [
    ({"signals": "tokens"}, "needs a tokenizer"),
    ({"signals": "eval_overlap"}, "needs eval sets"),
    ({"signals": "counts,quality"}, "unknown signal family 'quality'"),
    ({"view": "title"}, "view"),
])
def test_invalid_score_options_are_rejected(values, message):
    with pytest.raises(ValueError, match=message):
        ScoreOptions(**values)


@pytest.fixture
def counted_families(monkeypatch):
    """Count calls of every family's scoring, by family name."""
    calls: dict[str, int] = {}
    original = Family.score

    def counting(self, docs, options=None):
        calls[self.name] = calls.get(self.name, 0) + len(docs)
        return original(self, docs, options)

    monkeypatch.setattr(Family, "score", counting)
    return calls


def test_refiltering_a_scored_file_with_new_thresholds_recomputes_nothing(counted_families):
    records = [CHAT, DOC, RAW] * 3
    options = FilterOptions(preset=["sft-default", "web-gopher"], lang=["en"])
    scored = score_records(records, options.score_options())
    assert counted_families  # the first pass computed the scores
    counted_families.clear()
    stricter = FilterOptions(preset=["sft-default", "web-gopher"], lang=["en"], min_words=12,
                             max_toxicity=0.2, thresholds={"mean_word_length": {"max": 5}})
    result = filter_records(scored, stricter)
    assert counted_families == {}
    assert len(result.kept) + len(result.removed) == len(records)
    assert any(line["reason"] == "words_below_min" for line in result.removed)


def test_a_changed_model_or_field_counts_as_missing(counted_families):
    [scored] = score_records([CHAT], ScoreOptions(signals=["toxicity", "counts"]))
    counted_families.clear()
    score_records([scored], ScoreOptions(signals=["toxicity", "counts"]))
    assert counted_families == {}
    [moved] = score_records([scored], ScoreOptions(signals=["toxicity", "counts"], field="all"))
    assert counted_families == {"toxicity": 1, "counts": 1}
    assert moved["scores"]["field"] == "all"
    assert moved["scores"]["words"] > scored["scores"]["words"]


def test_only_requested_families_are_computed(counted_families):
    score_records([CHAT], ScoreOptions(signals=["counts", "c4"]))
    assert set(counted_families) == {"counts", "c4"}
    assert "tokens" not in [family.name for family in ScoreOptions().families()]
    assert "eval_overlap" not in [family.name for family in ScoreOptions().families()]
    assert set(FAMILIES) - {"tokens", "eval_overlap"} == {
        family.name for family in ScoreOptions().families()}


def test_cli_score_writes_scores_and_stats(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in (CHAT, DOC)) + "\n")
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(out), "--signals",
                                      "counts,instruction", "--view", "both"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["id"] for row in rows] == ["c1", "d1"]
    assert rows[0]["scores"]["prompt_words"] == 6 and "prompt_words" not in rows[1]["scores"]
    stats = json.loads((tmp_path / "scored.stats.json").read_text())
    assert stats["in"] == stats["out"] == 2 and stats["removed"] == 0
    assert stats["scores"]["words"]["max"] == 13 and stats["scores"]["empty_answer"] == {"true": 0}
    assert "score: in=2 out=2" in result.output


@pytest.mark.parametrize(("field", "words"), [("text", 3), ("meta.body", 2)])
def test_cli_scores_a_plain_document(tmp_path, field, words):
    source = tmp_path / "docs.jsonl"
    source.write_text(json.dumps({"id": "d", "text": "One two three.",
                                  "meta": {"body": "Four five."}}) + "\n")
    out = tmp_path / "scored.jsonl"
    result = CliRunner().invoke(app, ["score", str(source), "-o", str(out), "--field", field,
                                      "--signals", "counts"])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())["scores"]
    assert (scores["words"], scores["field"]) == (words, field)


def test_cli_lists_every_signal_with_its_default():
    result = CliRunner().invoke(app, ["score", "--list-signals"])
    assert result.exit_code == 0
    for family in FAMILIES.values():
        for name in family.names:
            assert f"  {name} " in result.output, name
    assert "stop_words             [min 2, lang ['en']]" in result.output


def test_cli_score_help_has_an_example():
    result = CliRunner().invoke(app, ["score", "--help"])
    assert result.exit_code == 0 and "Example: curate score" in result.output


def test_cli_refilter_of_a_scored_file_computes_no_score(tmp_path, counted_families):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in (CHAT, DOC, RAW) * 4) + "\n")
    scored = tmp_path / "scored.jsonl"
    runner = CliRunner()
    assert runner.invoke(app, ["score", str(source), "-o", str(scored)]).exit_code == 0
    assert counted_families
    counted_families.clear()
    for max_words in ("5", "11", "50"):
        out = tmp_path / f"kept{max_words}.jsonl"
        result = runner.invoke(app, ["filter", str(scored), "-o", str(out), "--preset",
                                     "sft-default", "--max-words", max_words, "--lang", "en",
                                     "--no-report"])
        assert result.exit_code == 0, result.output
    assert counted_families == {}
    kept = [len((tmp_path / f"kept{n}.jsonl").read_text().splitlines()) for n in (5, 11, 50)]
    assert kept[0] < kept[1] < kept[2]


def test_scoring_pauses_the_cycle_collector_and_restores_it():
    import gc

    from curate.scoring import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner pause does not re-enable it early
    assert gc.isenabled()
    try:
        with gc_paused():
            raise RuntimeError
    except RuntimeError:
        pass
    assert gc.isenabled()
    score_records([CHAT], ScoreOptions(signals=["counts"]))
    assert gc.isenabled()
