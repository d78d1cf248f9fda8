"""One pass over a batch of texts: exact keys, word counts and MinHash signatures.

`sketch` is a pure function of a list of texts, so it runs unchanged in a local process
pool (`curate.dedup.workers`) or as a Ray Data ``map_batches`` function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.dedup.exact import text_keys
from curate.dedup.minhash import signatures
from curate.dedup.normalise import units_and_scripts
from curate.dedup.shingles import shingle_hashes, shingle_lengths, word_hashes
from curate.text.units import CHAR_NGRAM, Mode


@dataclass(frozen=True)
class SketchSpec:
    """What to compute; `num_perm=0` skips signatures (exact dedup only).

    `shingle` chooses the units (`curate.text.units`: `auto` splits scripts without spaces
    into characters); `ngram` is the shingle length in words and `char_ngram` in characters,
    for texts written without spaces (all texts with `shingle="char"`)."""

    ngram: int = 5
    num_perm: int = 128
    seed: int = 1
    fold_digits: bool = False
    shingle: Mode = "auto"
    char_ngram: int = CHAR_NGRAM
    fold_case: bool = True

    def matching(self) -> dict[str, object]:
        """The keyword arguments of `ShingleSets.add` that shingle texts as this spec does."""
        return {"ngram": self.ngram, "fold_digits": self.fold_digits, "shingle": self.shingle,
                "char_ngram": self.char_ngram, "fold_case": self.fold_case}


@dataclass
class Sketches:
    keys: np.ndarray  # (n, 2) uint64: 128-bit hash of the normalised text
    words: np.ndarray  # (n,) int64: normalised units (words, CJK characters) per text (0 = empty)
    signatures: np.ndarray  # (n, num_perm) uint32


def sketch(texts: list[str], spec: SketchSpec) -> Sketches:
    """Exact keys, word counts and MinHash signatures of a batch of texts."""
    words, unspaced = units_and_scripts(texts, fold_digits=spec.fold_digits, shingle=spec.shingle,
                                        fold_case=spec.fold_case)
    hashes, counts = word_hashes(words)
    if spec.num_perm:
        lengths = shingle_lengths(counts, unspaced, shingle=spec.shingle, ngram=spec.ngram,
                                  char_ngram=spec.char_ngram)
        shingles, per_doc = shingle_hashes(hashes, counts, lengths)
        matrix = signatures(shingles, per_doc, spec.num_perm, spec.seed)
    else:
        matrix = np.zeros((len(texts), 0), np.uint32)
    return Sketches(text_keys(words), counts, matrix)


def minhash_signatures(texts: list[str], *, num_perm: int = 128, ngram: int = 5, seed: int = 1,
                       fold_digits: bool = False) -> np.ndarray:
    """``(len(texts), num_perm)`` uint32 MinHash signatures of word ``ngram`` shingles."""
    spec = SketchSpec(ngram=ngram, num_perm=num_perm, seed=seed, fold_digits=fold_digits)
    return sketch(texts, spec).signatures
