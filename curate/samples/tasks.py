"""Task builders: templated instructions with computed, correct answers.

Each builder takes the generator's `random.Random` and returns a `Task` whose `output` is
correct and whose `wrong` is the same answer, in the same style, with one clear mistake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction
from math import gcd

from curate.samples import tables as t


@dataclass(frozen=True)
class Task:
    kind: str
    instruction: str
    output: str
    input: str = ""
    wrong: str | None = None
    short: str = ""  # the bare answer ("68", "Paris"), for padded or chat renderings

    @property
    def key(self) -> tuple[str, str]:
        return (self.instruction, self.input)


def fmt(value: Fraction | float, places: int = 2) -> tuple[str, bool]:
    """`(text, exact)`: a number with at most `places` decimals, and whether it is exact."""
    exact_value = Fraction(value)
    rounded = round(exact_value, places)
    text = f"{float(rounded):.{places}f}".rstrip("0").rstrip(".")
    return text, rounded == exact_value


def _near_miss(rng: random.Random, n: int) -> int:
    """A wrong value close to `n` (never equal, never negative)."""
    delta = rng.choice([-10, -2, -1, 1, 2, 10])
    return n + delta if n + delta >= 0 and delta != 0 else n + abs(delta)


# --- arithmetic -------------------------------------------------------------------------

def arithmetic(rng: random.Random) -> Task:
    op = rng.choice(["+", "+", "-", "-", "×", "×", "÷", "%"])
    if op == "+":
        a, b = rng.randint(12, 999), rng.randint(12, 999)
        c = a + b
        instruction = rng.choice(["What is {a} + {b}?", "Add {a} and {b}.",
                                  "Calculate the sum of {a} and {b}.", "What is {a} plus {b}?"])
        answer = rng.choice(["{a} + {b} = {c}.", "The sum of {a} and {b} is {c}.", "{c}"])
    elif op == "-":
        a, b = rng.randint(50, 999), rng.randint(11, 499)
        a, b = max(a, b), min(a, b)
        c = a - b
        instruction = rng.choice(["What is {a} - {b}?", "Subtract {b} from {a}.",
                                  "Calculate {a} minus {b}."])
        answer = rng.choice(["{a} - {b} = {c}.", "{a} minus {b} is {c}.", "{c}"])
    elif op == "×":
        a, b = rng.randint(3, 99), rng.randint(3, 25)
        c = a * b
        instruction = rng.choice(["What is {a} × {b}?", "Multiply {a} by {b}.",
                                  "What is {a} times {b}?", "Calculate the product of {a} and {b}."])
        answer = rng.choice(["{a} × {b} = {c}.", "The product of {a} and {b} is {c}.", "{c}"])
    elif op == "÷":
        b, c = rng.randint(2, 25), rng.randint(3, 60)
        a = b * c
        instruction = rng.choice(["What is {a} ÷ {b}?", "Divide {a} by {b}.",
                                  "What is {a} divided by {b}?"])
        answer = rng.choice(["{a} ÷ {b} = {c}.", "{a} divided by {b} is {c}.", "{c}"])
    else:
        a = rng.choice([5, 10, 15, 20, 25, 30, 40, 50, 75])
        b = 20 * rng.randint(2, 40)
        c = a * b // 100
        instruction = rng.choice(["What is {a}% of {b}?", "Calculate {a} percent of {b}."])
        answer = rng.choice(["{a}% of {b} is {c}.", "{c}"])
    wrong = _near_miss(rng, c)
    given = ""
    if op != "%" and rng.random() < 0.3:
        instruction = rng.choice(["Calculate the following.", "Evaluate this expression."])
        given = f"{{a}} {op} {{b}}"
    return Task("arithmetic", instruction.format(a=a, b=b), answer.format(a=a, b=b, c=c),
                given.format(a=a, b=b), wrong=answer.format(a=a, b=b, c=wrong), short=str(c))


def _is_prime(n: int) -> bool:
    return n >= 2 and all(n % d for d in range(2, int(n ** 0.5) + 1))


def _roman(n: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = []
    for value, letters in numerals:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def number_words(n: int) -> str:
    """0 <= n < 1,000,000 in words, American style ("four hundred twenty-seven")."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    return f"{number_words(thousands)} thousand" + (f" {number_words(rest)}" if rest else "")


