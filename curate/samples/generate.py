"""Write the built-in sample data: `python -m curate.samples.generate [--out DIR]`.

Deterministic: one `random.Random(0)`, stdlib only, no set iteration, so a rerun rewrites
every file byte for byte. All texts are written for this project (public domain, CC0):
templates over the hand-written tables in `tables.py` and `texts.py`, with computed answers.

`instructions.alpaca.json` is deliberately messy; `injections.json` says which records
carry which injected problem (index -> kind), so tests can check that curation finds them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from curate.samples import SAMPLES_DIR
from curate.samples import tables as t
from curate.samples import texts as x
from curate.samples.tasks import (
    Task,
    antonym,
    arithmetic,
    capital,
    code,
    concept,
    continent,
    conversion,
    definition,
    element,
    fact,
    howto,
    language_task,
    list_math,
    number_fact,
    past_tense,
    plural,
    synonym,
    text_task,
)
from curate.samples.tasks import animal as animal_task
from curate.samples.web import build_web_docs

SEED = 0
FILES = ("instructions.alpaca.json", "injections.json", "eval_set.jsonl", "chats.sharegpt.jsonl",
         "oasst_trees.jsonl", "hh.jsonl", "model_a.jsonl", "model_b.jsonl", "ab_truth.jsonl",
         "prefs_seed.jsonl", "web_docs.jsonl", "README.md")
NEAR_DUP_RANGE = (0.8, 0.95)  # word 5-gram Jaccard of a near-duplicate to its original
LONG_WORDS = 300
# The kinds `injections.json` uses (long_output marks 300+ word answers, not a defect).
KINDS = ("exact_duplicate", "near_duplicate", "empty", "placeholder", "refusal", "truncated",
         "toxic", "non_english", "template_tokens", "contamination", "long_output")


# --- shared helpers ---------------------------------------------------------------------

def shingles(text: str, n: int = 5) -> frozenset[tuple[str, ...]]:
    """Word n-grams of lower-cased text (the measure near-duplicate detection uses)."""
    words = re.findall(r"\w+", text.lower())
    return frozenset(tuple(words[i:i + n]) for i in range(max(1, len(words) - n + 1)))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def record_text(record: dict[str, str]) -> str:
    return " ".join((record["instruction"], record["input"], record["output"]))


def normalise(text: str) -> str:
    """Case- and whitespace-insensitive form used for exact-duplicate checks."""
    return " ".join(text.lower().split())


def unique_tasks(rng: random.Random, builder: Callable[[random.Random], Task], count: int,
                 seen: set[tuple[str, str]], need_wrong: bool = False) -> list[Task]:
    """`count` tasks from `builder` whose (instruction, input) were not `seen` before."""
    out: list[Task] = []
    for _ in range(count * 50):
        if len(out) == count:
            return out
        task = builder(rng)
        answer = ("\0answer", f"{task.input}\0{task.output}")  # same question, other words
        if task.key in seen or answer in seen or (need_wrong and not task.wrong):
            continue
        seen.update((task.key, answer))
        out.append(task)
    raise RuntimeError(f"{builder.__name__}: only {len(out)} unique tasks of {count}")


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def prompt_text(task: Task) -> str:
    return f"{task.instruction}\n\n{task.input}" if task.input else task.instruction


# --- eval set (GSM8K-style word problems) -----------------------------------------------

def _calc(a: int, op: str, b: int, result: int) -> str:
    return f"{a} {op} {b} = <<{a}{op}{b}={result}>>{result}"


def _eval_problem(rng: random.Random, kind: int, name: str) -> tuple[str, list[str], int]:
    if kind == 0:
        item, box = rng.choice([("stickers", "pack"), ("marbles", "bag"), ("crayons", "box"),
                                ("cookies", "packet")])
        n, k = rng.randint(3, 9), rng.randint(6, 24)
        total = n * k
        g = rng.randint(5, total - 5)
        q = (f"{name} buys {n} {box}{'es' if box == 'box' else 's'} of {item}. Each {box} has "
             f"{k} {item}. {name} gives {g} {item} to friends. How many {item} does {name} "
             "have left?")
        return q, [f"{name} buys {_calc(n, '*', k, total)} {item}.",
                   (f"After giving some away, {name} has {_calc(total, '-', g, total - g)} {item} "
                   "left.")], total - g
    if kind == 1:
        a, b, p = rng.randint(20, 80), rng.randint(10, 60), rng.randint(2, 6)
        q = (f"A bakery bakes {a} loaves of bread in the morning and {b} loaves in the "
             f"afternoon. Each loaf sells for ${p}. How much money does the bakery make if it "
             "sells every loaf?")
        return q, [f"The bakery bakes {_calc(a, '+', b, a + b)} loaves.",
                   f"It makes {_calc(a + b, '*', p, (a + b) * p)} dollars."], (a + b) * p
    if kind == 2:
        p, r, w = rng.randint(10, 40), rng.randint(20, 60), rng.randint(2, 4)
        week = 5 * p + 2 * r
        q = (f"{name} reads {p} pages every weekday and {r} pages on each day of the weekend. "
             f"How many pages does {name} read in {w} weeks?")
        return q, [f"On weekdays {name} reads {_calc(5, '*', p, 5 * p)} pages a week.",
                   f"At the weekend {name} reads {_calc(2, '*', r, 2 * r)} pages.",
                   f"That is {_calc(5 * p, '+', 2 * r, week)} pages a week.",
                   f"In {w} weeks {name} reads {_calc(week, '*', w, week * w)} pages."], week * w
    if kind == 3:
        s1, s2 = 5 * rng.randint(8, 16), 5 * rng.randint(8, 16)
        h1, h2 = rng.randint(2, 5), rng.randint(1, 4)
        d1, d2 = s1 * h1, s2 * h2
        q = (f"A train travels at {s1} miles per hour for {h1} hours and then at {s2} miles per "
             f"hour for {h2} hours. How many miles does it travel in total?")
        return q, [f"In the first part it travels {_calc(s1, '*', h1, d1)} miles.",
                   f"In the second part it travels {_calc(s2, '*', h2, d2)} miles.",
                   f"In total it travels {_calc(d1, '+', d2, d1 + d2)} miles."], d1 + d2
    if kind == 4:
        spent = rng.randint(6, 30)
        left = 2 * rng.randint(8, 45)
        m = spent + left
        q = (f"{name} has ${m}. {name} spends ${spent} on a book and then spends half of the "
             "remaining money on lunch. How much money does "
             f"{name} have left?")
        return q, [f"After buying the book, {name} has {_calc(m, '-', spent, left)} dollars.",
                   f"Lunch costs {_calc(left, '/', 2, left // 2)} dollars.",
                   f"{name} has {_calc(left, '-', left // 2, left // 2)} dollars left."], left // 2
    if kind == 5:
        c, ch = rng.randint(5, 30), rng.randint(10, 50)
        q = (f"{name}'s farm has {c} cows and {ch} chickens. How many legs do all the animals "
             "have together?")
        return q, [f"The cows have {_calc(c, '*', 4, 4 * c)} legs.",
                   f"The chickens have {_calc(ch, '*', 2, 2 * ch)} legs.",
                   f"Together they have {_calc(4 * c, '+', 2 * ch, 4 * c + 2 * ch)} legs."], \
            4 * c + 2 * ch
    if kind == 6:
        while True:
            b, k = rng.randint(4, 12), rng.randint(10, 30)
            divisors = [s for s in range(3, 10) if (b * k) % s == 0 and s not in (b, k)]
            if divisors:
                break
        s = rng.choice(divisors)
        q = (f"A school orders {b} boxes of pencils with {k} pencils in each box. The pencils "
             f"are shared equally among {s} classes. How many pencils does each class get?")
        return q, [f"The school has {_calc(b, '*', k, b * k)} pencils.",
                   f"Each class gets {_calc(b * k, '/', s, b * k // s)} pencils."], b * k // s
    if kind == 7:
        s, w, have = rng.randint(5, 25), rng.randint(4, 12), rng.randint(10, 60)
        cost = have + s * w
        q = (f"{name} wants to buy a bike that costs ${cost}. {name} already has ${have} and "
             f"saves ${s} each week. How many weeks will it take {name} to have enough money?")
        return q, [f"{name} still needs {_calc(cost, '-', have, s * w)} dollars.",
                   f"At {s} dollars a week, that takes {_calc(s * w, '/', s, w)} weeks."], w
    if kind == 8:
        r, k, each = rng.randint(3, 9), rng.randint(4, 12), rng.randint(6, 20)
        q = (f"{name} plants {r} rows of tomato plants with {k} plants in each row. Each plant "
             f"produces {each} tomatoes. How many tomatoes does {name} harvest?")
        return q, [f"{name} has {_calc(r, '*', k, r * k)} plants.",
                   f"They produce {_calc(r * k, '*', each, r * k * each)} tomatoes."], r * k * each
    adult, child = rng.randint(9, 20), rng.randint(3, 8)
    na, nc = rng.randint(2, 4), rng.randint(2, 5)
    q = (f"Museum tickets cost ${adult} for adults and ${child} for children. How much does it "
         f"cost for {na} adults and {nc} children to visit the museum?")
    return q, [f"The adult tickets cost {_calc(na, '*', adult, na * adult)} dollars.",
               f"The children's tickets cost {_calc(nc, '*', child, nc * child)} dollars.",
               (f"Altogether it costs {_calc(na * adult, '+', nc * child, na * adult + nc * child)}"
               " dollars.")], na * adult + nc * child


def build_eval_set(rng: random.Random, count: int = 30) -> list[dict[str, str]]:
    names = rng.sample(t.NAMES, len(t.NAMES))
    items: list[dict[str, str]] = []
    seen: set[str] = set()
    while len(items) < count:
        question, steps, final = _eval_problem(rng, len(items) % 10, names[len(items) % 30])
        if question in seen:
            continue
        seen.add(question)
        items.append({"id": f"sample-eval-{len(items):03d}", "question": question,
                      "answer": "\n".join(steps) + f"\n#### {final}"})
    return items


# --- instructions.alpaca.json -----------------------------------------------------------

BASE_MIX: list[tuple[Callable[[random.Random], Task], int]] = [
    (arithmetic, 30), (number_fact, 22), (list_math, 18), (conversion, 18), (capital, 18),
    (continent, 5), (antonym, 14), (synonym, 6), (definition, 12), (element, 8),
    (past_tense, 6), (plural, 5), (animal_task, 5), (fact, 8), (text_task, 32),
    (language_task, 30),
]
# Lower-case words a near-duplicate may swap; meaning is kept.
SWAPS = [("such as", "like"), ("a few", "several"), ("also", "additionally"), ("use", "utilise"),
         ("large", "big"), ("larger", "bigger"), ("often", "frequently"), ("quickly", "rapidly"),
         ("simple", "basic"), ("carefully", "thoroughly"), ("usually", "normally"),
         ("shorter", "briefer"), ("different", "distinct"), ("important", "essential"),
         ("called", "known as"), ("example", "instance"), ("slowly", "gradually"),
         ("needs", "requires"), ("gets", "receives"), ("check", "verify"), ("easier", "simpler"),
         ("whole", "entire"), ("faster", "quicker"), ("places", "locations"), ("choose", "pick")]


def _with_input_form(rng: random.Random, task: Task) -> Task:
    """Some single-item questions are asked as an instruction plus an input field."""
    if task.input or rng.random() > 0.3:
        return task
    forms = {
        "capital": ("What is the capital of the country below?", r"capital of (.+?) is"),
        "definition": ("Define the following word.", r"^'?(\w+)"),
        "element": ("Give the chemical symbol of this element.", r"symbol for (\w+) is"),
    }
    form = forms.get(task.kind)
    if not form:
        return task
    found = re.search(form[1], task.output)
    if not found:
        return task
    subject = found.group(1).removeprefix("the ")
    subject = subject[0].upper() + subject[1:] if task.kind == "capital" else subject.lower()
    return Task(task.kind, form[0], task.output, subject, task.wrong, task.short)


def _long_tasks() -> list[Task]:
    out = [Task("long", question, answer) for question, answer in t.LONG_GUIDES]
    out.append(Task("long", "Describe each planet of our solar system in a few sentences.",
                    "Our solar system has eight planets. In order from the Sun:\n\n"
                    + "\n\n".join(f"{name}: {text}" for name, text in t.PLANETS)))
    rows = t.CAPITALS[:36]
    out.append(Task("long", "Write one sentence about the capital of each of these countries.",
                    "\n".join(f"The capital of {c} is {city}, which is in {where}."
                              for c, city, where, _ in rows),
                    ", ".join(c.removeprefix("the ") for c, *_ in rows)))
    out.append(Task("long", "Give a short definition of each of these words.",
                    "Here is a short definition of each of the thirty words, in the order "
                    "given:\n\n" + "\n".join(f"{w.capitalize()}: {d}." for w, d in t.DEFINITIONS),
                    ", ".join(w for w, _ in t.DEFINITIONS)))
    for task in out:
        words = len(task.output.split())
        assert words >= LONG_WORDS, (task.instruction, words)
    return out


def _alpaca(task: Task) -> dict[str, str]:
    return {"instruction": task.instruction, "input": task.input, "output": task.output}


def _near_duplicate(rng: random.Random, record: dict[str, str]) -> dict[str, str] | None:
    original = shingles(record_text(record))
    swaps = [(a, b) for a, b in SWAPS if re.search(rf"\b{a}\b", record["output"])]
    rng.shuffle(swaps)
    current, best = dict(record), None
    for a, b in swaps:
        trial = dict(current, output=re.sub(rf"\b{a}\b", b, current["output"], count=1))
        score = jaccard(original, shingles(record_text(trial)))
        if score < NEAR_DUP_RANGE[0] + 0.02:
            break
        current = trial
        if score <= NEAR_DUP_RANGE[1] - 0.02:
            best = dict(current)
            if rng.random() < 0.5:
                break
    return best


def _exact_duplicate(rng: random.Random, record: dict[str, str], mode: str) -> dict[str, str]:
    if mode == "case":
        return dict(record, instruction=record["instruction"].lower())
    if mode == "space":
        if rng.random() < 0.5:
            return dict(record, instruction=record["instruction"].replace(" ", "  ", 1) + " ")
        return dict(record, output=record["output"] + "\n")
    return dict(record)


def _contaminated(item: dict[str, str], variant: int) -> dict[str, str]:
    question, answer = item["question"], item["answer"]
    final = answer.rsplit("#### ", 1)[1]
    if variant == 2:  # whitespace changed between words
        words = question.split(" ")
        spaced = "".join(w + ("  " if i % 5 == 2 else "\n" if i == 9 else " ")
                         for i, w in enumerate(words)).rstrip()
        return {"instruction": spaced, "input": "", "output": answer}
    if variant == 3:
        return {"instruction": f"Solve this math problem: {question}", "input": "",
                "output": f"The answer is {final}."}
    if variant == 4:
        return {"instruction": "Answer the following math word problem.", "input": question,
                "output": answer}
    if variant == 5:
        return {"instruction": f"{question} Show your work.", "input": "", "output": answer}
    return {"instruction": question, "input": "", "output": answer}


def build_alpaca(rng: random.Random, eval_set: list[dict[str, str]]
                 ) -> tuple[list[dict[str, str]], dict[str, str]]:
    """~390 records: clean ones plus injected problems; returns (records, index -> kind)."""
    seen: set[tuple[str, str]] = set()
    base: list[Task] = []
    for builder, count in BASE_MIX:
        base += [_with_input_form(rng, task) for task in unique_tasks(rng, builder, count, seen)]
    base += [howto(row) for row in t.HOWTO] + [concept(row) for row in t.CONCEPTS]
    base += [code(row) for row in t.CODE]
    longs = _long_tasks()
    base += longs
    rng.shuffle(base)
    records = [_alpaca(task) for task in base]
    kinds: list[str | None] = ["long_output" if task.kind == "long" else None for task in base]
    keys: list[float] = [float(i) for i in range(len(records))]
    n = float(len(records))

    def add(record: dict[str, str], kind: str, after: float | None = None) -> None:
        low = -0.5 if after is None else after
        records.append(record)
        kinds.append(kind)
        keys.append(low + 0.001 + rng.random() * (n - low - 0.002))

    # Exact duplicates (some differing only in case or whitespace) of short/medium records.
    candidates = [i for i, task in enumerate(base) if task.kind != "long"]
    dup_sources = rng.sample(candidates, 20)
    for j, i in enumerate(dup_sources):
        mode = "exact" if j < 12 else "case" if j < 16 else "space"
        add(_exact_duplicate(rng, records[i], mode), "exact_duplicate", keys[i])
    # Near-duplicates: a few words swapped in a medium-length record.
    medium = [i for i, task in enumerate(base) if task.kind in ("howto", "explain", "code")
              and i not in dup_sources and 55 <= len(record_text(records[i]).split()) <= 200]
    made = 0
    for i in rng.sample(medium, len(medium)):
        near = _near_duplicate(rng, records[i])
        if near is not None:
            add(near, "near_duplicate", keys[i])
            made += 1
            if made == 20:
                break
    assert made == 20, made
    for instruction, output in x.EMPTY:
        add({"instruction": instruction, "input": "", "output": output}, "empty")
    for instruction, output in x.PLACEHOLDER:
        add({"instruction": instruction, "input": "", "output": output}, "placeholder")
    for instruction, output in x.REFUSAL:
        add({"instruction": instruction, "input": "", "output": output}, "refusal")
    for instruction, output in x.TRUNCATED:
        add({"instruction": instruction, "input": "", "output": output}, "truncated")
    for instruction, given, output in x.TOXIC:
        add({"instruction": instruction, "input": given, "output": output}, "toxic")
    for _, instruction, given, output in x.NON_ENGLISH:
        add({"instruction": instruction, "input": given, "output": output}, "non_english")
    for instruction, given, output in x.TEMPLATE_TOKENS:
        add({"instruction": instruction, "input": given, "output": output}, "template_tokens")
    for variant, item in enumerate(rng.sample(eval_set, 6)):
        add(_contaminated(item, variant), "contamination")

    order = sorted(range(len(records)), key=lambda i: (keys[i], i))
    final = [records[i] for i in order]
    injections = {str(pos): kinds[i] for pos, i in enumerate(order) if kinds[i] is not None}
    _check_alpaca(final, injections)
    return final, injections


def _check_alpaca(records: list[dict[str, str]], injections: dict[str, str]) -> None:
    """Guard the generator's promises: no accidental (near-)duplicates among clean records."""
    seen: dict[str, int] = {}
    grams = [shingles(record_text(r)) for r in records]
    for i, record in enumerate(records):
        kind = injections.get(str(i))
        norm = normalise(record_text(record))
        if (norm in seen) != (kind == "exact_duplicate"):
            raise RuntimeError(f"record {i}: duplicate status does not match its kind {kind}")
        seen.setdefault(norm, i)
        if kind in ("exact_duplicate", "near_duplicate"):
            continue
        best = max(((jaccard(grams[i], grams[j]), j) for j in range(i)), default=(0.0, -1))
        if best[0] >= 0.6:
            raise RuntimeError(f"record {i} is a near-duplicate of record {best[1]} "
                               f"(Jaccard {best[0]:.2f}) but is not injected as one")


