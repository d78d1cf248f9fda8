"""Every quality rule fires on a crafted positive and stays silent on a crafted negative."""

from __future__ import annotations

import random

import pytest

from curate.filters import FAMILIES, SIGNALS, Doc, lookup, word_tokens
from curate.filters import gopher_repetition as repetition
from curate.presets import load_preset

PROSE = ("The committee met on Tuesday to review the budget for the coming year. Members "
         "discussed the cost of new equipment, the schedule for repairs and the plan to hire two "
         "more teachers. After a long debate they agreed to postpone the final vote until the "
         "auditors had checked every figure. The chair thanked the volunteers who had prepared "
         "the reports and asked them to share the results with the parents before the next "
         "meeting in March. Everyone went home satisfied.")
LONG_LINES = "\n".join(f"Line number {word} of this example explains one separate idea clearly."
                       for word in ("one", "two", "three", "four", "five"))

# signal -> [(case, text, prompt, should_fire)]; "min"/"max" cases test each bound.
CASES: dict[str, list[tuple[str, str, str | None, bool]]] = {
    "mean_word_length": [
        ("too short", "a b c d e f g h i j k l", None, True),
        ("too long", "Pneumonoultramicroscopicsilicovolcanoconiosis antidisestablishmentarianism",
         None, True),
        ("prose", PROSE, None, False)],
    "symbol_word_ratio": [("hashes", "#one #two #three #four words", None, True),
                          ("ellipses", "wait... what... no... yes...", None, True),
                          ("prose", PROSE, None, False)],
    "bullet_lines": [("bullets", "- apples\n- pears\n* plums\n• figs", None, True),
                     ("prose", PROSE, None, False)],
    "ellipsis_lines": [("trailing", "So then...\nAnd later...\nFine.", None, True),
                       ("prose", PROSE, None, False)],
    "alpha_words": [("numbers", "12 + 34 = 46 ; 7 * 8 = 56", None, True),
                    ("prose", PROSE, None, False)],
    "stop_words": [("none", "Cats purr loudly.", None, True), ("prose", PROSE, None, False)],
    "dup_para_frac": [("repeated", "Same paragraph here.\n\nSame paragraph here.\n\nOther one.",
                       None, True), ("prose", PROSE, None, False)],
    "dup_para_char_frac": [("repeated", "Same paragraph here.\n\nSame paragraph here.\n\nOk.",
                            None, True), ("prose", PROSE, None, False)],
    "dup_line_frac": [("repeated", "buy now\nbuy now\nbuy now\nhello", None, True),
                      ("prose", LONG_LINES, None, False)],
    "dup_line_char_frac": [("repeated", "buy now\nbuy now\nbuy now\nhello", None, True),
                           ("prose", LONG_LINES, None, False)],
    **{f"top_{n}gram_char_frac": [("loop", "the cat sat " * 10, None, True),
                                  ("prose", PROSE, None, False)] for n in (2, 3, 4)},
    **{f"dup_{n}gram_char_frac": [
        ("repeat", "one two three four five six seven eight nine ten eleven twelve " * 3, None, True),
        ("prose", PROSE, None, False)] for n in range(5, 11)},
    "c4_sentences": [("one", "Just one sentence on this page.", None, True),
                     ("prose", PROSE, None, False)],
    "c4_lorem_ipsum": [("lorem", "Lorem ipsum dolor sit amet, consectetur adipiscing.", None, True),
                       ("prose", PROSE, None, False)],
    "c4_curly_bracket": [("code", "Set the value with config {debug: true} first.", None, True),
                         ("prose", PROSE, None, False)],
    "line_punct_ratio": [("titles", "Home\nAbout us\nContact\nProducts\nBlog\nCareers\nNews\nHelp",
                          None, True), ("prose", LONG_LINES, None, False)],
    "short_line_ratio": [("menu", "Home\nAbout us\nContact\nA line of more than thirty characters.",
                          None, True), ("prose", LONG_LINES, None, False)],
    "char_dup_ratio": [("repeated", LONG_LINES + "\n" + LONG_LINES.split("\n")[0], None, True),
                       ("prose", LONG_LINES, None, False)],
    "newline_ratio": [("list", "a\nb\nc\nd\ne", None, True), ("prose", PROSE, None, False)],
    "empty_answer": [("blank", "  \n ", "Name a colour.", True),
                     ("answer", "Blue.", "Name a colour.", False)],
    "placeholder": [("n/a", "N/A", "Summarise the input.", True),
                    ("noinput", "<noinput>", "Summarise the input.", True),
                    ("answer", "None of the options is correct, because all are odd.", "Pick.", False)],
    "prompt_overlap": [
        ("echo", "the quick brown fox jumps over the lazy dog",
         "Translate to French: the quick brown fox jumps over the lazy dog", True),
        ("translation", "le renard brun rapide saute par-dessus le chien paresseux",
         "Translate to French: the quick brown fox jumps over the lazy dog", False),
        ("short answer found in prompt", "3", "What is 1 + 2? Options: 2, 3, 4", False)],
    "truncated": [
        ("mid-sentence", "The main reason is that the old system will not be able to", "Why?", True),
        ("trailing colon", "Here are the steps you need:", "How?", True),
        ("open code block", "Use this:\n```python\nprint('hi')\n", "Code?", True),
        ("complete", "The old system cannot handle the load.", "Why?", False),
        ("list", "You need:\n- flour\n- eggs", "What?", False),
        ("hashtag", "Get a puppy and experience love like no other friend. #PuppyLove", "Post?", False)],
    "refusal": [("sorry", "I'm sorry, but I can't help with that request.", "Do X.", True),
                ("cannot", "I cannot assist with creating malware.", "Do X.", True),
                ("answer", "Sure, here is a summary of the article.", "Do X.", False)],
    "ai_boilerplate": [("as an ai", "As an AI language model, I do not have opinions.", "?", True),
                       ("cutoff", "As of my last knowledge update, the law was unchanged.", "?", True),
                       ("answer", "The law changed in 2019 after a long debate.", "?", False)],
    "template_tokens": [("im_end", "Paris is the capital.<|im_end|>", "Capital?", True),
                        ("inst in prompt", "Paris.", "[INST] Capital of France? [/INST]", True),
                        ("hh turn", "Sure.\n\nHuman: and Spain?", "Capital?", True),
                        ("clean", "Paris is the capital of France.", "Capital?", False)],
    "missing_image": [("markdown image", "See ![diagram](fig1.png) for the layout.", "Explain.", True),
                      ("reference", "Find the area of the triangle shown in the figure.", None, True),
                      ("clean", "The triangle has area 6.", "Find the area.", False)],
    "figure_code": [("asy", "Draw it:\n[asy]\ndraw((0,0)--(1,1));\n[/asy]", "Plot.", True),
                    ("tikz", "\\begin{tikzpicture}\\draw (0,0);\\end{tikzpicture}", "Plot.", True),
                    ("clean", "The line goes from (0,0) to (1,1).", "Plot.", False)],
    "api_error": [("rate limit", "Error: Rate limit reached for gpt-4. Please retry.", "Q?", True),
                  ("traceback", "Traceback (most recent call last):\n  File x", "Q?", True),
                  ("json", '{"error": {"code": "context_length_exceeded"}}', "Q?", True),
                  ("answer about errors", "To fix the error, restart the server and retry.",
                   "How do I fix a 500 error?", False)],
    "broken_latex": [("odd dollar", "So $\\frac{1}{2} + x = 3.", "Solve.", True),
                     ("environment", "\\begin{align} x &= 1 \\end{aligned}", "Solve.", True),
                     ("braces", "We get $\\frac{1}{2$ here$.", "Solve.", True),
                     ("balanced", "So $\\frac{1}{2} + x = 3$ and \\[y = 2.\\]", "Solve.", False),
                     ("prices", "It costs $5 and the tax is \\alpha percent.", "Cost?", False)],
    "broken_markdown": [("bold", "This is **important and never closed.", "?", True),
                        ("fence", "Run:\n```\nls -la", "?", True),
                        ("clean", "This is **important**.\n```\nls -la\n```", "?", False)],
    "toxicity": [("insult", "Shut the fuck up, you stupid worthless idiot.", None, True),
                 ("benign", "Thank you for the lovely dinner last night.", None, False)],
}