def _leap(year: int) -> tuple[bool, str]:
    if year % 400 == 0:
        return True, f"{year} is divisible by 400, so it is a leap year"
    if year % 100 == 0:
        return False, f"{year} is divisible by 100 but not by 400, so it is not a leap year"
    if year % 4 == 0:
        return True, f"{year} is divisible by 4 and not by 100, so it is a leap year"
    return False, f"{year} is not divisible by 4, so it is not a leap year"


def number_fact(rng: random.Random) -> Task:
    kind = rng.choice(["square", "root", "prime", "prime", "parity", "gcd", "lcm", "roman",
                       "words", "leap", "binary"])
    if kind == "square":
        n = rng.randint(11, 45)
        out = "The square of {n} is {v}."
        return Task("number", rng.choice([f"What is the square of {n}?", f"What is {n} squared?"]),
                    out.format(n=n, v=n * n), wrong=out.format(n=n, v=n * n + n), short=str(n * n))
    if kind == "root":
        n = rng.randint(11, 32)
        out = "The square root of {s} is {v}."
        return Task("number", f"What is the square root of {n * n}?", out.format(s=n * n, v=n),
                    wrong=out.format(s=n * n, v=n + 1), short=str(n))
    if kind == "prime":
        n = rng.randint(20, 220)
        yes = f"Yes, {n} is a prime number: its only divisors are 1 and {n}."
        if _is_prime(n):
            d = next(x for x in (3, 7, 11, 13) if n % x)
            no = f"No, {n} is not a prime number: it is divisible by {d}."
            return Task("number", f"Is {n} a prime number?", yes, wrong=no, short="Yes")
        p = next(d for d in range(2, n) if n % d == 0)
        no = f"No, {n} is not a prime number: {n} = {p} × {n // p}."
        return Task("number", f"Is {n} a prime number?", no, wrong=yes, short="No")
    if kind == "parity":
        n = rng.randint(100, 9999)
        right, other = ("even", "odd") if n % 2 == 0 else ("odd", "even")
        return Task("number", f"Is {n} even or odd?", f"{n} is {right}.",
                    wrong=f"{n} is {other}.", short=right)
    if kind in ("gcd", "lcm"):
        g = rng.randint(2, 12)
        x, y = rng.sample([p for p in range(2, 13)], 2)
        while gcd(x, y) != 1:
            x, y = rng.sample([p for p in range(2, 13)], 2)
        a, b = g * x, g * y
        if kind == "gcd":
            out = "The greatest common divisor of {a} and {b} is {v}."
            return Task("number", f"Find the greatest common divisor of {a} and {b}.",
                        out.format(a=a, b=b, v=g), wrong=out.format(a=a, b=b, v=g * 2),
                        short=str(g))
        lcm = a * b // g
        out = "The least common multiple of {a} and {b} is {v}."
        return Task("number", f"What is the least common multiple of {a} and {b}?",
                    out.format(a=a, b=b, v=lcm), wrong=out.format(a=a, b=b, v=a * b if a * b != lcm
                                                                    else lcm * 2),
                    short=str(lcm))
    if kind == "roman":
        n = rng.randint(14, 2030)
        out = "{n} in Roman numerals is {v}."
        return Task("number", rng.choice([f"Write {n} in Roman numerals.",
                                          f"Convert {n} to Roman numerals."]),
                    out.format(n=n, v=_roman(n)), wrong=out.format(n=n, v=_roman(n + 1)),
                    short=_roman(n))
    if kind == "words":
        n = rng.randint(21, 99999)
        out = "{v}"
        return Task("number", f"Write the number {n:,} in words.",
                    out.format(v=number_words(n).capitalize() + "."),
                    wrong=out.format(v=number_words(n + 10).capitalize() + "."),
                    short=number_words(n))
    if kind == "leap":
        year = rng.choice([1900, 2000, 2100, 1996, 2024, 2023, 2019, 1800, 2400, 2032, 1986])
        is_leap, why = _leap(year)
        return Task("number", f"Is {year} a leap year?",
                    f"{'Yes' if is_leap else 'No'}. {why[0].upper()}{why[1:]}.",
                    wrong=f"{'No' if is_leap else 'Yes'}. {year} {'is not' if is_leap else 'is'} "
                          "a leap year.",
                    short="Yes" if is_leap else "No")
    n = rng.randint(5, 255)
    out = "{n} in binary is {v}."
    flipped = n ^ (1 << rng.randint(0, max(0, n.bit_length() - 2)))
    return Task("number", rng.choice([f"Convert {n} to binary.", f"What is {n} in binary?"]),
                out.format(n=n, v=format(n, "b")), wrong=out.format(n=n, v=format(flipped, "b")),
                short=format(n, "b"))


