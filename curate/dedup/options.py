"""Options of `curate dedup`: one pydantic model for flags, `--config` files and recipe steps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate.text.units import CHAR_NGRAM

_FORMATS = (".jsonl", ".jsonl.gz", ".json", ".parquet")


class DedupOptions(BaseModel):
    """Exact and MinHash-LSH near-duplicate removal."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["exact", "minhash", "both"] = Field(
        "both", description="exact: identical normalised text. minhash: verified near-duplicates "
        "(identical texts included). both: as minhash, but identical texts are reported as "
        "exact_duplicate.")
    field: str = Field("auto", min_length=1, description=(
        "Text compared. auto: every turn, and for preference pairs the prompt, the chosen and "
        "the rejected answer, each of which must match (pairs that differ in one are distinct). "
        "Or one text: prompt (user turns), response (assistant turns), chosen, rejected, all, "
        "text, or a column (dotted paths reach inside, e.g. meta.title)."))
    threshold: float = Field(0.8, gt=0, le=1, description="Jaccard similarity of word n-gram "
                             "shingle sets at or above which two records are duplicates.")
    num_perm: int = Field(128, ge=2, le=1024, description="MinHash permutations.")
    ngram: int = Field(5, ge=1, le=64, description="Words per shingle.")
    shingle: Literal["auto", "word", "char"] = Field(
        "auto", description="Shingle units: auto (words; single characters in Chinese, Japanese, "
        "Thai, Lao, Khmer and Myanmar), word (runs of letters in every script) or char (single "
        "characters in every script).")
    char_ngram: int = Field(CHAR_NGRAM, ge=1, le=64, description="Characters per shingle in "
                            "texts written without spaces (every text with shingle=char).")
    fold_case: bool = Field(True, description="Fold case in every script before comparing.")
    bands: int | None = Field(None, ge=1, description="LSH bands (with rows); derived by default.")
    rows: int | None = Field(None, ge=1, description="Signature rows per band (with bands).")
    verify: bool = Field(True, description="Check candidate pairs by exact Jaccard (else by the "
                         "MinHash estimate).")
    keep: str = Field("first", min_length=1, description="Survivor of a cluster: first, longest, "
                      "shortest, or a numeric column (highest value wins). Ties go to the earliest.")
    fold_digits: bool = Field(False, description="Normalise every digit to 0 before comparing.")
    seed: int = Field(1, ge=0, description="Seed of the MinHash permutations.")
    workers: int = Field(1, ge=1, description="Local worker processes (the output is the same "
                         "for any number).")
    clusters: str | None = Field(None, description="Write one line per cluster to this file.")
    against: list[str] = Field(default_factory=list, description=(
        "Reference datasets: records near-duplicating any of their records are removed; the "
        "references themselves are not deduplicated."))

    @field_validator("clusters")
    @classmethod
    def _clusters_format(cls, path: str | None) -> str | None:
        if path is not None and not path.lower().endswith(_FORMATS):
            raise ValueError(f"use one of {', '.join(_FORMATS)}")
        return path

    @model_validator(mode="after")
    def _bands_and_rows(self) -> DedupOptions:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("bands: set bands and rows together (or neither, to derive them)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands: bands x rows = {self.bands * self.rows} exceeds "
                             f"num_perm = {self.num_perm}")
        return self
