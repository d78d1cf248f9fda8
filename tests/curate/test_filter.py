"""`filter_records` and `curate filter`: presets, flags over config, accounting, bad input."""

from __future__ import annotations

import gzip
import json
from itertools import islice
from pathlib import Path

import pytest
from typer.testing import CliRunner

from curate.cli import app
from curate.filtering import FilterOptions, filter_records
from curate.presets import load_preset, preset_names

RULE_SETS = [{"preset": name} for name in preset_names()] + [
    {"preset": ["web-gopher", "c4", "fineweb"]},
    {"preset": "sft-default", "lang": "en", "min_words": 20, "max_words": 300},
    {"flags": {"refusal": True}, "thresholds": {"prompt_words": {"min": 5}}},
]


def _jsonl(path: Path, limit: int) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in islice(handle, limit)]


@pytest.fixture(scope="module")
def mixed_records(shared_data) -> list[dict]:
    """Real instruction data of several shapes: alpaca, GSM8K, MATH-500, HH-RLHF pairs."""
    with open(shared_data / "alpaca_en_demo_1k.json", encoding="utf-8") as handle:
        alpaca = json.load(handle)[:150]
    return (alpaca + _jsonl(shared_data / "gsm8k_train.jsonl", 100)
            + _jsonl(shared_data / "math500_test.jsonl", 100)
            + _jsonl(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz", 100))


@pytest.mark.parametrize("rules", RULE_SETS, ids=lambda rules: json.dumps(rules))
def test_every_preset_accounts_for_every_record(mixed_records, rules):
    result = filter_records(mixed_records, FilterOptions(**rules))
    assert len(result.kept) + len(result.removed) == len(mixed_records)
    assert {id(line["record"]) for line in result.removed}.isdisjoint(map(id, result.kept))
    for line in result.removed:
        assert line["step"] == "filter" and line["reason"] == line["reasons"][0]
        assert {"score", "value", "threshold"} <= set(line)


def _answer(text: str, prompt: str = "Tell me about the weather in Paris in spring.") -> dict:
    return {"messages": [{"role": "user", "content": prompt},
                         {"role": "assistant", "content": text}]}


# Answers read and labelled by hand with the reason sft-default should remove them for
# (None: keep). Each reason is the problem a reader sees, not what the code computes.
HAND_LABELLED = [
    ("Spring in Paris is mild, with average highs around 15 to 20 degrees Celsius.", None),
    ("N/A", "placeholder"),
    ("   ", "empty_answer"),
    ("Spring in Paris is usually mild, and most days bring a light breeze and the", "truncated"),
    ("Here is the code:\n```python\nprint('spring')\n", "truncated"),
    ("Sunny and mild.<|im_end|>", "template_tokens"),
    ("As an AI language model, I do not have access to current weather data.", "ai_boilerplate"),
    ("I'm sorry, but I can't help with that.", None),  # refusals are kept by default
    ("Error: Rate limit exceeded, please retry later.", "api_error"),
    ("It is **sunny most days and mild at night.", "broken_markdown"),
    ("See the chart below: ![temperatures](chart.png)", "missing_image"),
    ("Highs reach 18 degrees in May; nights are cool, so bring a jacket :-(", None),
    ("Use `**kwargs` in Python to pass the city name, like `report(**kwargs)`.", None),
    ("Spring in Paris is mild and pleasant for walking around the city", None),  # no period
    ("The poem:\nSoft rain on the Seine\nblossoms drift along the quays\nspring walks slowly in",
     "truncated"),
    ("The poem:\nSoft rain on the Seine\nblossoms drift along the quays\nspring walks by the river",
     None),
    ("抱歉，我无法提供实时天气信息。", None),  # a refusal: kept by default
    ("作为一个AI语言模型，我无法获取实时天气数据。", "ai_boilerplate"),
    ("无", "placeholder"),
    ("巴黎的春天通常比较温和，白天的气温大约在十五到二十度之间，", "truncated"),
    ("巴黎的春天通常比较温和，白天的气温大约在十五到二十度之间。", None),
]


@pytest.mark.parametrize(("text", "reason"), HAND_LABELLED)
def test_sft_default_removes_what_a_reader_sees_as_broken(text, reason):
    result = filter_records([_answer(text)], FilterOptions(preset="sft-default"))
    if reason is None:
        assert result.kept and not result.removed, result.removed and result.removed[0]["reasons"]
    else:
        assert result.removed and result.removed[0]["reason"] == reason, result.removed


def test_a_refusal_is_removed_when_asked_in_english_and_chinese():
    records = [_answer("I'm sorry, but I can't help with that."),
               _answer("抱歉，我无法提供实时天气信息。"),
               _answer("Spring in Paris is mild, with highs around 18 degrees.")]
    result = filter_records(records, FilterOptions(flags={"refusal": True}))
    assert [line["reason"] for line in result.removed] == ["refusal", "refusal"]
    assert result.removed[1]["evidence"]["match"] == "抱歉，我无法"


def test_a_removed_flag_shows_the_pattern_and_span_it_matched():
    text = "Sure. As an AI language model, I cannot browse the web."
    [line] = filter_records([_answer(text)], FilterOptions(preset="sft-default")).removed
    evidence = line["evidence"]
    assert evidence["match"] == "As an AI language model" and evidence["in"] == "answer"
    assert text[slice(*evidence["span"])] == "As an AI language model"
    assert evidence["pattern"]
    [short] = filter_records([_answer("Paris.")], FilterOptions(min_words=3)).removed
    assert (short["score"], short["value"], short["threshold"]) == ("words", 1, 3)


def _single_rules() -> list[dict]:
    """One rule set per signal that has a default rule: that rule alone."""
    from curate.filters import SIGNALS

    rules = []
    for name, signal in SIGNALS.items():
        if name == "eval_overlap" or signal.default is None:
            continue
        if signal.is_flag:
            rules.append({"flags": {name: True}})
        else:
            rules.append({"thresholds": {name: signal.default}})
    return rules


@pytest.mark.parametrize("rules", _single_rules(), ids=lambda rules: json.dumps(rules))
def test_every_single_rule_accounts_for_every_record(mixed_records, rules):
    result = filter_records(mixed_records, FilterOptions(**rules))
    assert len(result.kept) + len(result.removed) == len(mixed_records)
    assert {id(line["record"]) for line in result.removed}.isdisjoint(map(id, result.kept))


# The published defaults, written out from the papers and datatrove 0.10's filter defaults
# (GopherQualityFilter, GopherRepetitionFilter, C4QualityFilter, FineWebQualityFilter).
PUBLISHED = {
    "web-gopher": {"thresholds": {
        "words": {"min": 50, "max": 100000}, "mean_word_length": {"min": 3, "max": 10},
        "symbol_word_ratio": {"max": 0.1}, "bullet_lines": {"max": 0.9},
        "ellipsis_lines": {"max": 0.3}, "alpha_words": {"min": 0.8},
        "stop_words": {"min": 2, "lang": ["en"]},
        "dup_line_frac": {"max": 0.3}, "dup_para_frac": {"max": 0.3},
        "dup_line_char_frac": {"max": 0.2}, "dup_para_char_frac": {"max": 0.2},
        "top_2gram_char_frac": {"max": 0.2}, "top_3gram_char_frac": {"max": 0.18},
        "top_4gram_char_frac": {"max": 0.16}, "dup_5gram_char_frac": {"max": 0.15},
        "dup_6gram_char_frac": {"max": 0.14}, "dup_7gram_char_frac": {"max": 0.13},
        "dup_8gram_char_frac": {"max": 0.12}, "dup_9gram_char_frac": {"max": 0.11},
        "dup_10gram_char_frac": {"max": 0.10}}},
    "c4": {"thresholds": {"c4_sentences": {"min": 5}},
           "flags": {"c4_lorem_ipsum": True, "c4_curly_bracket": True}},
    "fineweb": {"thresholds": {
        "line_punct_ratio": {"min": 0.12}, "short_line_ratio": {"max": 0.67},
        "char_dup_ratio": {"max": 0.01}, "newline_ratio": {"max": 0.3}}},
}


@pytest.mark.parametrize("preset", sorted(PUBLISHED))
def test_web_presets_hold_the_published_defaults(preset):
    from curate.filters import SIGNALS

    loaded = load_preset(preset)
    assert {key: loaded[key] for key in PUBLISHED[preset]} == PUBLISHED[preset]
    for name, rule in PUBLISHED[preset].get("thresholds", {}).items():
        if name != "words":  # a plain count: its bounds are Gopher's, not the count's default
            assert SIGNALS[name].default == rule, name  # the documented default is the paper's
    for name in PUBLISHED[preset].get("flags", {}):
        assert SIGNALS[name].default is True, name


def test_every_preset_states_its_languages():
    from curate.presets import preset_path

    for name in preset_names():
        assert "# Languages:" in preset_path(name).read_text(encoding="utf-8"), name


def test_published_line_constants_match_the_papers():
    from curate.filters import c4, fineweb

    assert (c4.MIN_WORDS_PER_LINE, c4.MAX_WORD_LENGTH) == (3, 1000)
    assert fineweb.SHORT_LINE_CHARS == 30


def test_removed_lines_carry_the_failing_score(mixed_records):
    result = filter_records(mixed_records, FilterOptions(min_words=30, max_words=200))
    short = next(line for line in result.removed if line["reason"] == "words_below_min")
    assert short["score"] == "words" and short["threshold"] == 30 and short["value"] < 30
    assert result.extra["rules"]["thresholds"] == {"words": {"min": 30, "max": 200}}


def test_reasoning_preset_on_raw_problem_solution_columns(shared_data):
    records = _jsonl(shared_data / "math500_test.jsonl", 500)
    options = FilterOptions(preset="reasoning", prompt_field="problem", response_field="solution")
    result = filter_records(records, options)
    assert len(result.kept) + len(result.removed) == 500
    reasons = {line["reason"] for line in result.removed}
    assert "figure_code" in reasons
    assert all("[asy]" not in r["problem"] + r["solution"] for r in result.kept)
    assert sum("[asy]" in r["problem"] + r["solution"] for r in records) == sum(
        "figure_code" in line["reasons"] for line in result.removed)


def test_reasoning_preset_removes_api_errors_and_broken_latex():
    records = [
        {"problem": "Compute $2+2$.", "solution": "Error: Rate limit exceeded, retry later."},
        {"problem": "Compute $2+2$.", "solution": "We get $\\frac{4}{1 = 4."},
        {"problem": "Compute $2+2$.", "solution": ""},
        {"problem": "Compute $2+2$.", "solution": "We get $2+2=\\boxed{4}$."},
    ]
    result = filter_records(records, FilterOptions(preset="reasoning"))
    assert [line["reason"] for line in result.removed] == ["api_error", "broken_latex",
                                                           "empty_answer"]
    assert result.kept == [dict(records[3], scores=result.kept[0]["scores"])]


def test_presets_then_config_then_flags(tmp_path):
    config = tmp_path / "rules.yaml"
    config.write_text("preset: web-gopher\nthresholds:\n  words: {min: 5}\n  alpha_words: {min: null}\n"
                      "flags:\n  refusal: true\n")
    from curate.options import build_options

    options = build_options(FilterOptions, config=config, min_words=10)
    assert options.thresholds["words"].min == 10  # flag over config
    assert options.thresholds["words"].max == 100000  # preset bound kept
    assert options.thresholds["alpha_words"].min is None  # config disabled a preset bound
    assert options.flags == {"refusal": True}
    assert "alpha_words" not in options.rules()["thresholds"]
    assert options.rules()["preset"] == ["web-gopher"]
    assert FilterOptions(**options.model_dump()).rules() == options.rules()  # round-trips
    assert load_preset("web-gopher")["thresholds"]["words"] == {"min": 50, "max": 100000}


@pytest.mark.parametrize(("values", "message"), [
    ({"thresholds": {"wrods": {"min": 1}}}, "unknown score 'wrods'"),
    ({"flags": {"words": True}}, "'words' is not a flag"),
    ({"thresholds": {"refusal": {"max": 0}}}, "'refusal' is a flag"),
    ({"min_tokens": 5}, "need a tokenizer"),
    ({"min_words": 10, "max_words": 5}, "min 10"),
    ({"preset": "no-such-preset"}, "unknown preset"),
    ({"thresholds": {"words": {"minimum": 3}}}, "minimum"),
])
def test_invalid_rules_are_rejected_with_the_field(values, message):
    with pytest.raises(ValueError, match=message):
        FilterOptions(**values)


def test_language_filter_keeps_only_the_asked_languages():
    records = [{"id": "en", "text": "This is a short English sentence about the weather today."},
               {"id": "de", "text": "Das ist ein kurzer deutscher Satz über das Wetter heute."}]
    result = filter_records(records, FilterOptions(lang="en"))
    assert [r["id"] for r in result.kept] == ["en"]
    assert result.removed[0]["reason"] == "lang_mismatch"
    assert result.removed[0]["value"] == "de"


def test_english_only_rule_skips_other_languages():
    german = {"id": "de", "text": "Katzen schnurren laut, während Hunde draußen im Garten bellen."}
    english = {"id": "en", "text": "Cats purr loudly while dogs bark outside in gardens."}
    options = FilterOptions(thresholds={"stop_words": {"min": 2, "lang": ["en"]}})
    result = filter_records([german, english], options)
    assert [r["id"] for r in result.kept] == ["de"] and result.kept[0]["scores"]["lang"] == "de"
    assert result.removed[0]["reasons"] == ["stop_words_below_min"]


def test_token_thresholds_use_the_given_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"[UNK]": 0, **{word: i + 1 for i, word in enumerate(["a", "b", "c", "d", "e"])}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]").save_pretrained(tmp_path)
    records = [{"id": "short", "text": "a b"}, {"id": "long", "text": "a b c d e a b c d e"}]
    result = filter_records(records, FilterOptions(tokenizer=str(tmp_path), max_tokens=5))
    assert [r["id"] for r in result.kept] == ["short"]
    assert result.removed[0]["reason"] == "tokens_above_max"
    assert result.kept[0]["scores"]["tokens"] == 2
    assert result.kept[0]["scores"]["tokenizer"] == str(tmp_path)


# --- the command -----------------------------------------------------------------------------

def _write(path: Path, records: list[dict], extra_lines: list[str] = ()) -> Path:
    path.write_text("\n".join([json.dumps(r) for r in records] + list(extra_lines)) + "\n")
    return path


GOOD = [{"id": str(i), "messages": [
    {"role": "user", "content": f"Question {i}: what is the capital of France?"},
    {"role": "assistant", "content": "Paris is the capital of France." if i % 2 else "N/A"}]}
    for i in range(6)]


def test_cli_filter_writes_kept_removed_stats_and_report(tmp_path):
    source = _write(tmp_path / "in.jsonl", GOOD)
    out = tmp_path / "clean.jsonl"
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(out), "--preset",
                                      "sft-default", "--max-words", "100"])
    assert result.exit_code == 0, result.output
    kept = [json.loads(line) for line in out.read_text().splitlines()]
    removed = [json.loads(line) for line in (tmp_path / "clean.removed.jsonl").read_text().splitlines()]
    assert [r["id"] for r in kept] == ["1", "3", "5"]
    assert {line["reason"] for line in removed} == {"placeholder"}
    stats = json.loads((tmp_path / "clean.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"]) == (6, 3, 3)
    assert stats["removed_by_reason"] == {"placeholder": 3}
    assert stats["rules"]["thresholds"]["words"] == {"max": 100}
    assert (tmp_path / "clean.report.html").exists()
    assert "filter: in=6 out=3 removed=3" in result.output