# --- chats.sharegpt.jsonl ---------------------------------------------------------------

SYSTEMS = {
    "general": "You are a helpful assistant.",
    "tutor": "You are a patient tutor who explains things simply to school students.",
    "advice": "You are a friendly assistant who gives practical, step-by-step advice.",
    "concise": "You are a concise assistant. Keep answers short.",
}


def _chat_arithmetic(rng: random.Random) -> tuple[str, list[str]]:
    a, b, d = rng.randint(3, 25), rng.randint(3, 12), rng.randint(5, 99)
    p = a * b
    turns = [f"What is {a} × {b}?", f"{a} × {b} = {p}.", f"Now add {d} to that.",
             f"{p} + {d} = {p + d}."]
    divisor = next((k for k in (7, 5, 3, 2) if (p + d) % k == 0), None)
    if divisor and rng.random() < 0.6:
        turns += [f"And divide the result by {divisor}?",
                  f"{p + d} ÷ {divisor} = {(p + d) // divisor}."]
    return "concise", turns


def _chat_capital(rng: random.Random) -> tuple[str, list[str]]:
    country, city, where, _ = rng.choice(t.ONE_CONTINENT)
    name = country[0].upper() + country[1:]
    return "general", [f"What's the capital of {country}?", f"The capital of {country} is {city}.",
                       f"Which continent is {country} in?", f"{name} is in {where}."]