def _number_list(rng: random.Random, k: int, low: int = 1, high: int = 99) -> list[int]:
    return rng.sample(range(low, high + 1), k)


def list_math(rng: random.Random) -> Task:
    kind = rng.choice(["sum", "average", "largest", "smallest", "sort", "sort_desc"])
    numbers = _number_list(rng, rng.randint(4, 7))
    given = ", ".join(map(str, numbers))
    if kind == "sum":
        s = sum(numbers)
        out = "The sum is {v}."
        return Task("list", rng.choice(["Find the sum of these numbers.",
                                        "Add up the following numbers."]), out.format(v=s),
                    given, wrong=out.format(v=_near_miss(rng, s)), short=str(s))
    if kind == "average":
        numbers[-1] += (-sum(numbers)) % len(numbers)
        given = ", ".join(map(str, numbers))
        mean = sum(numbers) // len(numbers)
        out = "The average is {v}."
        return Task("list", rng.choice(["Compute the average of the following numbers.",
                                        "What is the mean of these numbers?"]),
                    out.format(v=mean), given, wrong=out.format(v=mean + 1), short=str(mean))
    if kind in ("largest", "smallest"):
        ordered = sorted(numbers, reverse=kind == "largest")
        out = "The {k} number is {v}."
        return Task("list", f"Which is the {kind} number in this list?",
                    out.format(k=kind, v=ordered[0]), given,
                    wrong=out.format(k=kind, v=ordered[1]), short=str(ordered[0]))
    ordered = sorted(numbers, reverse=kind == "sort_desc")
    wrong = list(ordered)
    i = rng.randrange(len(wrong) - 1)
    wrong[i], wrong[i + 1] = wrong[i + 1], wrong[i]
    direction = "descending" if kind == "sort_desc" else "ascending"
    instruction = rng.choice([f"Sort the following numbers in {direction} order.",
                              f"Arrange these numbers in {direction} order."])
    return Task("list", instruction, ", ".join(map(str, ordered)), given,
                wrong=", ".join(map(str, wrong)), short=", ".join(map(str, ordered)))


# --- units ------------------------------------------------------------------------------

# (from unit, to unit, exact factor as a Fraction, wrong factor, range of values)
_UNITS = [
    ("kilometres", "miles", Fraction(1000, 1609344) * 1000, Fraction(1609344, 1000000),
     (2, 120)),
    ("miles", "kilometres", Fraction(1609344, 1000000), Fraction(621371, 1000000), (2, 60)),
    ("kilograms", "pounds", 1 / Fraction(45359237, 100000000), Fraction(45359237, 100000000),
     (2, 90)),
    ("pounds", "kilograms", Fraction(45359237, 100000000), Fraction(22046, 10000), (2, 200)),
    ("inches", "centimetres", Fraction(254, 100), Fraction(2), (2, 48)),
    ("feet", "metres", Fraction(3048, 10000), Fraction(3), (2, 30)),
    ("hours", "minutes", Fraction(60), Fraction(100), (2, 24)),
    ("minutes", "seconds", Fraction(60), Fraction(100), (2, 90)),
    ("days", "hours", Fraction(24), Fraction(12), (2, 30)),
    ("weeks", "days", Fraction(7), Fraction(5), (2, 52)),
    ("litres", "millilitres", Fraction(1000), Fraction(100), (2, 20)),
    ("metres", "centimetres", Fraction(100), Fraction(10), (2, 50)),
    ("kilograms", "grams", Fraction(1000), Fraction(100), (2, 40)),
    ("grams", "kilograms", Fraction(1, 1000), Fraction(1, 100), (1500, 9500)),
    ("US gallons", "litres", Fraction(3785411784, 1000000000), Fraction(4546, 1000), (2, 25)),
]


