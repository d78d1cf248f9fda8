"""Dedup building blocks: normalisation, shingles, signatures, banding, verification, union-find."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from curate.dedup import band_keys, derive_bands, minhash_signatures, normalise
from curate.dedup.lsh import UnionFind, buckets, candidate_probability
from curate.dedup.shingling import shingle_hashes, word_hashes, word_lists
from curate.dedup.verify import ShingleSets, jaccard, sorted_sets


def python_shingles(text: str, n: int = 5, fold_digits: bool = False) -> set[str]:
    """The documented rule, written out: n-grams of the normalised words."""
    words = normalise(text, fold_digits=fold_digits).split()
    if len(words) < n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}


def test_normalisation_lowercases_drops_punctuation_and_collapses_whitespace():
    assert normalise("  Hello,   WORLD!!\n\tIt's  me...") == "hello world it s me"
    assert normalise("snake_case-and/slash") == "snake case and slash"
    assert normalise("Ünïcode — DASH «quotes» naïve café") == "ünïcode dash quotes naïve café"
    assert normalise("हिन्दी पाठ") == "हिन्दी पाठ"  # combining vowel signs stay inside words
    assert normalise("?!... ---") == ""


def test_digit_folding_is_optional():
    assert normalise("Call 555-1234 at 9pm") == "call 555 1234 at 9pm"
    assert normalise("Call 555-1234 at 9pm", fold_digits=True) == "call 000 0000 at 0pm"


def shingle_count(text: str, n: int) -> int:
    hashes, counts = word_hashes(word_lists([text]))
    return int(shingle_hashes(hashes, counts, n)[1][0])


def test_shingles_are_word_ngrams_and_a_short_text_is_one_shingle():
    assert shingle_count("one two three four five six seven", 5) == 3
    assert shingle_count("one two three", 5) == 1
    assert shingle_count("one", 5) == 1
    assert shingle_count("...", 5) == 0
    texts = ["a b c d e f", "f e d c b a", "a b c d e f"]
    hashes, counts = word_hashes(word_lists(texts))
    flat, per_doc = shingle_hashes(hashes, counts, 5)
    first, second, third = np.split(flat, np.cumsum(per_doc)[:-1])
    assert set(first) == set(third) and not set(first) & set(second)  # word order matters


def test_exact_jaccard_matches_brute_force_on_a_small_corpus():
    rng = random.Random(3)
    vocabulary = [f"w{i}" for i in range(12)]
    texts = [" ".join(rng.choices(vocabulary, k=rng.randint(1, 30))) for _ in range(40)]
    texts += [texts[0] + " extra words here", "W0, w1! " + texts[1]]
    sets = ShingleSets()
    sets.add(texts[:15], ngram=3, fold_digits=False)  # added in two batches, like verification
    sets.add(texts[15:], ngram=3, fold_digits=False)
    assert sets.sizes.tolist() == [len(python_shingles(t, 3)) for t in texts]
    pairs = list(itertools.combinations(range(len(texts)), 2))
    a, b = np.array(pairs).T
    expected = []
    for i, j in pairs:
        x, y = python_shingles(texts[i], 3), python_shingles(texts[j], 3)
        expected.append(len(x & y) / len(x | y))
    assert np.array_equal(jaccard(sets, a, sets, b), np.array(expected))
    assert 0 < sum(1 for e in expected if 0 < e < 1)  # the corpus has partial overlaps
    other = ShingleSets()  # pairs across two collections (as with --against) agree too
    other.add(texts[::-1], ngram=3, fold_digits=False)
    assert np.array_equal(jaccard(sets, a, other, len(texts) - 1 - b), np.array(expected))


def test_sorted_sets_sorts_and_deduplicates_each_document_separately():
    flat = np.array([9, 3, 9, 1, 3, 3, 2, 7], np.uint64) << np.uint64(16)  # sets keep the top 48 bits
    values, sizes = sorted_sets(flat, np.array([3, 0, 4, 1]))
    assert sizes.tolist() == [2, 0, 3, 1]
    assert values.tolist() == [3, 9, 1, 2, 3, 7]


def test_signatures_are_deterministic_uint32_and_estimate_jaccard():
    rng = random.Random(0)
    base = [f"w{rng.randrange(5000)}" for _ in range(400)]
    edited = list(base)
    for position in rng.sample(range(400), 20):
        edited[position] = "changed"
    texts = [" ".join(base), " ".join(edited)]
    signatures = minhash_signatures(texts, num_perm=256)
    assert signatures.dtype == np.uint32 and signatures.shape == (2, 256)
    assert np.array_equal(signatures, minhash_signatures(texts, num_perm=256))
    assert not np.array_equal(signatures, minhash_signatures(texts, num_perm=256, seed=2))
    x, y = python_shingles(texts[0]), python_shingles(texts[1])
    truth = len(x & y) / len(x | y)
    estimate = float((signatures[0] == signatures[1]).mean())
    assert 0.6 < truth < 0.9 and abs(estimate - truth) < 0.1
    # a batch is a pure function of its texts: sketching them apart gives the same rows
    assert np.array_equal(signatures[1], minhash_signatures(texts[1:], num_perm=256)[0])


def test_derived_bands_reach_the_threshold_and_manual_bands_are_used():
    for threshold in (0.5, 0.7, 0.8, 0.9):
        bands, rows = derive_bands(threshold, 128)
        assert bands * rows <= 128
        assert candidate_probability(threshold, bands, rows) >= 0.999
        assert candidate_probability(threshold, 128 // (rows + 1), rows + 1) < 0.999  # widest rows
    assert derive_bands(0.8, 128, verify=False) == (9, 13)  # datasketch's own optimum
    signatures = minhash_signatures(["a b c d e f g", "a b c d e f g", "x y z w v u t"])
    keys = band_keys(signatures, 16, 8)
    assert keys.shape == (3, 16) and keys.dtype == np.uint32
    assert np.array_equal(keys[0], keys[1]) and not np.any(keys[0] == keys[2])
    found = buckets(keys)
    assert len(found) == 16 and set(found.members.tolist()) == {0, 1}


def test_union_find_roots_are_the_smallest_member_whatever_the_edge_order():
    edges = [(5, 3), (3, 9), (8, 1), (1, 7), (9, 2), (4, 4)]
    results = []
    for order in itertools.permutations(range(len(edges)), len(edges)):
        if len(results) == 20:
            break
        union_find = UnionFind(10)
        a, b = np.array([edges[i] for i in order]).T
        union_find.union(a, b)
        results.append(union_find.roots().tolist())
    assert all(r == results[0] for r in results)
    assert results[0] == [0, 1, 2, 2, 4, 2, 6, 1, 1, 2]


@pytest.mark.parametrize("threshold", [0.0, 1.5])
def test_options_reject_a_threshold_outside_0_1(threshold: float):
    from pydantic import ValidationError

    from curate.dedup import DedupOptions

    with pytest.raises(ValidationError):
        DedupOptions(threshold=threshold)
