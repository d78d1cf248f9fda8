"""Near-duplicates and eval contamination in Chinese, Japanese, Korean and Thai.

Real text (tests/curate/fixtures/multilingual.jsonl: Debian man pages and translation
catalogs), edited the way copies drift: one character changed, punctuation changed, a
short sentence added or removed, two clauses swapped. Each copy is a duplicate by
construction; each different document is not. Korean puts spaces between words and is
compared word by word, as English is (its documents here are 150 to 200 words long).
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from curate.decontam import DecontamOptions, decontam_records
from curate.dedup import DedupOptions, dedup_records

FIXTURE = Path(__file__).parent / "fixtures" / "multilingual.jsonl"
RECORDS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
DOCUMENTS = [r for r in RECORDS if r["kind"] == "document"]
SENTENCES = [r for r in RECORDS if r["kind"] == "sentence"]
_SENTENCE_END = re.compile(r"(?<=[。！？.?!])\s*")
_CLAUSE_END = re.compile(r"(?<=[，、,])")


def _middle_letter(text: str) -> int:
    middle = len(text) // 2
    return next(i for i in range(middle, len(text)) if text[i].isalpha())


def one_character(text: str) -> str:
    i = _middle_letter(text)
    replacement = "的" if text[i] != "的" else "是"
    if unicodedata.name(text[i]).startswith(("THAI", "HANGUL")):
        replacement = "ก" if text[i] != "ก" else "ข"
    return text[:i] + replacement + text[i + 1:]


def punctuation(text: str) -> str:
    return text.replace("，", "、").replace("。", "！").replace(", ", "; ").replace(":", "：")


def add_sentence(text: str, other: str) -> str:
    short = min((s for s in _SENTENCE_END.split(other) if len(s) > 4), key=len)[:len(text) // 10]
    return f"{text} {short}"


def remove_sentence(text: str) -> str:
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    shortest = min(range(1, len(sentences)), key=lambda i: len(sentences[i]), default=0)
    if not shortest or len(sentences[shortest]) > len(text) // 10:
        return text[: len(text) - len(text) // 12]  # no short sentence: cut the last twelfth
    return "".join(sentences[:shortest] + sentences[shortest + 1:])


def swap_clauses(text: str) -> str:
    clauses = [c for c in _CLAUSE_END.split(text) if c]
    if len(clauses) < 3:
        clauses = text.split(" ")
    clauses[1], clauses[2] = clauses[2], clauses[1]
    return ("" if "，" in text or "、" in text else " ").join(clauses)


EDITS = {"one_character": one_character, "punctuation": punctuation,
         "remove_sentence": remove_sentence, "swap_clauses": swap_clauses}


@pytest.mark.parametrize("lang", ["zh", "ja", "ko", "th"])
def test_edited_copies_are_near_duplicates_and_other_documents_are_not(lang):
    documents = [d["text"] for d in DOCUMENTS if d["lang"] == lang]
    records = [{"id": f"doc{i}", "text": text} for i, text in enumerate(documents)]
    for i, text in enumerate(documents):
        other = documents[(i + 1) % len(documents)]
        copies = {name: edit(text) for name, edit in EDITS.items()}
        copies["add_sentence"] = add_sentence(text, other)
        records += [{"id": f"doc{i}/{name}", "text": copy} for name, copy in copies.items()]
    result = dedup_records(records, DedupOptions(field="text"))
    assert sorted(r["id"] for r in result.kept) == sorted(f"doc{i}" for i in range(len(documents)))
    for line in result.removed:  # each copy is removed as a duplicate of its own document
        assert line["duplicate_of"] == line["record"]["id"].split("/")[0]


@pytest.mark.parametrize("lang", ["zh", "ja"])
def test_word_units_miss_what_character_units_find(lang):
    """Before: a Chinese or Japanese clause was one word, so one changed character hid a copy."""
    documents = [d["text"] for d in DOCUMENTS if d["lang"] == lang]
    records = [{"id": f"doc{i}", "text": t} for i, t in enumerate(documents)]
    records += [{"id": f"copy{i}", "text": one_character(t)} for i, t in enumerate(documents)]
    found = len(dedup_records(records, DedupOptions(field="text")).removed)
    assert found == len(documents)


def test_unicode_variants_are_exact_duplicates():
    base = "Le café naïve coûte ５ euros, dit-elle."
    variants = [unicodedata.normalize("NFD", base), base.replace("café", "ca\u200bfé"),
                base.replace("naïve", "na\u00adïve"), base.replace("coûte", "COÛTE"),
                base.replace("dit", "\u200edit")]
    records = [{"id": 0, "text": base}] + [{"id": i + 1, "text": v} for i, v in enumerate(variants)]
    result = dedup_records(records, DedupOptions(field="text"))
    assert [r["id"] for r in result.kept] == [0]
    assert {line["reason"] for line in result.removed} == {"exact_duplicate"}


@pytest.fixture()
def eval_file(tmp_path: Path) -> Path:
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps({"id": f"q{i}", "question": s["text"]}, ensure_ascii=False)
                            + "\n" for i, s in enumerate(SENTENCES)), encoding="utf-8")
    return path


def test_chinese_and_japanese_eval_items_are_indexed_and_found_after_a_one_character_edit(eval_file):
    training = [{"id": f"t{i}", "text": f"请回答：{one_character(s['text'])} 谢谢。"}
                for i, s in enumerate(SENTENCES)]
    unrelated = [{"id": f"u{i}", "text": d["text"]} for i, d in enumerate(DOCUMENTS)]
    result = decontam_records(training + unrelated,
                              DecontamOptions(against=[str(eval_file)], field="text"))
    assert result.extra["eval_items_skipped_short"] == 0
    assert result.extra["eval_items"] == {"eval.jsonl": len(SENTENCES)}
    assert sorted(line["record"]["id"] for line in result.removed) == \
        sorted(r["id"] for r in training)
    assert [r["id"] for r in result.kept] == [r["id"] for r in unrelated]
    first = result.removed[0]["eval_items"][0]["ngram"]
    assert " " not in first and len(first) == 13  # 13 characters, shown as written