def _value(name: str, text: str, prompt: str | None) -> object:
    _, family, _ = lookup(name)
    return family.score([Doc(text, prompt)])[0][name]


def _fires(name: str, value: object) -> bool:
    default = SIGNALS[name].default
    if isinstance(default, bool):
        return bool(value)
    assert isinstance(default, dict)
    return (default.get("min") is not None and value < default["min"]) or \
        (default.get("max") is not None and value > default["max"])


@pytest.mark.parametrize(("name", "case", "text", "prompt", "should_fire"), [
    (name, case, text, prompt, fire) for name, cases in CASES.items()
    for case, text, prompt, fire in cases])
def test_rule_fires_only_on_its_positive(name, case, text, prompt, should_fire):
    value = _value(name, text, prompt)
    assert _fires(name, value) is should_fire, f"{name} on {case!r}: value {value!r}"


def test_every_rule_with_a_default_has_positive_and_negative_cases():
    ruled = {name for name, signal in SIGNALS.items()
             if signal.default is not None and name != "eval_overlap"}  # see test_decontam
    assert ruled <= set(CASES)
    for name in ruled:
        outcomes = {fire for *_, fire in CASES[name]}
        assert outcomes == {True, False}, name


def test_stop_word_rule_applies_to_english_only():
    assert load_preset("web-gopher")["thresholds"]["stop_words"]["lang"] == ["en"]
    assert SIGNALS["stop_words"].default["lang"] == ["en"]