def _chat_words(rng: random.Random) -> tuple[str, list[str]]:
    word, opposite, _ = rng.choice(t.ANTONYMS)
    other, same = rng.choice(t.SYNONYMS)
    return "general", [f"Give me an antonym for '{word}'.",
                       f"An antonym for '{word}' is '{opposite}'.",
                       f"Thanks! What about a synonym for '{other}'?",
                       f"A good synonym for '{other}' is '{same}'."]


def _chat_howto(rng: random.Random) -> tuple[str, list[str]]:
    question, answer = rng.choice(t.HOWTO)
    turns = [question, answer]
    if rng.random() < 0.6:
        turns += [rng.choice(["Thanks, that helps!", "Great, thank you.", "Perfect, thanks!"]),
                  rng.choice(["You're welcome! Good luck.", "Happy to help. Enjoy!",
                              "Glad it helped. Let me know how it goes!"])]
    return "advice", turns


def _chat_conversion(rng: random.Random) -> tuple[str, list[str]]:
    inches = rng.choice([10, 20, 25, 30, 40, 50, 60, 75, 100])
    cm = inches * 254 // 100 if inches * 254 % 100 == 0 else inches * 2.54
    cm_text = f"{cm:g}" if isinstance(cm, float) else str(cm)
    metres = f"{inches * 254 / 10000:g}"
    return "general", [f"How many centimetres are in {inches} inches?",
                       (f"{inches} inches is {cm_text} centimetres, because one inch is exactly "
                       "2.54 centimetres."), "And how many metres is that?",
                       f"{cm_text} centimetres is {metres} metres."]


