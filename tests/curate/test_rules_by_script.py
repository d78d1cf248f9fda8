"""Quality rules on Chinese, Japanese and Thai text, language codes, and trusted scores.

Every Gopher, C4 and FineWeb rule on text written without spaces either applies a defined
rule (with characters as words) or records that it does not apply: never a silent removal.
Counts are checked against hand counts of short texts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curate.filtering import FilterOptions, check_filter_stats, filter_records, merge_filter_stats
from curate.filters import FAMILIES, SIGNALS
from curate.scoring import ScoreOptions, score_records
from curate.text.languages import language_matches, parse_code

FIXTURE = Path(__file__).parent / "fixtures" / "multilingual.jsonl"
DOCUMENTS = [r for r in map(json.loads, FIXTURE.read_text(encoding="utf-8").splitlines())
             if r["kind"] == "document" and r["lang"] in ("zh", "ja", "th")]
WEB_FAMILIES = ("counts", "gopher_quality", "gopher_repetition", "c4", "fineweb")
NOT_DEFINED_WITHOUT_SPACES = {
    "mean_word_length", "stop_words", "top_2gram_char_frac", "top_3gram_char_frac",
    "top_4gram_char_frac", "dup_5gram_char_frac", "dup_6gram_char_frac", "dup_7gram_char_frac",
    "dup_8gram_char_frac", "dup_9gram_char_frac", "dup_10gram_char_frac", "short_line_ratio"}


def _scores(text: str) -> dict:
    [record] = score_records([{"text": text}], ScoreOptions(signals=list(WEB_FAMILIES)))
    return record["scores"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: d["source"][-30:])
def test_every_web_rule_applies_or_says_it_does_not(document):
    scores = _scores(document["text"])
    for family in WEB_FAMILIES:
        for name in FAMILIES[family].names:
            if name in NOT_DEFINED_WITHOUT_SPACES:
                assert scores[name] is None and name in scores["not_applicable"], name
            else:
                assert scores[name] is not None, name
    assert set(scores["not_applicable"]) == NOT_DEFINED_WITHOUT_SPACES


def test_characters_count_as_words_in_chinese():
    # 今天天气很好 (6) 我们去公园散步 (7) 用 (1) Python (1 word) 写了 (2) 3 (1) 行代码 (3)
    scores = _scores("今天天气很好。我们去公园散步，用Python写了3行代码。")
    assert scores["words"] == 6 + 7 + 1 + 1 + 2 + 1 + 3
    assert scores["alpha_words"] == pytest.approx(20 / 24, abs=1e-6)  # "3" and 3 marks have none


def test_c4_counts_chinese_sentences_on_lines_ending_in_chinese_punctuation():
    text = ("我今天去了商店。我买了苹果！你喜欢苹果吗？我们明天再去。商店离这里很近。\n"
            "这一行没有结尾标点\n短。")
    scores = _scores(text)
    assert scores["c4_sentences"] == 5  # line 1: 5 sentences; line 2 has no end mark; line 3 is 1 unit


def test_english_rules_are_unchanged_for_english():
    scores = _scores("The cat sat on the mat. It was a sunny day, and the birds sang.")
    # The3 cat3 sat3 on2 the3 mat3 It2 was3 a1 sunny5 day3 and3 the3 birds5 sang4 = 46 letters
    assert scores["words"] == 15 and scores["mean_word_length"] == pytest.approx(46 / 15, 1e-6)
    assert "not_applicable" not in scores


def test_the_gopher_preset_does_not_remove_chinese_for_undefined_rules():
    text = DOCUMENTS[0]["text"]
    result = filter_records([{"text": text}], FilterOptions(
        thresholds={"mean_word_length": {"min": 3, "max": 10}, "top_2gram_char_frac": {"max": 0.2}}))
    assert result.kept and not result.removed
    assert result.extra["not_applicable"] == {"mean_word_length": 1, "top_2gram_char_frac": 1}


# --- language codes ---------------------------------------------------------------------------

@pytest.mark.parametrize(("wanted", "code", "matches"), [
    ("en", "en", True), ("EN", "en", True), ("pt", "pt-BR", True), ("pt-br", "pt-BR", True),
    ("pt_BR", "pt-br", True), ("pt-br", "pt", False), ("pt", "pt", True), ("zh", "zh-Hant", True),
    ("en", "eng", False), ("es", "en", False), ("en", None, False),
])
def test_language_codes_match_case_insensitively_with_region_fallback(wanted, code, matches):
    assert language_matches(wanted, code) is matches


@pytest.mark.parametrize(("value", "hint"), [("english", "en"), ("Chinese", "zh"), ("pt br", None)])
def test_language_names_are_refused_with_the_code_to_use(value, hint):
    with pytest.raises(ValueError, match="is not a language code") as error:
        parse_code(value)
    if hint:
        assert f"did you mean {hint!r}" in str(error.value)
    with pytest.raises(ValueError, match="is not a language code"):
        FilterOptions(lang=value)


def test_a_language_that_matches_no_record_fails_the_step_naming_what_the_data_has():
    records = [{"text": "This is a short English sentence about the weather today."},
               {"text": "Das ist ein kurzer deutscher Satz über das Wetter heute."}]
    options = FilterOptions(lang="fr")
    stats = merge_filter_stats(options, [filter_records(records, options).extra])
    assert stats["langs_seen"] == {"de": 1, "en": 1}
    with pytest.raises(ValueError, match=r"lang: fr matches no record; the data's languages are "
                                         r"de \(1\), en \(1\)"):
        check_filter_stats(options, stats, records_in=2)
    ok = FilterOptions(lang="EN")
    check_filter_stats(ok, merge_filter_stats(ok, [filter_records(records, ok).extra]), 2)


def test_region_codes_in_the_data_are_kept_by_their_language():
    from curate.filtering import failures

    assert FilterOptions(lang="pt").lang == ["pt"]
    assert failures({"lang": "pt-BR"}, FilterOptions(lang="pt")) == []
    assert failures({"lang": "pt-BR"}, FilterOptions(lang="pt-br")) == []
    assert failures({"lang": "pt-PT"}, FilterOptions(lang="pt-br"))[0][0] == "lang_mismatch"


def test_removal_lines_carry_the_language_and_script_that_were_scored():
    records = [{"text": "N/A"}, {"text": "无"},
               {"text": "The capital of France is Paris, a large city on the Seine."}]
    result = filter_records(records, FilterOptions(flags={"placeholder": True}, lang="en,zh"))
    assert sorted(line["script"] for line in result.removed) == ["Hani", "Latn"]
    assert all(line["lang"] for line in result.removed)
    assert result.extra["langs_seen"] and sum(result.extra["langs_seen"].values()) == 3


def test_a_toxicity_removal_names_the_words_that_drove_it():
    recipe = "Roast the pig slowly over the coals and baste it every hour."
    [line] = filter_records([{"text": recipe}], FilterOptions(max_toxicity=0.5)).removed
    assert line["evidence"]["words"][0] == "pig"  # the false positive shows its cause
    assert filter_records([{"text": recipe}], FilterOptions(preset="sft-default")).kept


# --- trusted scores ---------------------------------------------------------------------------

def test_scores_we_did_not_write_are_recomputed():
    toxic = "Shut up, you stupid worthless idiot, nobody wants you here."
    forged = {"text": toxic, "scores": {"toxicity": 0.0, "field": "text"}}
    result = filter_records([forged], FilterOptions(max_toxicity=0.5))
    assert result.removed and result.removed[0]["value"] > 0.5
    [ours] = score_records([{"text": toxic}], ScoreOptions(signals=["toxicity"]))
    assert filter_records([ours], FilterOptions(max_toxicity=0.5)).removed  # ours: reused
    edited = {**ours, "scores": {**ours["scores"], "toxicity": 0.0}}  # a value changed by hand
    assert filter_records([edited], FilterOptions(max_toxicity=0.5)).removed
    moved = {**ours, "text": "A calm sentence about gardens."}  # the text changed since
    assert filter_records([moved], FilterOptions(max_toxicity=0.5)).kept


def test_scores_of_ours_are_reused_without_recomputing(monkeypatch):
    from curate.filters import Family

    [scored] = score_records([{"text": "A calm sentence about gardens and flowers."}],
                             ScoreOptions(signals=["toxicity"]))
    calls = []
    monkeypatch.setattr(Family, "score", lambda self, docs, options=None: calls.append(self.name)
                        or [{name: 0.0 for name in self.names} for _ in docs])
    score_records([scored], ScoreOptions(signals=["toxicity"]))
    assert calls == []


# --- invalid text -----------------------------------------------------------------------------

def test_a_lone_surrogate_does_not_crash_scoring_or_language_detection():
    [record] = score_records([{"text": "Hello \ud800 world, this is English text."}],
                             ScoreOptions(signals=["language", "counts"]))
    assert record["scores"]["lang"] == "en" and record["scores"]["words"] >= 6


def test_signals_documented_as_spaced_only_are_exactly_the_undefined_ones():
    assert {name for name, signal in SIGNALS.items() if signal.spaced_only} == \
        NOT_DEFINED_WITHOUT_SPACES