def test_cli_threshold_flags(tmp_path):
    """--min/--max-words, --min/--max-tokens with --tokenizer, --max-toxicity with
    --toxicity-model, --lang and --preset, in one run: each removes what it should."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokenizer = tmp_path / "tokenizer"
    backend = Tokenizer(models.WordLevel({"[UNK]": 0, "x": 1}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]").save_pretrained(tokenizer)
    texts = {
        "ok": "The capital of France is Paris, a city on the river Seine.",
        "short": "Paris, France.",
        "long": ("Paris is the capital of France and its largest city. It sits on the Seine, "
                 "in the north of the country, and about two million people live within its "
                 "old limits. The city is known for its museums, its cafes and its long "
                 "history as a centre of art, science and government. Millions of visitors "
                 "arrive every year to walk along the river and climb the tower."),
        "toxic": "Shut up, you stupid worthless idiot, nobody wants you in France.",
        "german": "Die Hauptstadt von Frankreich ist Paris, eine Stadt an der Seine.",
        "placeholder": "N/A",
    }
    records = [{"id": key, "messages": [{"role": "user", "content": "What is the capital?"},
                                        {"role": "assistant", "content": text}]}
               for key, text in texts.items()]
    source = _write(tmp_path / "in.jsonl", records)
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, [
        "filter", str(source), "-o", str(out), "--preset", "sft-default", "--min-words", "3",
        "--max-words", "60", "--min-tokens", "2", "--max-tokens", "50", "--tokenizer",
        str(tokenizer), "--max-toxicity", "0.5", "--toxicity-model", "profanity-check",
        "--lang", "en", "--no-report"])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == ["ok"]
    removed = {line["record"]["id"]: line for line in map(
        json.loads, (tmp_path / "out.removed.jsonl").read_text().splitlines())}
    assert removed["short"]["reason"] == "words_below_min"
    assert removed["long"]["reasons"] == ["words_above_max", "tokens_above_max"]
    assert removed["toxic"]["reason"] == "toxicity_above_max"
    assert removed["german"]["reason"] == "lang_mismatch"
    assert removed["placeholder"]["reason"] == "placeholder"
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert stats["rules"]["thresholds"]["tokens"] == {"min": 2, "max": 50}
    assert stats["rules"]["lang"] == ["en"]


def test_cli_flags_override_the_config_file(tmp_path):
    source = _write(tmp_path / "in.jsonl", GOOD)
    config = tmp_path / "rules.yaml"
    config.write_text("min_words: 100\nreport: false\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(out), "--config",
                                      str(config), "--min-words", "3"])
    assert result.exit_code == 0, result.output
    assert len(out.read_text().splitlines()) == 3  # only "N/A" (2 words: N, A) is below 3
    assert not (tmp_path / "out.report.html").exists()


def test_cli_bad_record_names_file_line_and_field(tmp_path):
    source = _write(tmp_path / "in.jsonl", [GOOD[1], {"id": "x", "title": "no text"}, GOOD[3]])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(out), "--min-words", "1"])
    assert result.exit_code == 1
    assert f"{source}:2: field 'response'" in result.output
    assert not out.exists() and not (tmp_path / "out.stats.json").exists()


def test_cli_a_foreign_scores_column_is_a_bad_record(tmp_path):
    source = _write(tmp_path / "in.jsonl", [GOOD[1], dict(GOOD[3], scores=[1, 2])])
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(tmp_path / "o.jsonl"),
                                      "--min-words", "1"])
    assert result.exit_code == 1 and f"{source}:2: field 'scores'" in result.output


def test_cli_skip_mode_writes_rejects_and_keeps_accounting(tmp_path):
    source = _write(tmp_path / "in.jsonl", [GOOD[0], {"id": "x", "title": "no text"}, GOOD[1]],
                    extra_lines=["{not json"])
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(out), "--preset",
                                      "sft-default", "--on-error", "skip", "--no-report"])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "out.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"], stats["rejected"]) == (4, 1, 1, 2)
    assert stats["rejected_by_reason"] == {"bad_json": 1, "missing_text": 1}
    rejects = [json.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert {r["reason"] for r in rejects} == {"bad_json", "missing_text"}


def test_cli_without_rules_is_an_error(tmp_path):
    source = _write(tmp_path / "in.jsonl", GOOD)
    result = CliRunner().invoke(app, ["filter", str(source), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1 and "no rules" in result.output


def test_cli_show_preset_prints_copyable_yaml():
    result = CliRunner().invoke(app, ["filter", "--show-preset", "web-gopher"])
    assert result.exit_code == 0
    assert "dup_10gram_char_frac: {max: 0.10}" in result.output


def test_cli_filter_help_has_an_example():
    result = CliRunner().invoke(app, ["filter", "--help"])
    assert result.exit_code == 0 and "Example: curate filter" in result.output