def _chat_sort(rng: random.Random) -> tuple[str, list[str]]:
    numbers = rng.sample(range(1, 100), rng.randint(5, 7))
    given = ", ".join(map(str, numbers))
    return "concise", [f"Sort these numbers from smallest to largest: {given}",
                       ", ".join(map(str, sorted(numbers))), "Now from largest to smallest.",
                       ", ".join(map(str, sorted(numbers, reverse=True)))]


def _chat_concept(rng: random.Random) -> tuple[str, list[str]]:
    question, answer = rng.choice(t.CONCEPTS)
    return "tutor", [question, answer]


def _chat_code(rng: random.Random) -> tuple[str, list[str]]:
    instruction, answer = rng.choice(t.CODE)
    return "general", [instruction, answer, "Thanks, that works!",
                       "Glad it helped! Let me know if you would like some tests for it."]


def _chat_reverse(rng: random.Random) -> tuple[str, list[str]]:
    word = rng.choice(t.WORDS)
    same = word == word[::-1]
    return "general", [f"Reverse the word '{word}'.", f"'{word}' reversed is '{word[::-1]}'.",
                       "Is it a palindrome?",
                       f"Yes. '{word}' reads the same forwards and backwards." if same else
                       f"No. '{word}' and '{word[::-1]}' are different, so it is not a palindrome."]


