"""dedup_records: what is removed, what survives, and how it is reported."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from curate.dedup import DedupOptions, dedup_inputs, dedup_records, normalise, run_dedup
from curate.io import BadRecord, read_records

WORDS = [f"word{i}" for i in range(3000)]


def text(rng: random.Random, n: int = 60) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def jaccard(a: str, b: str, n: int = 5) -> float:
    def grams(t: str) -> set[str]:
        w = normalise(t).split()
        return {" ".join(w[i:i + n]) for i in range(max(len(w) - n + 1, 1))}
    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def with_replaced(base: str, positions: list[int]) -> str:
    words = base.split()
    for p in positions:
        words[p] = "CHANGED"
    return " ".join(words)


@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    """40 unrelated texts, plus planted copies: exact (case/space), ~0.9, ~0.5, a chain."""
    rng = random.Random(7)
    records = [{"id": f"r{i}", "text": text(rng)} for i in range(40)]
    base = records[0]["text"]
    records.append({"id": "exact", "text": "  " + base.upper().replace(" ", "   ") + " !"})
    records.append({"id": "near90", "text": with_replaced(records[1]["text"], [2])})
    records.append({"id": "near50", "text": with_replaced(records[2]["text"], [10, 25, 40, 50])})
    return records


def removed_by_id(result) -> dict:
    return {line["record"]["id"]: line for line in result.removed}


def test_plants_are_where_the_test_says():
    rng = random.Random(7)
    a = text(rng)
    assert jaccard(a, with_replaced(a, [2])) == pytest.approx(0.9, abs=0.02)
    assert jaccard(a, with_replaced(a, [10, 25, 40, 50])) == pytest.approx(0.5, abs=0.1)


def test_exact_case_and_space_copy_and_a_090_copy_go_a_050_copy_stays(corpus):
    result = dedup_records(corpus, DedupOptions(field="text"))
    removed = removed_by_id(result)
    assert set(removed) == {"exact", "near90"}
    assert removed["exact"]["reason"] == "exact_duplicate"
    assert removed["exact"]["duplicate_of"] == "r0" and removed["exact"]["similarity"] == 1.0
    assert removed["near90"]["reason"] == "near_duplicate"
    assert removed["near90"]["duplicate_of"] == "r1"
    near = next(r for r in corpus if r["id"] == "near90")
    assert removed["near90"]["similarity"] == round(jaccard(corpus[1]["text"], near["text"]), 4)
    assert removed["near90"]["step"] == "dedup" and removed["near90"]["record"] == near
    assert len(result.kept) + len(result.removed) == len(corpus)
    assert [r["id"] for r in result.kept] == [r["id"] for r in corpus if r["id"] not in removed]


def test_methods_differ_in_what_they_remove_and_how_they_call_it(corpus):
    exact = removed_by_id(dedup_records(corpus, DedupOptions(field="text", method="exact")))
    assert {k: v["reason"] for k, v in exact.items()} == {"exact": "exact_duplicate"}
    minhash = removed_by_id(dedup_records(corpus, DedupOptions(field="text", method="minhash")))
    assert {k: v["reason"] for k, v in minhash.items()} == {"exact": "near_duplicate",
                                                             "near90": "near_duplicate"}
    loose = removed_by_id(dedup_records(corpus, DedupOptions(field="text", threshold=0.4)))
    assert set(loose) == {"exact", "near90", "near50"}


def test_similarity_reported_equals_brute_force_jaccard_with_the_survivor():
    rng = random.Random(11)
    base = text(rng, 80)
    variants = [with_replaced(base, rng.sample(range(80), k)) for k in (1, 2, 3, 4)]
    records = [{"text": t} for t in [base, *variants]]
    run = run_dedup(records, DedupOptions(field="text", threshold=0.6))
    assert len(run.clusters) == 1 and len(run.result.removed) == 4
    for line in run.result.removed:
        survivor = records[line["duplicate_of"]]["text"]
        assert line["similarity"] == round(jaccard(survivor, line["record"]["text"]), 4)
    [cluster] = run.clusters
    similarities = [line["similarity"] for line in run.result.removed]
    assert cluster["min_similarity"] == min(similarities)
    assert cluster["max_similarity"] == max(similarities)
    assert cluster["members"] == [0, 1, 2, 3, 4] and cluster["survivor"] == 0


def test_records_without_id_get_their_position_and_ids_are_kept_as_is():
    records = [{"text": "alpha beta gamma delta"}, {"id": 77, "text": "Alpha, beta gamma delta!"},
               {"text": "other words entirely here"}]
    result = dedup_records(records, DedupOptions(field="text"))
    assert [r["id"] for r in result.kept] == [0, 2]
    assert result.removed[0]["record"]["id"] == 77 and result.removed[0]["duplicate_of"] == 0
    assert "id" not in records[0]  # the caller's records are not modified


@pytest.mark.parametrize("keep, survivor", [("first", "a"), ("longest", "c"), ("shortest", "b"),
                                            ("score", "b"), ("meta.rank", "a")])
def test_keep_policy_picks_the_survivor(keep: str, survivor: str):
    records = [
        {"id": "a", "text": "the same words here.", "score": 1, "meta": {"rank": 3}},
        {"id": "b", "text": "The same words here", "score": 5.5, "meta": {"rank": 3}},
        {"id": "c", "text": "THE  SAME  WORDS  HERE ...", "score": 2, "meta": {"rank": 1}},
    ]
    result = dedup_records(records, DedupOptions(field="text", keep=keep))
    assert [r["id"] for r in result.kept] == [survivor]
    assert {line["duplicate_of"] for line in result.removed} == {survivor}


def test_a_missing_keep_value_is_a_located_error():
    records = [{"id": 1, "text": "a b c", "score": 2}, {"id": 2, "text": "a b c", "score": "high"}]
    with pytest.raises(BadRecord, match=r"in.jsonl:2: field 'score': expected a number"):
        dedup_records(records, DedupOptions(field="text", keep="score"))


def test_no_cluster_loses_all_its_members_and_survivors_are_kept():
    rng = random.Random(5)
    records = []
    for family in range(30):
        base = text(rng, 40)
        for k in range(rng.randint(1, 6)):
            records.append({"text": with_replaced(base, rng.sample(range(40), k))})
    rng.shuffle(records)
    run = run_dedup(records, DedupOptions(field="text", threshold=0.7, keep="longest"))
    kept_ids = {r["id"] for r in run.result.kept}
    assert len(run.result.kept) + len(run.result.removed) == len(records)
    assert {line["duplicate_of"] for line in run.result.removed} <= kept_ids
    for cluster in run.clusters:
        assert [m for m in cluster["members"] if m in kept_ids] == [cluster["survivor"]]
        lengths = {m: len(records[m]["text"]) for m in cluster["members"]}
        assert lengths[cluster["survivor"]] == max(lengths.values())
    assert sum(c["size"] - 1 for c in run.clusters) == len(run.result.removed)


def test_results_do_not_depend_on_workers_or_repetition():
    rng = random.Random(9)
    bases = [text(rng, 30) for _ in range(300)]
    records = [{"text": rng.choice(bases) if i % 3 else text(rng, 30)} for i in range(9000)]
    for i in range(0, 9000, 7):
        records[i] = {"text": with_replaced(records[i]["text"], [rng.randrange(30)])}
    one = run_dedup(records, DedupOptions(field="text"))
    again = run_dedup(records, DedupOptions(field="text"))
    two = run_dedup(records, DedupOptions(field="text", workers=2))
    dump = lambda run: json.dumps([run.result.kept, run.result.removed, run.clusters])
    assert dump(one) == dump(again) == dump(two)
    assert one.result.extra["clusters"] > 100 and one.result.removed


def test_texts_without_words_are_data_and_missing_text_is_rejected(tmp_path: Path):
    """Emoji-only answers, ASCII art and formulas are valid records: kept, and deduplicated by
    their exact raw text. A record without the compared text is a located reject."""
    records = [{"id": 1, "text": "fine words here"}, {"id": 2, "text": "🙂🙂"},
               {"id": 3, "other": 1}, {"id": 4, "text": "🙂🙂"}, {"id": 5, "text": "∑ ∫ ≤ ≥"},
               {"id": 6, "text": "🙂🙂 "}, {"id": 7, "text": "fine words here"}]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    with pytest.raises(BadRecord, match=r"in\.jsonl:3: field 'text': missing"):
        dedup_inputs([str(source)], tmp_path / "out.jsonl", DedupOptions(field="text"),
                     quiet=True)
    stats = dedup_inputs([str(source)], tmp_path / "out.jsonl", DedupOptions(field="text"),
                         on_error="skip", quiet=True)
    kept = [r["id"] for r in read_records(tmp_path / "out.jsonl")]
    removed = {line["record"]["id"]: line for line in read_records(tmp_path / "out.removed.jsonl")}
    assert kept == [1, 2, 5, 6]  # "🙂🙂 " differs from "🙂🙂" in its raw text
    assert set(removed) == {4, 7}
    assert removed[4]["duplicate_of"] == 2 and removed[4]["reason"] == "exact_duplicate"
    assert stats.rejected_by_reason == {"missing_field": 1}
    assert (stats.model_extra or {})["no_word_texts"] == 4
    [reject] = read_records(tmp_path / "out.rejects.jsonl")
    assert (reject["line"], reject["field"], reject["record"]) == (3, "text", records[2])

def test_conversation_views_compare_user_or_assistant_turns():
    def chat(question: str, answer: str) -> dict:
        return {"messages": [{"role": "user", "content": question},
                             {"role": "assistant", "content": answer}]}
    records = [chat("what is the capital of france", "paris is the capital of france"),
               chat("what is the capital of france", "it is paris, a large city"),
               chat("name the capital city of france", "paris is the capital of france")]
    by_field = {f: {line["record"]["id"] for line in dedup_records(
        records, DedupOptions(field=f)).removed} for f in ("prompt", "response", "all")}
    assert by_field == {"prompt": {1}, "response": {2}, "all": set()}


def test_no_verify_uses_the_minhash_estimate(corpus):
    result = dedup_records(corpus, DedupOptions(field="text", verify=False))
    removed = removed_by_id(result)
    assert set(removed) == {"exact", "near90"}
    assert removed["near90"]["similarity"] == pytest.approx(0.9, abs=0.1)
    assert result.extra["bands"] * result.extra["rows"] <= 128


def test_against_removes_only_new_records_that_match_the_reference(tmp_path: Path, corpus):
    reference = tmp_path / "old.jsonl"
    old = [{"id": "old-a", "text": corpus[3]["text"]},           # exact match of r3
           {"id": "old-b", "text": with_replaced(corpus[4]["text"], [30])},  # ~0.9 of r4
           {"id": "old-c", "text": corpus[5]["text"]},
           {"id": "old-d", "text": corpus[5]["text"]}]             # reference's own duplicate
    reference.write_text("".join(json.dumps(r) + "\n" for r in old))
    result = dedup_records(corpus, DedupOptions(field="text", against=[str(reference)]))
    removed = removed_by_id(result)
    assert set(removed) == {"exact", "near90", "r3", "r4", "r5"}
    assert removed["r3"]["duplicate_of"] == "old-a" and removed["r3"]["similarity"] == 1.0
    assert removed["r3"]["reason"] == "exact_duplicate" and removed["r3"]["cluster_id"] is None
    assert removed["r4"]["duplicate_of"] == "old-b" and removed["r4"]["reason"] == "near_duplicate"
    assert removed["r4"]["reference"] == str(reference)
    assert removed["r5"]["duplicate_of"] == "old-c"  # the reference's first copy
    assert all(r["id"].startswith(("r", "near", "exact")) for r in result.kept)
    assert result.extra["removed_against"] == 3 and result.extra["reference_records"] == 3
    assert len(result.kept) + len(result.removed) == len(corpus)


def test_against_a_match_does_not_drag_down_its_own_near_duplicates(tmp_path: Path):
    rng = random.Random(4)
    base = text(rng)
    ref, a, b = with_replaced(base, [5]), base, with_replaced(base, [55])
    assert jaccard(ref, a) >= 0.8 and jaccard(a, b) >= 0.8 and jaccard(ref, b) < 0.8
    reference = tmp_path / "ref.jsonl"
    reference.write_text(json.dumps({"text": ref}) + "\n")
    result = dedup_records([{"text": a}, {"text": b}],
                           DedupOptions(field="text", against=[str(reference)]))
    assert [r["id"] for r in result.kept] == [1]
    [line] = result.removed
    assert line["record"]["id"] == 0 and line["duplicate_of"] == 0
    assert line["similarity"] == round(jaccard(ref, a), 4)
