"""`SelectOptions`: every setting of `curate select`, as flags, a YAML file or a recipe step."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from curate.select.sampling import DomainDraw
from curate.select.seed_set import parse_rule
from curate.select.signals import Signal, parse_signal

DEFAULT_SOLVE_TEMPLATE = (
    "{prompt}\n\nPlease reason step by step, and put your final answer within \\boxed{}.")


class SelectOptions(BaseModel):
    """Options of the three stages (quality, difficulty, diversity) and the sampling loop."""

    model_config = ConfigDict(extra="forbid")

    k: int = Field(ge=1, description="How many records to select.")
    seed: int = Field(0, description="Seed of the sampling loop, the clustering and the baseline.")

    # Which text is the question, the solution, the reference final answer.
    prompt_field: str | None = Field(
        None, description="Column of the question (default: the prompt view).")
    answer_field: str | None = Field(
        None, description="Column of the solution (default: the response view).")
    reference_field: str | None = Field(
        None, description="Column of the reference final answer (default: extracted).")

    # Quality stage.
    quality: bool = True
    quality_preset: str = Field("reasoning", description="Filter preset name or YAML file.")
    workers: int = Field(1, ge=1, description="Processes running the quality filter.")

    # Difficulty stage.
    difficulty: list[str] = Field(default_factory=lambda: ["length"],
                                  description="Difficulty signals; empty switches the stage off.")
    drop_solved: bool = Field(False, description="Drop questions a model solved (s1).")
    tokenizer: str | None = Field(None, description="Tokenizer for `length` (default: words).")
    model: str | None = Field(None, description="Causal LM for model-loss / model-solve.")
    attempts: int = Field(4, ge=1, description="Generations per question for model-solve.")
    temperature: float = Field(0.7, ge=0.0, description="Sampling temperature (0 = greedy).")
    max_new_tokens: int = Field(1024, ge=1)
    max_length: int = Field(2048, ge=8, description="Tokens of question + solution (model-loss).")
    batch_size: int = Field(8, ge=1)
    solve_template: str = Field(
        DEFAULT_SOLVE_TEMPLATE, description="User turn of model-solve; {prompt} is the question.")

    # Diversity stage.
    diversity: bool = True
    domain_field: str | None = Field(None, description="Column holding each record's domain.")
    clusters: int | None = Field(None, ge=2, description="k-means clusters (default: automatic).")
    embed_model: str | None = Field(None, description="sentence-transformers model for clustering.")
    domain_weights: str = Field("uniform", description="uniform, proportional or a YAML/JSON file.")
    domain_draw: DomainDraw = Field("stratified", description="stratified (balanced) or iid (s1).")
    seed_set: list[str] = Field(default_factory=list,
                                description="Rules (FIELD=VALUE, FIELD~REGEX) always selected.")

    report: bool = Field(True, description="Write OUT.select_report.html and .md.")

    @field_validator("difficulty", mode="before")
    @classmethod
    def _none_means_off(cls, value: object) -> object:
        if value in ("none", ["none"], None):
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("difficulty")
    @classmethod
    def _check_signals(cls, value: list[str]) -> list[str]:
        for spec in value:
            parse_signal(spec)
        return value

    @field_validator("seed_set")
    @classmethod
    def _check_rules(cls, value: list[str]) -> list[str]:
        for rule in value:
            parse_rule(rule)
        return value

    @field_validator("quality_preset")
    @classmethod
    def _check_preset(cls, value: str) -> str:
        from curate.presets import preset_path

        preset_path(value)  # an unknown name fails here, before any record is read
        return value

    @field_validator("domain_weights")
    @classmethod
    def _check_weights(cls, value: str) -> str:
        if value not in ("uniform", "proportional") and not Path(value).is_file():
            raise ValueError(f"expected uniform, proportional or a YAML/JSON file, got {value!r}")
        return value

    @model_validator(mode="after")
    def _check_combinations(self) -> SelectOptions:
        kinds = {signal.kind for signal in self.signals}
        if kinds & {"model-loss", "model-solve"} and not self.model:
            raise ValueError("model: the model-loss and model-solve signals need --model "
                             "PATH_OR_ID")
        if self.drop_solved and not kinds & {"model-solve", "labels"}:
            raise ValueError("drop_solved: needs a model-solve or labels:COLUMN difficulty signal")
        if "model-solve" in kinds and self.temperature == 0 and self.attempts > 1:
            raise ValueError("attempts: greedy decoding (temperature 0) gives one answer; "
                             "use attempts: 1 or a temperature above 0")
        if self.domain_field and (self.embed_model or self.clusters):
            raise ValueError("domain_field: give either a domain column or clustering options, "
                             "not both")
        if not self.diversity and (self.domain_field or self.embed_model or self.clusters
                                   or self.domain_weights != "uniform"):
            raise ValueError("diversity: domain options given while the diversity stage is off")
        return self

    @property
    def signals(self) -> list[Signal]:
        return [parse_signal(spec) for spec in self.difficulty]