def _chat_element(rng: random.Random) -> tuple[str, list[str]]:
    name, symbol, number, _ = rng.choice(t.ELEMENTS)
    return "general", [f"What's the chemical symbol for {name}?",
                       f"The chemical symbol for {name} is {symbol}.", "And its atomic number?",
                       f"The atomic number of {name} is {number}."]


CHAT_BUILDERS = [_chat_arithmetic, _chat_capital, _chat_words, _chat_howto, _chat_conversion,
                 _chat_sort, _chat_concept, _chat_code, _chat_reverse, _chat_element]


def build_chats(rng: random.Random, count: int = 40) -> list[dict[str, Any]]:
    chats, seen = [], set()
    while len(chats) < count:
        system, turns = CHAT_BUILDERS[len(chats) % len(CHAT_BUILDERS)](rng)
        if turns[0] in seen:
            continue
        seen.add(turns[0])
        conversation = [{"from": "human" if i % 2 == 0 else "gpt", "value": text}
                        for i, text in enumerate(turns)]
        if len(turns) <= 5 and rng.random() < 0.4:
            conversation.insert(0, {"from": "system", "value": SYSTEMS[system]})
        chats.append({"conversations": conversation})
    rng.shuffle(chats)
    return chats


# --- oasst_trees.jsonl ------------------------------------------------------------------

