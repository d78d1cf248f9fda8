"""The step types a recipe can use. Each runs the same code as its `curate` command, with
the same options model, so a recipe step and a command behave alike."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.convert import ConvertOptions
from curate.decontam import DecontamOptions
from curate.dedup import DedupOptions
from curate.filtering import FilterOptions
from curate.pairs import PairsOptions
from curate.recipes.context import StepType
from curate.scoring import ScoreOptions
from curate.select import SelectOptions


class ReadOptions(BaseModel):
    """Read one or more inputs (files, globs, shard directories, saved/hub datasets)."""

    model_config = ConfigDict(extra="forbid")

    path: list[str] = Field(min_length=1, description="Inputs, in order.")
    split: str = "train"

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class WriteOptions(BaseModel):
    """Save the records to a file or a directory of shards (ending in /); they also pass
    through to the next step."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Output, relative to the run directory.")
    shards: int | None = Field(None, ge=1, description="Exactly this many shards.")
    shard_size: int | None = Field(None, ge=1, description="At most this many rows per shard.")


class PairsStepOptions(PairsOptions):
    """`curate pairs` as a step: the incoming records are model A's outputs joined with
    model B's file `b`; without `b` they are preference pairs, re-labeled blind."""

    b: str | None = Field(None, description="Model B's outputs (else: blind preference pairs).")


def _dedup(*args: Any, **kwargs: Any) -> Any:
    from curate.dedup import dedup_inputs

    return dedup_inputs(*args, **kwargs)


def _select(*args: Any, **kwargs: Any) -> Any:
    from curate.select.run import select_inputs

    return select_inputs(*args, **kwargs)


def _pairs(inputs: list[str], out: Any, options: PairsStepOptions, **kwargs: Any) -> Any:
    from curate.pairs_run import blind_pairs_inputs, pair_outputs_inputs

    plain = PairsOptions(**options.model_dump(exclude={"b"}))
    if options.b is None:
        return blind_pairs_inputs(inputs, out, plain, **kwargs)
    return pair_outputs_inputs(inputs, [options.b], out, plain, **kwargs)


_MODELS = ("tokenizer", "toxicity_model")

STEP_TYPES: dict[str, StepType] = {
    "read": StepType(ReadOptions, "read", inputs=("path",)),
    "convert": StepType(ConvertOptions, "convert"),
    "dedup": StepType(DedupOptions, "global", _dedup, inputs=("against",)),
    "decontam": StepType(DecontamOptions, "record", inputs=("against",)),
    "score": StepType(ScoreOptions, "record", inputs=("against",), paths=_MODELS),
    "filter": StepType(FilterOptions, "record", inputs=("against",),
                       paths=(*_MODELS, "preset")),
    "select": StepType(SelectOptions, "global", _select, paths=(
        "tokenizer", "model", "embed_model", "domain_weights", "quality_preset")),
    "pairs": StepType(PairsStepOptions, "global", _pairs, inputs=("b",)),
    "write": StepType(WriteOptions, "write", cacheable=False),
}