def conversion(rng: random.Random) -> Task:
    if rng.random() < 0.25:
        return _temperature(rng)
    src, dst, factor, wrong_factor, (low, high) = rng.choice(_UNITS)
    x = rng.randint(low, high)
    if src == "grams":
        x = x // 10 * 10
    right, exact = fmt(x * factor)
    wrong, wrong_exact = fmt(x * wrong_factor)
    out = "{x} {src} is {about}{v} {dst}."
    instruction = rng.choice([f"Convert {x} {src} to {dst}.", f"How many {dst} are in {x} {src}?",
                              f"What is {x} {src} in {dst}?"])
    given = ""
    if rng.random() < 0.3:
        instruction, given = f"Convert the measurement to {dst}.", f"{x} {src}"
    return Task("conversion", instruction,
                out.format(x=x, src=src, dst=dst, v=right, about="" if exact else "about "),
                given, wrong=out.format(x=x, src=src, dst=dst, v=wrong,
                                        about="" if wrong_exact else "about "),
                short=f"{right} {dst}")


def _temperature(rng: random.Random) -> Task:
    if rng.random() < 0.5:
        c = rng.choice(range(-20, 45, 5))
        f = c * 9 // 5 + 32
        out = "{c}°C is {f}°F."
        return Task("conversion", rng.choice([f"Convert {c}°C to Fahrenheit.",
                                              f"What is {c} degrees Celsius in Fahrenheit?"]),
                    out.format(c=c, f=f), wrong=out.format(c=c, f=c + 32), short=f"{f}°F")
    k = rng.randint(-4, 12)
    f, c = 32 + 9 * k, 5 * k
    out = "{f}°F is {c}°C."
    return Task("conversion", rng.choice([f"Convert {f}°F to Celsius.",
                                          f"What is {f} degrees Fahrenheit in Celsius?"]),
                out.format(f=f, c=c), wrong=out.format(f=f, c=f - 32), short=f"{c}°C")


# --- words and facts --------------------------------------------------------------------

def capital(rng: random.Random, row: tuple[str, str, str, str] | None = None) -> Task:
    country, city, _, wrong = row or rng.choice(t.CAPITALS)
    instruction = rng.choice([f"What is the capital of {country}?",
                              f"Name the capital city of {country}.",
                              f"Which city is the capital of {country}?"])
    out = rng.choice(["The capital of {c} is {v}.", "{v} is the capital of {c}.", "{v}"])
    return Task("capital", instruction, out.format(c=country, v=city),
                wrong=out.format(c=country, v=wrong), short=city)


def continent(rng: random.Random) -> Task:
    country, _, where, _ = rng.choice(t.ONE_CONTINENT)
    others = sorted({row[2] for row in t.CAPITALS} - {where})
    name = country[0].upper() + country[1:]
    return Task("continent", f"Which continent is {country} in?", f"{name} is in {where}.",
                wrong=f"{name} is in {rng.choice(others)}.", short=where)


def antonym(rng: random.Random, row: tuple[str, str, str] | None = None) -> Task:
    word, opposite, near = row or rng.choice(t.ANTONYMS)
    if rng.random() < 0.3:
        return Task("antonym", "Give the antonym of the following word.", opposite, word,
                    wrong=near, short=opposite)
    instruction = rng.choice([f"What is the opposite of '{word}'?",
                              f"Give an antonym for '{word}'.",
                              f"What word means the opposite of '{word}'?"])
    out = "The opposite of '{w}' is '{v}'."
    return Task("antonym", instruction, out.format(w=word, v=opposite),
                wrong=out.format(w=word, v=near), short=opposite)


def synonym(rng: random.Random) -> Task:
    word, same = rng.choice(t.SYNONYMS)
    out = "A synonym for '{w}' is '{v}'."
    opposite = next((a for w, a, _ in t.ANTONYMS if w == word), "unrelated")
    return Task("synonym", rng.choice([f"Give a synonym for '{word}'.",
                                       f"What is another word for '{word}'?"]),
                out.format(w=word, v=same), wrong=out.format(w=word, v=opposite), short=same)


def definition(rng: random.Random) -> Task:
    word, meaning = rng.choice(t.DEFINITIONS)
    instruction = rng.choice([f"Define the word '{word}'.", f"What does '{word}' mean?",
                              f"Give a short definition of '{word}'."])
    out = rng.choice([f"'{word.capitalize()}' means {meaning}.",
                      f"{word.capitalize()}: {meaning}."])
    return Task("definition", instruction, out, short=meaning)


