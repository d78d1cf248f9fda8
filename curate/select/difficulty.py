"""The difficulty stage: compute the chosen signals and combine them into one score."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.select.fields import Fields
from curate.select.options import SelectOptions
from curate.select.progress import Track, no_progress
from curate.select.signals import combine, count_tokens


@dataclass
class Difficulty:
    """Raw values per signal, the combined score (higher is harder), and who was solved."""

    values: dict[str, np.ndarray]
    score: np.ndarray
    solved: np.ndarray
    model_answers: list[list[str | None]] | None = None


def measure_difficulty(fields: Fields, options: SelectOptions,
                       track: Track = no_progress) -> Difficulty:
    """Every signal of `options.difficulty` over the records of `fields`."""
    size = len(fields.prompts)
    numbers = fields.number_arrays()
    values: dict[str, np.ndarray] = {}
    solved = np.zeros(size, dtype=bool)
    model_answers = None
    for signal in options.signals:
        if signal.kind in ("column", "labels"):
            values[signal.spec] = numbers.get(signal.spec, np.zeros(0))
            if signal.kind == "labels":
                solved |= np.asarray(fields.solved.get(signal.spec, []), dtype=bool)
        elif signal.kind == "length":
            texts = fields.length_texts.get(signal.spec, []) if signal.field else fields.answers
            values[signal.spec] = count_tokens(texts, options.tokenizer).astype(float)
        elif signal.kind == "model-loss":
            from curate.select.model_loss import solution_losses

            values[signal.spec] = solution_losses(
                fields.prompts, fields.answers, model=options.model, batch_size=options.batch_size,
                max_length=options.max_length, advance=track("model-loss", size))
        else:
            from curate.select.model_solve import solve

            result = solve(
                fields.prompts, fields.references, model=options.model, attempts=options.attempts,
                temperature=options.temperature, max_new_tokens=options.max_new_tokens,
                batch_size=options.batch_size, template=options.solve_template,
                seed=options.seed, advance=track("model-solve", size))
            values[signal.spec] = np.asarray(result.pass_rates())
            solved |= np.asarray(result.solved(), dtype=bool)
            model_answers = result.answers
    return Difficulty(values=values, score=combine(options.signals, values, size), solved=solved,
                      model_answers=model_answers)