def _node(rng: random.Random, parent: str | None, role: str, text: str, rank: int | None,
          **flags: Any) -> dict[str, Any]:
    node: dict[str, Any] = {"message_id": uid(rng), "parent_id": parent, "role": role,
                            "text": text, "lang": "en", "rank": rank, "review_result": True,
                            "deleted": False, "synthetic": False}
    node.update(flags)
    node["replies"] = []
    return node


def _ranked(rng: random.Random, parent: str, texts: list[str]) -> list[dict[str, Any]]:
    """Assistant replies ranked best first (rank 0), listed in a shuffled export order."""
    replies = [_node(rng, parent, "assistant", text, rank if len(texts) > 1 else None)
               for rank, text in enumerate(texts)]
    rng.shuffle(replies)
    return replies


def build_oasst(rng: random.Random) -> list[dict[str, Any]]:
    answers = dict(t.HOWTO + t.CONCEPTS + t.CODE)
    answers["Can you give me some tips to save money on groceries?"] = answers[
        "How can I save money on groceries?"]
    trees = []
    for spec in x.OASST:
        root = _node(rng, None, "prompter", spec["prompt"], None)
        best = spec["best"] or answers[spec["prompt"]]
        root["replies"] = _ranked(rng, root["message_id"], [best] + spec["others"])
        best_node = next(r for r in root["replies"] if r["text"] == best)
        if spec.get("deleted"):
            root["replies"].insert(1, _node(rng, root["message_id"], "assistant", spec["deleted"],
                                            None, deleted=True))
        for question, replies in spec["follow"]:
            prompter = _node(rng, best_node["message_id"], "prompter", question, None)
            prompter["replies"] = _ranked(rng, prompter["message_id"], replies)
            best_node["replies"].append(prompter)
        if spec.get("spam"):
            spam, reply = spec["spam"]
            prompter = _node(rng, best_node["message_id"], "prompter", spam, None,
                             review_result=False)
            prompter["replies"] = [_node(rng, prompter["message_id"], "assistant", reply, None)]
            best_node["replies"].append(prompter)
        trees.append({"message_tree_id": root["message_id"], "tree_state": "ready_for_export",
                      "prompt": root})
    return trees


# --- hh.jsonl ---------------------------------------------------------------------------

def _transcript(turns: Iterable[str]) -> str:
    return "".join(f"\n\n{'Human' if i % 2 == 0 else 'Assistant'}: {text}"
                   for i, text in enumerate(turns))


LAZY = ["I'm not sure. Maybe search online?", "Just do it the usual way.",
        "That's easy, you'll figure it out.", "It depends.", "Why would you want to do that?"]
RUDE = ["Look it up yourself, it's not hard.", "Everyone knows that. Pay attention in school.",
        "I don't have time for basic questions like this."]


