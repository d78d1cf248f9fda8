"""curate.text: scripts, the Unicode normal form and matching units, for every script.

Expected values are written out by hand (what a reader of the text sees), and the Python
and polars implementations are checked against each other on real text of six scripts
(tests/curate/fixtures/multilingual.jsonl: Debian man pages and translation catalogs).
"""

from __future__ import annotations

import importlib
import json
import unicodedata
from pathlib import Path

import pytest

from curate.text import normalise, normalise_series, units
from curate.text.scripts import dominant_script
from curate.text.units import MODES, join_units, unit_lists

FIXTURE = Path(__file__).parent / "fixtures" / "multilingual.jsonl"
TEXTS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
EXPECTED_SCRIPT = {"zh": "Hani", "ja": "Jpan", "ko": "Hang", "th": "Thai"}

VARIANTS = [
    "café", unicodedata.normalize("NFD", "café"), "wo\u200brd", "soft\u00adware", "ＡＢＣ１２３",
    "ｶﾀｶﾅ", "\u202eevil\u202c", "Straße", "ΟΔΟΣ", "\ufeffbom", "a\ud800b", "", "İ", "ﬁne",
]


def test_equivalent_spellings_normalise_to_one_text():
    assert normalise("café") == normalise(unicodedata.normalize("NFD", "café")) == "café"
    assert normalise("wo\u200brd") == normalise("wo\u2060rd") == "word"  # zero-width, joiner
    assert normalise("soft\u00adware") == "software"  # soft hyphen
    assert normalise("ＡＢＣ１２３") == "abc123"  # full-width letters and digits
    assert normalise("ｶﾀｶﾅ") == "カタカナ"  # half-width katakana
    assert normalise("\u202eevil\u202c") == "evil"  # bidi controls
    assert normalise("Straße") == normalise("STRASSE") == "strasse"  # full case folding
    assert normalise("ΟΔΟΣ") == normalise("οδος") == "οδοσ"
    assert normalise("MiXeD", fold_case=False) == "MiXeD"


def test_a_lone_surrogate_does_not_crash_normalisation():
    assert normalise("a\ud800b") == "a\ufffdb"
    assert normalise_series(["a\ud800b"]).to_list() == ["a\ufffdb"]


def test_python_and_polars_normalise_alike():
    texts = VARIANTS + [record["text"] for record in TEXTS]
    assert normalise_series(texts).to_list() == [normalise(text) for text in texts]
    assert normalise_series(texts, fold_case=False).to_list() == \
        [normalise(text, fold_case=False) for text in texts]


def test_units_split_scripts_without_spaces_into_characters():
    assert units("用Python写代码。") == ["用", "python", "写", "代", "码"]
    assert units("これはテスト、ーです") == ["こ", "れ", "は", "テ", "ス", "ト", "ー", "で", "す"]
    assert units("สวัสดี") == ["ส", "วั", "ส", "ดี"]  # vowel signs stay with their consonant
    assert units("안녕하세요 세계") == ["안녕하세요", "세계"]  # Korean puts spaces between words
    assert units("Hello, World! naïve") == ["hello", "world", "naïve"]
    assert units("用Python写代码", "word") == ["用python写代码"]
    assert units("Hi 你好", "char") == ["h", "i", "你", "好"]
    assert join_units(units("作为一个AI语言模型")) == "作为一个 ai 语言模型"


@pytest.mark.parametrize("mode", MODES)
def test_python_and_polars_split_units_alike(mode):
    texts = VARIANTS + [record["text"] for record in TEXTS]
    lists, _ = unit_lists(texts, mode)
    assert lists.to_list() == [units(text, mode) for text in texts]


def test_the_script_of_real_text():
    for record in TEXTS:
        assert dominant_script(record["text"]) == EXPECTED_SCRIPT[record["lang"]], record["text"]
    assert dominant_script("The quick brown fox") == "Latn"
    assert dominant_script("Съешь же ещё этих мягких булок") == "Cyrl"
    assert dominant_script("12 + 30 = 42 !") == "Zyyy"


def test_the_quick_check_for_unspaced_scripts_misses_no_character():
    """`writes_without_spaces` skips its exact pattern when a quick byte check finds nothing:
    every character the exact pattern matches must pass that check."""
    module = importlib.import_module("curate.text.units")  # `units` is also a function
    missed = [hex(point) for point in range(0x110000)
              if module._UNSPACED.match(chr(point)) and not module._maybe_unspaced(chr(point))]
    assert missed == []


@pytest.mark.parametrize(("text", "unspaced"), [
    ("It’s a “quoted” English sentence, with é and ° and 🚀.", False),
    ("这是一个用中文写的句子，没有空格。", True),
    ("ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ", True),
    ("日本語の文章です。スペースはありません。", True),
    ("Mostly English words here with one 字 inside the sentence", False),
    ("Ünïcödé Lätin wörds ärë späcëd", False),
])
def test_which_texts_are_written_without_spaces(text, unspaced):
    from curate.text.units import has_unspaced, writes_without_spaces

    assert writes_without_spaces(text) is unspaced
    assert has_unspaced(text) is (unspaced or "字" in text)
