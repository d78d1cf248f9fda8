"""The `model-solve` signal: does a model answer the question right in one of N attempts?

Each question is put in `--solve-template` (the user turn of the chat template), the model
samples `--attempts` answers (greedy when the temperature is 0), the final answer of each is
extracted and compared with the reference (`curate.select.answers`). Questions are batched
by length with left padding; generation is seeded, so a rerun gives the same answers on the
same hardware.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from curate.select.answers import answers_match, extract_answer
from curate.select.lm import load_causal_lm, prompt_text


@dataclass
class SolveResult:
    """Per question: how many attempts were right, and the answers extracted from each."""

    correct: list[int]
    answers: list[list[str | None]]
    attempts: int

    def solved(self) -> list[bool]:
        return [count > 0 for count in self.correct]

    def pass_rates(self) -> list[float]:
        return [count / self.attempts for count in self.correct]


def solve(prompts: list[str], references: list[str], *, model: str, attempts: int,
          temperature: float, max_new_tokens: int, batch_size: int, template: str, seed: int,
          advance: Callable[[int], None] = lambda n: None) -> SolveResult:
    """Generate `attempts` answers per question and grade them against `references`."""
    import torch

    lm, tokenizer = load_causal_lm(model, padding_side="left")
    texts = [prompt_text(tokenizer, template.replace("{prompt}", prompt)) for prompt in prompts]
    # Other sampling settings (top-p, top-k) stay the model's own generation config.
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 \
        else {"do_sample": False}
    torch.manual_seed(seed)
    answers: list[list[str | None]] = [[] for _ in texts]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # little padding per batch
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            inputs = tokenizer([texts[i] for i in batch], return_tensors="pt", padding=True,
                               add_special_tokens=False).to(lm.device)
            output = lm.generate(**inputs, max_new_tokens=max_new_tokens,
                                 num_return_sequences=attempts,
                                 pad_token_id=tokenizer.pad_token_id, **sampling)
            decoded = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:],
                                             skip_special_tokens=True)
            for slot, question in enumerate(batch):
                answers[question] = [extract_answer(text) for text in
                                     decoded[slot * attempts:(slot + 1) * attempts]]
            advance(len(batch))
    correct = [sum(answers_match(answer, reference) for answer in row)
               for row, reference in zip(answers, references, strict=True)]
    return SolveResult(correct=correct, answers=answers, attempts=attempts)