def element(rng: random.Random, row: tuple[str, str, int, str] | None = None) -> Task:
    name, symbol, number, wrong = row or rng.choice(t.ELEMENTS)
    if rng.random() < 0.3:
        out = "The atomic number of {n} is {v}."
        return Task("element", f"What is the atomic number of {name}?",
                    out.format(n=name, v=number), wrong=out.format(n=name, v=number + 1),
                    short=str(number))
    out = "The chemical symbol for {n} is {v}."
    return Task("element", rng.choice([f"What is the chemical symbol for {name}?",
                                       f"Which symbol stands for {name} in the periodic table?"]),
                out.format(n=name, v=symbol), wrong=out.format(n=name, v=wrong), short=symbol)


def past_tense(rng: random.Random, row: tuple[str, str, str] | None = None) -> Task:
    verb, past, wrong = row or rng.choice(t.PAST_TENSES)
    out = "The past tense of '{w}' is '{v}'."
    return Task("grammar", rng.choice([f"What is the past tense of '{verb}'?",
                                       f"Give the simple past form of the verb '{verb}'."]),
                out.format(w=verb, v=past), wrong=out.format(w=verb, v=wrong), short=past)


def plural(rng: random.Random, row: tuple[str, str, str] | None = None) -> Task:
    word, many, wrong = row or rng.choice(t.PLURALS)
    out = "The plural of '{w}' is '{v}'."
    return Task("grammar", rng.choice([f"What is the plural of '{word}'?",
                                       f"Write the plural form of '{word}'."]),
                out.format(w=word, v=many), wrong=out.format(w=word, v=wrong), short=many)


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def animal(rng: random.Random) -> Task:
    name, cls, wrong = rng.choice(t.ANIMALS)
    subject = _a(name)
    subject = subject[0].upper() + subject[1:]
    return Task("classify", f"Is {_a(name)} a mammal, bird, reptile, amphibian or fish?",
                f"{subject} is {_a(cls)}.", wrong=f"{subject} is {_a(wrong)}.", short=cls)


def fact(rng: random.Random, row: tuple[str, str, str] | None = None) -> Task:
    question, right, wrong = row or rng.choice(t.FACTS)
    return Task("fact", question, right, wrong=wrong, short=right)


# --- text manipulation (with an input) --------------------------------------------------

