"""The built-in sample data: reproducible, convertible, correct, and injected as documented."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from curate.convert import ConvertOptions, convert_inputs
from curate.samples import SAMPLES_DIR
from curate.samples.generate import FILES, generate
from schemas import PreferencePair

PLACEHOLDERS = {"n/a", "<noinput>", "<nooutput>", "todo"}
TEMPLATE_MARKERS = ("<|im_end|>", "<|im_start|>", "</s>", "[INST]", "[/INST]", "<|endoftext|>")
INSULTS = ("stupid", "idiot", "moron", "damn", "crap", "dumbest", "loser", "shut up")
FOREIGN_WORDS = {  # function words of Spanish, French and German that English does not use
    "el", "la", "los", "las", "es", "de", "que", "por", "para", "una", "del", "qué", "cuál",
    "con", "le", "les", "est", "une", "des", "et", "pour", "qui", "ce", "du", "à", "lui",
    "chaque", "avant", "ta", "der", "das", "ist", "und", "von", "zu", "im", "den", "bei",
    "wenn", "die",
}
# Rough size of each injected kind, as the sample data promises (README.md).
EXPECTED_KINDS = {"exact_duplicate": (18, 22), "near_duplicate": (18, 22), "empty": (7, 9),
                  "placeholder": (5, 7), "refusal": (5, 7), "truncated": (5, 7), "toxic": (4, 6),
                  "non_english": (7, 9), "template_tokens": (4, 6), "contamination": (5, 7),
                  "long_output": (5, 7)}


def load_jsonl(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (SAMPLES_DIR / name).read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def alpaca() -> list[dict[str, str]]:
    return json.loads((SAMPLES_DIR / "instructions.alpaca.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def injections() -> dict[int, str]:
    raw = json.loads((SAMPLES_DIR / "injections.json").read_text("utf-8"))
    return {int(index): kind for index, kind in raw.items()}


@pytest.fixture(scope="module")
def eval_questions() -> list[str]:
    return [squash(item["question"]) for item in load_jsonl("eval_set.jsonl")]


def squash(text: str) -> str:
    return " ".join(text.split())


def normalised(record: dict[str, str]) -> str:
    return squash(" ".join((record["instruction"], record["input"], record["output"])).lower())


def shingles(record: dict[str, str]) -> frozenset[tuple[str, ...]]:
    words = re.findall(r"\w+", " ".join(record.values()).lower())
    return frozenset(tuple(words[i:i + 5]) for i in range(max(1, len(words) - 4)))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b)


# --- the files as a whole ---------------------------------------------------------------

def test_generator_rewrites_the_committed_files_byte_for_byte(tmp_path: Path) -> None:
    counts = generate(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    for name in FILES:
        assert (tmp_path / name).read_bytes() == (SAMPLES_DIR / name).read_bytes(), name
    assert counts["instructions.alpaca.json"] == len(json.loads(
        (SAMPLES_DIR / "instructions.alpaca.json").read_text("utf-8")))


def test_data_files_are_small() -> None:
    total = sum((SAMPLES_DIR / name).stat().st_size for name in FILES)
    assert total < 1_500_000


@pytest.mark.parametrize(("name", "to", "records_out"), [
    ("instructions.alpaca.json", "auto", None), ("chats.sharegpt.jsonl", "auto", None),
    ("oasst_trees.jsonl", "auto", None), ("oasst_trees.jsonl", "preference", 12),
    ("hh.jsonl", "auto", None), ("prefs_seed.jsonl", "auto", None),
    ("model_a.jsonl", "auto", None), ("model_b.jsonl", "auto", None),
    ("eval_set.jsonl", "auto", None),
])
def test_every_file_converts_with_zero_rejects(tmp_path: Path, name: str, to: str,
                                               records_out: int | None) -> None:
    stats = convert_inputs([SAMPLES_DIR / name], tmp_path / "out.jsonl", ConvertOptions(to=to),
                         on_error="skip")
    assert (stats.rejected, stats.removed) == (0, 0), stats
    rows = (tmp_path / "out.jsonl").read_text("utf-8").splitlines()
    assert len(rows) >= (records_out or stats.n_in) and stats.used == stats.n_in


# --- instructions.alpaca.json and its injections ----------------------------------------

def test_alpaca_shape_size_and_kinds(alpaca: list[dict[str, str]],
                                     injections: dict[int, str]) -> None:
    assert 350 <= len(alpaca) <= 450
    assert all(list(r) == ["instruction", "input", "output"] for r in alpaca)
    assert all(isinstance(v, str) for r in alpaca for v in r.values())
    assert 0.25 <= sum(bool(r["input"]) for r in alpaca) / len(alpaca) <= 0.35
    assert all(0 <= i < len(alpaca) for i in injections)
    counts = Counter(injections.values())
    assert set(counts) == set(EXPECTED_KINDS)
    for kind, (low, high) in EXPECTED_KINDS.items():
        assert low <= counts[kind] <= high, kind
    assert sum(len(r["output"].split()) <= 3 for r in alpaca) >= 20  # some very short answers


def test_exact_duplicates_are_exactly_the_listed_ones(alpaca: list[dict[str, str]],
                                                      injections: dict[int, str]) -> None:
    first: dict[str, int] = {}
    variants = Counter()
    for i, record in enumerate(alpaca):
        key = normalised(record)
        listed = injections.get(i) == "exact_duplicate"
        assert (key in first) == listed, (i, record)
        if listed:
            variants["verbatim" if alpaca[first[key]] == record else "case/space"] += 1
        first.setdefault(key, i)
    assert variants["verbatim"] >= 5 and variants["case/space"] >= 5


def test_near_duplicates_are_the_only_similar_records(alpaca: list[dict[str, str]],
                                                      injections: dict[int, str]) -> None:
    grams = [shingles(r) for r in alpaca]
    for i in range(len(alpaca)):
        kind = injections.get(i)
        if kind == "exact_duplicate":
            continue
        best = max((jaccard(grams[i], grams[j]) for j in range(i)), default=0.0)
        if kind == "near_duplicate":
            assert 0.8 <= best <= 0.95, (i, best)
        else:
            assert best < 0.6, (i, best, alpaca[i])


def kind_check(record: dict[str, str], kind: str, questions: list[str]) -> bool:
    """Whether a record shows the problem of `kind` (a cheap detector per kind)."""
    out = record["output"]
    if kind == "empty":
        return not out.strip()
    if kind == "placeholder":
        return out.strip().lower() in PLACEHOLDERS or out.strip().startswith("TODO")
    if kind == "refusal":
        return out.startswith("As an AI language model, I")
    if kind == "template_tokens":
        return any(marker in out for marker in TEMPLATE_MARKERS)
    if kind == "contamination":
        prompt = squash(f"{record['instruction']} {record['input']}")
        return any(q in prompt for q in questions)
    if kind == "truncated":
        return out.count("```") % 2 == 1 or not out.rstrip().endswith((".", "!", "?", '"', ")"))
    if kind == "toxic":
        return any(word in out.lower() for word in INSULTS)
    if kind == "non_english":
        words = re.findall(r"\w+", f"{record['instruction']} {out}".lower())
        return sum(w in FOREIGN_WORDS for w in words) / len(words) >= 0.15
    if kind == "long_output":
        return len(out.split()) >= 300
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["empty", "placeholder", "refusal", "template_tokens",
                                  "contamination", "truncated", "toxic", "non_english",
                                  "long_output"])
def test_each_injection_is_of_its_stated_kind(alpaca: list[dict[str, str]],
                                              injections: dict[int, str], eval_questions:
                                              list[str], kind: str) -> None:
    listed = [i for i, k in injections.items() if k == kind]
    assert listed
    for i in listed:
        assert kind_check(alpaca[i], kind, eval_questions), (kind, i, alpaca[i])


@pytest.mark.parametrize("kind", ["empty", "placeholder", "refusal", "template_tokens",
                                  "contamination", "toxic", "non_english", "long_output"])
def test_no_unlisted_record_shows_the_problem(alpaca: list[dict[str, str]],
                                              injections: dict[int, str], eval_questions:
                                              list[str], kind: str) -> None:
    unlisted = [i for i, r in enumerate(alpaca) if i not in injections
                and kind_check(r, kind, eval_questions)]
    assert unlisted == []


def test_contamination_includes_a_whitespace_variant(alpaca: list[dict[str, str]],
                                                     injections: dict[int, str],
                                                     eval_questions: list[str]) -> None:
    prompts = [alpaca[i]["instruction"] for i, k in injections.items() if k == "contamination"]
    assert any(p not in eval_questions and squash(p) in eval_questions for p in prompts)


def test_eval_questions_appear_nowhere_else(eval_questions: list[str]) -> None:
    texts = [(SAMPLES_DIR / name).read_text("utf-8") for name in FILES
             if name not in ("instructions.alpaca.json", "eval_set.jsonl")]
    for question in eval_questions:
        assert not any(question[:60] in text for text in texts)


# --- correctness ------------------------------------------------------------------------

ARITHMETIC = re.compile(r"\b(\d+) ([-+×÷]) (\d+) = (\d+)\b")
APPLY = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "×": lambda a, b: a * b,
         "÷": lambda a, b: a / b}


def arithmetic_ok(text: str) -> bool | None:
    """True/False when `text` states "a op b = c", None when it states none."""
    found = ARITHMETIC.findall(text)
    if not found:
        return None
    return all(APPLY[op](int(a), int(b)) == int(c) for a, op, b, c in found)


def test_stated_sums_are_right_and_rejected_ones_wrong(alpaca: list[dict[str, str]],
                                                       injections: dict[int, str]) -> None:
    checked = 0
    for i, record in enumerate(alpaca):
        if i not in injections:
            assert arithmetic_ok(record["output"]) in (None, True), record
            checked += arithmetic_ok(record["output"]) is True
    for pair in load_jsonl("prefs_seed.jsonl"):
        assert arithmetic_ok(pair["chosen"][0]["content"]) in (None, True), pair
        assert arithmetic_ok(pair["rejected"][0]["content"]) in (None, False), pair
    for chat in load_jsonl("chats.sharegpt.jsonl"):
        for turn in chat["conversations"]:
            assert arithmetic_ok(turn["value"]) in (None, True), turn
    assert checked >= 10


def test_eval_set_worked_answers_add_up() -> None:
    items = load_jsonl("eval_set.jsonl")
    assert 25 <= len(items) <= 35 and len({item["id"] for item in items}) == len(items)
    for item in items:
        assert list(item) == ["id", "question", "answer"]
        steps = re.findall(r"<<(\d+)([-+*/])(\d+)=(\d+)>>", item["answer"])
        assert steps, item
        for a, op, b, c in steps:
            value = {"+": int(a) + int(b), "-": int(a) - int(b), "*": int(a) * int(b),
                     "/": int(a) / int(b)}[op]
            assert value == int(c), item
        final = item["answer"].rsplit("\n#### ", 1)[1]
        assert final == steps[-1][3], item


def test_capital_answers_match_the_table() -> None:
    from curate.samples.tables import CAPITALS

    capitals = {country: city for country, city, _, _ in CAPITALS}
    pattern = re.compile(r"The capital of (.+?) is (.+)\.$")
    for pair in load_jsonl("prefs_seed.jsonl"):
        chosen = pattern.match(pair["chosen"][0]["content"])
        if chosen:
            assert capitals[chosen.group(1)] == chosen.group(2)
            rejected = pattern.match(pair["rejected"][0]["content"])
            assert rejected and capitals[rejected.group(1)] != rejected.group(2)


# --- model outputs, preference pairs and the other formats ------------------------------

def test_model_b_is_longer_and_worse_on_the_same_prompts() -> None:
    a, b, truth = (load_jsonl(n) for n in ("model_a.jsonl", "model_b.jsonl", "ab_truth.jsonl"))
    prompts = [r["instruction"] for r in a]
    assert 100 <= len(prompts) == len(set(prompts))
    assert prompts == [r["instruction"] for r in b] == [r["instruction"] for r in truth]
    assert {r["generator"] for r in a} == {"sample-model-a"}
    assert {r["generator"] for r in b} == {"sample-model-b"}
    assert all(set(r) == {"instruction", "output", "generator"} for r in a + b)
    mean = lambda rows: sum(len(r["output"]) for r in rows) / len(rows)
    assert mean(b) > 2 * mean(a)
    better = Counter(r["better"] for r in truth)
    assert set(better) == {"a", "b", "tie"}
    assert 0.3 <= better["a"] / len(truth) <= 0.4 and better["b"] < better["a"]
    for ra, rb, rt in zip(a, b, truth):
        if rt["better"] == "a":
            assert arithmetic_ok(ra["output"]) in (None, True)
            assert arithmetic_ok(rb["output"]) in (None, False)
        if rt["better"] == "tie":
            assert ra["output"].rstrip(".") in rb["output"]


def test_prefs_seed_is_canonical_and_learnable() -> None:
    pairs = load_jsonl("prefs_seed.jsonl")
    assert 120 <= len(pairs) <= 180 and len({p["id"] for p in pairs}) == len(pairs)
    for pair in pairs:
        PreferencePair.model_validate(pair)
        assert pair["meta"]["source"] == {"format": "sample"}
        assert [m["role"] for m in pair["prompt"]] == ["user"]
        chosen, rejected = pair["chosen"][0]["content"], pair["rejected"][0]["content"]
        assert chosen != rejected
        assert abs(len(chosen) - len(rejected)) <= max(12, len(chosen) // 2), pair
    gap = [len(p["chosen"][0]["content"]) - len(p["rejected"][0]["content"]) for p in pairs]
    assert abs(sum(gap)) / len(pairs) < 2  # no length signal on average


def test_hh_pairs_share_the_prompt_and_include_the_traps() -> None:
    pairs = load_jsonl("hh.jsonl")
    assert 25 <= len(pairs) <= 35
    same_start = multi_turn = 0
    for pair in pairs:
        assert set(pair) == {"chosen", "rejected"}
        prompts, replies = zip(*(pair[s].rpartition("\n\nAssistant:")[::2] for s in pair))
        assert prompts[0] == prompts[1] and prompts[0].startswith("\n\nHuman: ")
        assert replies[0] != replies[1]
        same_start += replies[0].split()[:2] == replies[1].split()[:2]
        multi_turn += prompts[0].count("\n\nHuman:") >= 2
    assert same_start >= 3 and multi_turn >= 3


def walk(node: dict[str, Any], depth: int = 0):
    yield node, depth
    for reply in node["replies"]:
        assert reply["parent_id"] == node["message_id"]
        yield from walk(reply, depth + 1)


def test_oasst_trees_have_ranked_groups_threads_and_one_of_each_flag() -> None:
    trees = load_jsonl("oasst_trees.jsonl")
    assert 10 <= len(trees) <= 14
    nodes = []
    group_sizes = []
    for tree in trees:
        assert tree["tree_state"] == "ready_for_export"
        root = tree["prompt"]
        assert root["parent_id"] is None and tree["message_tree_id"] == root["message_id"]
        for node, depth in walk(root):
            nodes.append((node, depth))
            assert node["role"] == ("prompter" if depth % 2 == 0 else "assistant")
            assert node["lang"] == "en" and node["synthetic"] is False
            ranks = sorted(r["rank"] for r in node["replies"] if r["rank"] is not None)
            if ranks:
                assert ranks == list(range(len(ranks)))
                group_sizes.append(len(ranks))
        assert sum(r["rank"] is not None for r in root["replies"]) >= 2
    assert min(group_sizes) >= 2 and max(group_sizes) == 4
    assert sum(n["deleted"] for n, _ in nodes) == 1
    assert sum(n["review_result"] is False for n, _ in nodes) == 1
    assert sum(depth >= 3 for _, depth in nodes) >= 5  # multi-turn threads


def test_sharegpt_chats_alternate_with_optional_system_turn() -> None:
    chats = load_jsonl("chats.sharegpt.jsonl")
    assert 35 <= len(chats) <= 45
    with_system = 0
    for chat in chats:
        assert list(chat) == ["conversations"]
        speakers = [turn["from"] for turn in chat["conversations"]]
        if speakers[0] == "system":
            with_system += 1
            speakers = speakers[1:]
        assert 2 <= len(chat["conversations"]) <= 6
        assert speakers == ["human", "gpt"] * (len(speakers) // 2)
    assert 5 <= with_system < len(chats)