def test_missing_image_is_not_missing_when_the_record_has_images():
    assert _value("missing_image", "Describe the image shown in the figure.", None) is True
    family = FAMILIES["instruction"]
    doc = Doc("Describe the image shown in the figure.", None, has_images=True)
    assert family.score([doc])[0]["missing_image"] is False


def test_web_gopher_preset_holds_the_published_defaults():
    preset = load_preset("web-gopher")["thresholds"]
    assert preset.pop("words") == {"min": 50, "max": 100000}
    for name, rule in preset.items():
        assert rule == SIGNALS[name].default, name
    assert set(preset) == set(FAMILIES["gopher_quality"].names) | set(
        FAMILIES["gopher_repetition"].names)


def test_tokenizer_splits_punctuation_like_spacy():
    assert word_tokens("Hello, world... It grew 3.5% (see https://x.org/a?b=1). Don't!") == [
        "Hello", ",", "world", "...", "It", "grew", "3.5", "%", "(", "see",
        "https://x.org/a?b=1", ")", ".", "Do", "n't", "!"]


def approx(expected):
    return pytest.approx(expected, abs=1e-6)  # scores are rounded to 6 decimals


def _reference_dup(tokens: list[str], n: int) -> int:
    """datatrove's greedy duplicated n-gram count, transcribed step by step."""
    seen, repeated, index = set(), 0, 0
    while index < len(tokens) - n + 1:
        gram = tuple(tokens[index:index + n])
        if gram in seen:
            repeated += sum(map(len, gram))
            index += n
        else:
            seen.add(gram)
            index += 1
    return repeated


def test_fast_and_numpy_repetition_paths_match_the_reference():
    rng = random.Random(7)
    vocabulary = ["a", "b", "c", "the", "cat", "sat", ".", ","]
    for _ in range(60):
        size = rng.randint(5, 400)
        tokens = [rng.choice(vocabulary if size % 3 else [*vocabulary, *map(str, range(size))])
                  for _ in range(size)]
        text = " ".join(tokens)
        doc = Doc(text)
        assert doc.tokens == tokens
        numpy_path = repetition._LongDoc(doc).dup_ngrams()
        for n in range(5, 11):
            expected = _reference_dup(tokens, n) / len(text)
            assert repetition.dup_ngram_char_frac(tokens, n, len(text)) == approx(expected)
            assert numpy_path[n] == approx(expected)
        numpy_top = repetition._LongDoc(doc).top_ngrams()
        for n in (2, 3, 4):
            assert numpy_top[n] == approx(repetition.top_ngram_char_frac(tokens, n, len(text)))
        # and the dispatch (shortcuts for texts without repeats, numpy for long texts)
        assert [repetition.FAMILY.score([Doc(text)])[0][f"dup_{n}gram_char_frac"]
                for n in range(5, 11)] == approx(
            [_reference_dup(tokens, n) / len(text) for n in range(5, 11)])