def text_task(rng: random.Random) -> Task:
    kind = rng.choice(["reverse", "reverse_words", "vowels", "word_count", "upper", "title",
                       "palindrome", "letters", "join", "dedupe", "extract", "alphabetise"])
    if kind == "reverse":
        text = rng.choice(t.WORDS + t.FRUITS + t.ANIMAL_WORDS)
        return Task("string", rng.choice(["Reverse the following string.",
                                          "Write this word backwards."]), text[::-1], text,
                    wrong=_swap_two(rng, text[::-1]), short=text[::-1])
    if kind == "reverse_words":
        text = rng.choice(t.SENTENCES)
        return Task("string", "Reverse the order of the words in this sentence.",
                    " ".join(text.split()[::-1]), text, short=" ".join(text.split()[::-1]))
    if kind == "vowels":
        word = rng.choice([w for w in t.WORDS + t.ANIMAL_WORDS if "y" not in w])
        n = sum(ch in "aeiou" for ch in word)
        out = "The word '{w}' has {v} vowels." if n != 1 else "The word '{w}' has {v} vowel."
        return Task("string", f"How many vowels are in the word '{word}'?", out.format(w=word, v=n),
                    wrong=out.format(w=word, v=n + 1), short=str(n))
    if kind == "word_count":
        text = rng.choice(t.SENTENCES) + "."
        n = len(text.split())
        out = "The sentence has {v} words."
        return Task("string", "Count the words in this sentence.", out.format(v=n), text,
                    wrong=out.format(v=n - 1), short=str(n))
    if kind == "upper":
        text = rng.choice(t.SENTENCES)
        return Task("string", "Convert the following text to uppercase.", text.upper(), text,
                    short=text.upper())
    if kind == "title":
        text = rng.choice(t.SENTENCES).lower()
        return Task("string", "Capitalise the first letter of every word.", text.title(), text,
                    short=text.title())
    if kind == "palindrome":
        word = rng.choice(t.WORDS)
        if word == word[::-1]:
            out = f"Yes. '{word}' reads the same forwards and backwards."
        else:
            out = f"No. '{word}' reversed is '{word[::-1]}', which is different."
        return Task("string", f"Is '{word}' a palindrome?", out, short=out.split(".")[0])
    if kind == "letters":
        word = rng.choice(t.WORDS + t.FRUITS)
        out = "The word '{w}' has {v} letters."
        return Task("string", f"How many letters are in the word '{word}'?",
                    out.format(w=word, v=len(word)), wrong=out.format(w=word, v=len(word) + 1),
                    short=str(len(word)))
    if kind == "join":
        items = rng.sample(t.COLOURS, rng.randint(3, 6))
        return Task("format", "Turn this list into a single comma-separated line.",
                    ", ".join(items), "\n".join(items), short=", ".join(items))
    if kind == "dedupe":
        items = rng.sample(t.FRUITS, 4)
        noisy = items + rng.sample(items, 2)
        rng.shuffle(noisy)
        unique = list(dict.fromkeys(noisy))
        return Task("format", "Remove the duplicate words from this list, keeping the first "
                    "occurrence of each.", ", ".join(unique), ", ".join(noisy),
                    short=", ".join(unique))
    if kind == "extract":
        a, b, c = rng.randint(2, 9), rng.randint(10, 30), rng.randint(3, 20)
        fruit, other = rng.sample(t.FRUITS, 2)
        text = f"I bought {a} {fruit}s and {b} {other}s for {c} dollars."
        return Task("format", "Extract all the numbers from the text.", f"{a}, {b}, {c}", text,
                    short=f"{a}, {b}, {c}")
    pool = rng.choice([t.FRUITS, t.ANIMAL_WORDS, t.COLOURS])
    items = rng.sample(pool, rng.randint(4, 6))
    ordered = sorted(items)
    wrong = list(ordered)
    wrong[0], wrong[-1] = wrong[-1], wrong[0]
    return Task("list", rng.choice(["Arrange these words in alphabetical order.",
                                    "Sort the following words alphabetically."]),
                ", ".join(ordered), ", ".join(items), wrong=", ".join(wrong),
                short=", ".join(ordered))


def _swap_two(rng: random.Random, text: str) -> str:
    for _ in range(20):
        i = rng.randrange(len(text) - 1)
        if text[i] != text[i + 1]:
            return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text + text[-1]


def language_task(rng: random.Random) -> Task:
    kind = rng.choice(["sentiment", "grammar", "passive", "formal", "summary"])
    if kind == "sentiment":
        text, label = rng.choice(t.SENTIMENT)
        return Task("classify", rng.choice([
            "Classify the sentiment of this text as Positive, Negative or Neutral.",
            "Is the sentiment of the following sentence positive, negative or neutral?"]),
            label, text, short=label)
    if kind == "grammar":
        bad, good = rng.choice(t.GRAMMAR)
        return Task("rewrite", rng.choice(["Correct the grammar in this sentence.",
                                           "Fix the grammatical errors in the sentence below."]),
                    good, bad, wrong=bad, short=good)
    if kind == "passive":
        passive, active = rng.choice(t.PASSIVE)
        return Task("rewrite", "Rewrite the sentence in the active voice.", active, passive,
                    wrong=passive, short=active)
    if kind == "formal":
        casual, formal = rng.choice(t.FORMAL)
        return Task("rewrite", rng.choice(["Rewrite this message in a formal tone.",
                                           "Make the following sentence more formal."]),
                    formal, casual, short=formal)
    paragraph, summary = rng.choice(t.SUMMARIES)
    return Task("summarise", rng.choice(["Summarise the paragraph in one sentence.",
                                         "Write a one-sentence summary of this text."]),
                summary, paragraph, short=summary)


# --- longer hand-written answers --------------------------------------------------------

def howto(row: tuple[str, str]) -> Task:
    return Task("howto", row[0], row[1], short=row[1].split(". ")[0] + ".")


def concept(row: tuple[str, str]) -> Task:
    return Task("explain", row[0], row[1], short=row[1].split(". ")[0] + ".")


def code(row: tuple[str, str]) -> Task:
    return Task("code", row[0], row[1], short=row[1])
