"""Every quality rule fires on a crafted positive and stays silent on a crafted negative."""

from __future__ import annotations

import random
from collections import Counter

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
                    ("todo note", "TODO: fill in answer", "Summarise the input.", True),
                    ("insert note", "[Insert your answer here]", "Summarise the input.", True),
                    ("answer about todo lists", "TODO lists help: write tasks down, tick them off.",
                     "How do I plan?", False),
                    ("answer", "None of the options is correct, because all are odd.", "Pick.", False)],
    "prompt_overlap": [
        ("echo", "the quick brown fox jumps over the lazy dog",
         "Translate to French: the quick brown fox jumps over the lazy dog", True),
        ("translation", "le renard brun rapide saute par-dessus le chien paresseux",
         "Translate to French: the quick brown fox jumps over the lazy dog", False),
        ("short answer found in prompt", "3", "What is 1 + 2? Options: 2, 3, 4", False),
        ("punctuation edit", "Finally, Sara went to the supermarket.",
         "Add the missing punctuation: Finally Sara went to the supermarket", False)],
    "truncated": [
        ("mid-sentence", "The main reason is that the old system will not be able to", "Why?", True),
        ("trailing colon", "Here are the steps you need:", "How?", True),
        ("open code block", "Use this:\n```python\nprint('hi')\n", "Code?", True),
        ("complete", "The old system cannot handle the load.", "Why?", False),
        ("list", "You need:\n- flour\n- eggs", "What?", False),
        ("hashtag", "Get a puppy and experience love like no other friend. #PuppyLove", "Post?", False),
        ("trailing operator", "So the total cost comes to x = 3 +", "Cost?", True),
        ("word cut at a hyphen", "The answer depends on the well-", "Why?", True),
        ("list ending in C++", "1. Java\n2. Python\n3. C++", "Name three languages.", False),
        ("attribution", '"We are what we repeatedly do, and excellence is a habit." -Will Durant',
         "Quote?", False),
        ("horizontal rule", "The summary is complete.\n\n---", "Summarise.", False)],
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
                      ("clean", "The triangle has area 6.", "Find the area.", False),
                      ("html image in the prompt", "A cat.", "<img src='cat.png'> What is this?", True),
                      ("html written as code", "```html\n<img src='logo.png' alt='logo'>\n```",
                       "Write an image tag.", False)],
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
                     ("prices", "It costs $5 and the tax is \\alpha percent.", "Cost?", False),
                     ("shell variable in code", "Run `echo $HOME`; then $\\frac{1}{2}$ is half.",
                      "Explain.", False)],
    "broken_markdown": [("bold", "This is **important and never closed.", "?", True),
                        ("fence", "Run:\n```\nls -la", "?", True),
                        ("clean", "This is **important**.\n```\nls -la\n```", "?", False),
                        ("stars inside code", "Histogram:\n```\n20-23: **\n32-35: ***\n```", "?",
                         False)],
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


@pytest.mark.parametrize(("text", "reason"), [
    ("Cats purr loudly.", "words_below_min"),
    ("word " * 100_001, "words_above_max"),
    (PROSE, None),
])
def test_web_gopher_word_count_bounds(text, reason):
    rule = load_preset("web-gopher")["thresholds"]["words"]
    value = _value("words", text, None)
    fired = "words_below_min" if value < rule["min"] else \
        "words_above_max" if value > rule["max"] else None
    assert fired == reason, value


C4_SENTENCE = "This line is one plain sentence."


@pytest.mark.parametrize(("case", "extra_line", "sentences"), [
    ("a clean line counts", C4_SENTENCE, 5),
    ("no terminal punctuation", "This line has no final mark", 4),
    ("ends in an ellipsis", "This line trails off...", 4),
    ("under three words", "Too short.", 4),
    ("mentions javascript", "Please enable JavaScript to view this.", 4),
    ("a policy phrase", "Read our privacy policy before you start.", 4),
    ("a word over 1,000 characters", "A " + "x" * 1001 + " word.", 4),
    ("a citation is removed first", "This claim is sourced here.[12]", 5),
    ("two sentences on one line", "First one here. And a second one.", 6),
    ("an abbreviation ends no sentence", "Mr. Smith met Dr. Jones today.", 5),
    ("spaCy makes a token of wide spaces", 'This line ends here.  "', 6),
])
def test_c4_line_rules_decide_which_sentences_count(case, extra_line, sentences):
    text = "\n".join([C4_SENTENCE] * 4 + [extra_line])
    assert _value("c4_sentences", text, None) == sentences, case