def build_hh(rng: random.Random) -> list[dict[str, str]]:
    pairs: list[tuple[list[str], str, str]] = []
    for country, city, _, wrong in rng.sample(t.CAPITALS, 5):  # replies start alike
        pairs.append(([f"What is the capital of {country}?"],
                      f"The capital of {country} is {city}.",
                      f"The capital of {country} is {wrong}."))
    for question, right, wrong in rng.sample(t.FACTS, 3):
        pairs.append(([question], right, wrong))
    for _ in range(2):
        a, b = rng.randint(12, 99), rng.randint(12, 99)
        pairs.append(([f"What is {a} + {b}?"], f"{a} + {b} = {a + b}.",
                      f"{a} + {b} = {a + b - 10}."))
    for (question, answer), lazy in zip(rng.sample(t.HOWTO, 5), rng.sample(LAZY, 5)):
        pairs.append(([question], answer, lazy))
    for (question, answer), rude in zip(rng.sample(t.CONCEPTS, 3), RUDE):
        pairs.append(([question], answer, rude))
    pairs += [(list(turns), chosen, rejected) for turns, chosen, rejected in x.HH_HARMLESS]
    concepts = dict(t.CONCEPTS)
    for turns, chosen, rejected in x.HH_MULTI:
        filled = [concepts[turns[0]] if text is None else text for text in turns]
        pairs.append((filled, chosen, rejected))
    rng.shuffle(pairs)
    return [{"chosen": _transcript(turns + [chosen]), "rejected": _transcript(turns + [rejected])}
            for turns, chosen, rejected in pairs]


# --- model_a.jsonl, model_b.jsonl, ab_truth.jsonl ---------------------------------------

def _ab_tasks(rng: random.Random) -> list[Task]:
    seen: set[tuple[str, str]] = set()
    tasks = unique_tasks(rng, arithmetic, 30, seen, need_wrong=True)
    tasks += [capital(rng, row) for row in rng.sample(t.CAPITALS, 20)]
    tasks += unique_tasks(rng, conversion, 15, seen, need_wrong=True)
    tasks += [antonym(rng, row) for row in rng.sample(t.ANTONYMS, 15)]
    tasks += [element(rng, row) for row in rng.sample(t.ELEMENTS, 10)]
    tasks += unique_tasks(rng, list_math, 10, seen, need_wrong=True)
    tasks += [fact(rng, row) for row in rng.sample(t.FACTS, 20)]
    rng.shuffle(tasks)
    return tasks


def _sentence(answer: str) -> str:
    return answer if answer.endswith((".", "!", "?")) else f"The answer is {answer}."


def _padded(rng: random.Random, task: Task, answer: str) -> str:
    if rng.random() < 0.15:
        return _sentence(answer)
    bridge = x.FILLER_BRIDGES.get(task.kind, x.FILLER_BRIDGES["fact"])
    return " ".join([rng.choice(x.FILLER_OPENERS), bridge, _sentence(answer),
                     rng.choice(x.FILLER_CLOSERS)])