def test_c4_page_flags_only_look_at_kept_lines():
    code = "Set the option to {debug: true} in the file."
    assert _value("c4_curly_bracket", code, None) is True
    assert _value("c4_curly_bracket", "Enable JavaScript: {debug: true} in the file.", None) is False
    assert _value("c4_curly_bracket", "{debug: true}", None) is False  # under three words
    assert _value("c4_lorem_ipsum", "Lorem ipsum dolor sit amet, consectetur.", None) is True


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


# What spaCy 3.8's blank English tokenizer (datatrove's word tokenizer) returns for these.
SPACY_TOKENS = {
    "Hello, world... It grew 3.5% (see https://x.org/a?b=1). Don't!": [
        "Hello", ",", "world", "...", "It", "grew", "3.5", "%", "(", "see", "https://x.org/a?b=1",
        ")", ".", "Do", "n't", "!"],
    "Mr. Smith paid $5.99 for 10kg of U.S. apples at 3pm :) <3": [
        "Mr.", "Smith", "paid", "$", "5.99", "for", "10", "kg", "of", "U.S.", "apples", "at", "3",
        "pm", ":)", "<3"],
    "He has 4/2 = <<4/2=2>>2 buckets; $\\frac{1}{2}$ of ~/Documents/run_1.": [
        "He", "has", "4/2", "=", "<", "<", "4/2=2>>2", "buckets", ";", "$", "\\frac{1}{2}$", "of",
        "~/Documents", "/", "run_1", "."],
    "well-known A.I. (e.g. spaCy's) \"quoted\" 'single' — dash–en C++ and/or 10am.": [
        "well", "-", "known", "A.I.", "(", "e.g.", "spaCy", "'s", ")", '"', "quoted", '"', "'",
        "single", "'", "—", "dash", "–", "en", "C++", "and/or", "10", "am", "."],
}


@pytest.mark.parametrize("text", SPACY_TOKENS)
def test_tokenizer_splits_like_spacy(text):
    assert word_tokens(text) == SPACY_TOKENS[text]
    assert word_tokens(text) == SPACY_TOKENS[text]  # again, from the chunk cache


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


def _reference_top(tokens: list[str], n: int) -> int:
    """datatrove's `find_top_duplicate` on its space-joined n-grams."""
    grams = [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0
    gram, occurrences = Counter(grams).most_common(1)[0]
    return len(gram) * occurrences


def test_repetition_counts_match_the_reference():
    rng = random.Random(7)
    vocabulary = ["a", "b", "c", "the", "cat", "sat", ".", ","]
    for _ in range(120):
        size = rng.randint(1, 400)
        tokens = [rng.choice(vocabulary if size % 3 else [*vocabulary, *map(str, range(size))])
                  for _ in range(size)]
        text = " ".join(tokens)
        doc = Doc(text)
        assert doc.tokens == tokens
        scores = repetition.FAMILY.score([doc])[0]
        for n in (2, 3, 4):
            assert scores[f"top_{n}gram_char_frac"] == approx(_reference_top(tokens, n) / len(text))
        for n in range(5, 11):
            assert scores[f"dup_{n}gram_char_frac"] == approx(_reference_dup(tokens, n) / len(text))


@pytest.mark.parametrize("text", ["", "a", "\n", "\n\n", "a\n\nb\n", "\n\na", "a\nb",
                                  "a\n\n\nb\n\n", " \n \n", "x\r\ny\n\n\nz"])
def test_doc_line_splits_follow_their_definitions(text):
    import re

    doc = Doc(text)
    assert doc.line_runs == re.split(r"\n+", text)  # datatrove's Gopher line unit
    assert doc.nonempty_lines == [line for line in text.split("\n") if line.strip()]  # FineWeb
    assert doc.paragraphs == re.split(r"\n{2,}", text.strip())


def test_the_chunk_cache_stays_bounded_and_correct(monkeypatch):
    from curate.filters import tokenizer

    monkeypatch.setattr(tokenizer, "_CACHE_LIMIT", 5)
    monkeypatch.setattr(tokenizer, "_CACHE", {})
    for text, expected in SPACY_TOKENS.items():
        assert word_tokens(text) == expected
        assert len(tokenizer._CACHE) <= 5 + len(text.split())