def build_model_outputs(rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    tasks = _ab_tasks(rng)
    wrong = rng.sample(range(len(tasks)), 50)
    b_wrong, a_wrong = set(wrong[:42]), set(wrong[42:])
    model_a, model_b, truth = [], [], []
    for i, task in enumerate(tasks):
        instruction = prompt_text(task)
        assert task.wrong
        a = task.wrong if i in a_wrong else task.output
        b = _padded(rng, task, task.wrong if i in b_wrong else task.output)
        model_a.append({"instruction": instruction, "output": a, "generator": "sample-model-a"})
        model_b.append({"instruction": instruction, "output": b, "generator": "sample-model-b"})
        better = "a" if i in b_wrong else "b" if i in a_wrong else "tie"
        truth.append({"instruction": instruction, "better": better})
    return model_a, model_b, truth


# --- prefs_seed.jsonl -------------------------------------------------------------------

def build_prefs(rng: random.Random) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    tasks = unique_tasks(rng, arithmetic, 50, seen, need_wrong=True)
    tasks += [capital(rng, row) for row in rng.sample(t.CAPITALS, 30)]
    tasks += [antonym(rng, row) for row in rng.sample(t.ANTONYMS, 25)]
    tasks += [past_tense(rng, row) for row in rng.sample(t.PAST_TENSES, 15)]
    tasks += [element(rng, row) for row in rng.sample(t.ELEMENTS, 10)]
    tasks += [plural(rng, row) for row in rng.sample(t.PLURALS, 10)]
    tasks += unique_tasks(rng, conversion, 10, seen, need_wrong=True)
    rng.shuffle(tasks)
    pairs = []
    for i, task in enumerate(tasks):
        assert task.wrong and task.wrong != task.output
        pairs.append({"id": f"sample-pref-{i:03d}",
                      "prompt": [{"role": "user", "content": prompt_text(task)}],
                      "chosen": [{"role": "assistant", "content": task.output}],
                      "rejected": [{"role": "assistant", "content": task.wrong}],
                      "meta": {"source": {"format": "sample"}, "task": task.kind}})
    return pairs


# --- writing ----------------------------------------------------------------------------

def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _readme(counts: dict[str, int], injections: dict[str, str]) -> str:
    values = list(injections.values())
    injected = ", ".join(f"{values.count(kind)} {kind.replace('_', ' ')}" for kind in KINDS)
    rows = [
        ("instructions.alpaca.json", "Alpaca JSON array",
         (f"Messy on purpose: {injected}. Near-duplicates have word 5-gram Jaccard 0.8-0.95 to "
         "an earlier record; exact duplicates may differ in case or whitespace. About 30% have "
         "an `input`. No labels in the file; see `injections.json`.")),
        ("injections.json", "JSON object", "Record index (0-based) -> injected kind, for tests."),
        ("eval_set.jsonl", "GSM8K-style `question`/`answer` with `#### N`",
         "Held-out word problems; 6 are copied into the Alpaca file (contamination)."),
        ("chats.sharegpt.jsonl", "ShareGPT", "2-6 turns; some start with a system turn."),
        ("oasst_trees.jsonl", "OpenAssistant trees export",
         ("Ranked sibling groups of 2-4 replies (rank 0 best), follow-up threads, one deleted "
         "node, one node with `review_result: false`.")),
        ("hh.jsonl", "Anthropic HH transcripts",
         ("Multi-turn pairs, and pairs whose replies start with the same words (a "
         "character-level common prefix cuts into the reply).")),
        ("model_a.jsonl", "AlpacaEval model outputs", "Model A: concise; wrong on 8 prompts (where B wins)."),
        ("model_b.jsonl", "AlpacaEval model outputs",
         "Same prompts; model B is wrong on 35% and pads its answers (length trap)."),
        ("ab_truth.jsonl", "`instruction`, `better`", ("Which answer is better by correctness: "
         "a, b or tie.")),
        ("prefs_seed.jsonl", "PreferencePair", ("Chosen correct, rejected wrong in the same "
         "style and length; a tiny model learns it in a few DPO steps.")),
        ("web_docs.jsonl", "`id`, `text`, `url` documents", ("Clean encyclopedic paragraphs, "
         "plus repeated lines, bullets, navigation, symbols, ellipses, number tables, "
         "boilerplate (JavaScript, lorem ipsum, code) and near and exact duplicates; "
         "`meta.kind` says which.")),
    ]
    lines = ["# Built-in sample data", "",
             ("Written for this project; public domain (CC0). Regenerate with "
             "`python -m curate.samples.generate` (deterministic, byte-identical)."), "",
             "| file | format | records | what is injected or special |",
             "|---|---|---|---|"]
    lines += [f"| `{name}` | {fmt} | {counts[name]} | {note} |" for name, fmt, note in rows]
    return "\n".join(lines) + "\n"


def generate(out_dir: str | Path = SAMPLES_DIR) -> dict[str, int]:
    """Write every sample file into `out_dir`; returns the record count of each data file."""
    rng = random.Random(SEED)
    eval_set = build_eval_set(rng)
    alpaca, injections = build_alpaca(rng, eval_set)
    files: dict[str, tuple[str, int]] = {
        "instructions.alpaca.json": (json.dumps(alpaca, ensure_ascii=False, indent=2) + "\n",
                                     len(alpaca)),
        "injections.json": (json.dumps(injections, indent=2) + "\n", len(injections)),
        "eval_set.jsonl": (_jsonl(eval_set), len(eval_set)),
    }
    for name, rows in [("chats.sharegpt.jsonl", build_chats(rng)),
                       ("oasst_trees.jsonl", build_oasst(rng)), ("hh.jsonl", build_hh(rng))]:
        files[name] = (_jsonl(rows), len(rows))
    model_a, model_b, truth = build_model_outputs(rng)
    for name, rows in [("model_a.jsonl", model_a), ("model_b.jsonl", model_b),
                       ("ab_truth.jsonl", truth), ("prefs_seed.jsonl", build_prefs(rng)),
                       ("web_docs.jsonl", build_web_docs(rng))]:
        files[name] = (_jsonl(rows), len(rows))
    counts = {name: n for name, (_, n) in files.items()}
    files["README.md"] = (_readme(counts, injections), 0)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, (text, _) in files.items():
        (out / name).write_text(text, encoding="utf-8", newline="\n")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(SAMPLES_DIR), help="output directory")
    args = parser.parse_args(argv)
    for name, n in generate(args.out).items():
        print(f"{name}: {n} records")


if __name__ == "__main__":
    main()
