"""Sampling K completions per prompt from a run or model: the engine of `train generate` and
`train eval`.

Two backends with the same behaviour: vLLM (when installed and a GPU is present, or when
asked) and transformers' `generate`, batched with left padding, prompts sorted by length
within a window so batches carry little padding. Sampling is plain temperature and top-p
sampling (top-k off, no repetition penalty: the model's own generation settings are
replaced, so two models sampled with the same flags are sampled the same way); temperature
0 decodes greedily. A completion ends at the chat template's end-of-turn token or EOS.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.options import SamplingOptions

Messages = list[dict[str, str]]


@dataclass
class Sample:
    """A prompt's completions, and how many stopped at the token limit."""

    texts: list[str]
    truncated: int
    tokens: int


class Sampler:
    """Loads `source` once; `sample(prompts)` yields one `Sample` per prompt, in order."""

    def __init__(self, source: str, options: SamplingOptions) -> None:
        from train.models import load_tokenizer, pick_device
        from train.template import end_of_turn_id, resolve_template

        self.source, self.options = source, options
        self.tokenizer = load_tokenizer(source)
        self.tokenizer.padding_side = "left"
        if not self.tokenizer.chat_template:
            resolve_template(self.tokenizer, model_name=source)
        self.stop_ids = sorted({self.tokenizer.eos_token_id, end_of_turn_id(self.tokenizer)})
        self.device = pick_device()
        self.backend = backend(options.backend, self.device.name)
        self.model: Any = None
        self.context_limit = _context_limit(source)

    def prompt_ids(self, prompt: Messages) -> list[int]:
        from train.fit import prompt_ids

        return prompt_ids(self.tokenizer, prompt)

    def fits(self, ids: list[int]) -> bool:
        """Whether a prompt leaves room for `max_new_tokens` in the model's context."""
        return self.context_limit is None or \
            len(ids) + self.options.max_new_tokens <= self.context_limit

    def sample(self, prompts: list[list[int]], advance: Callable[[int], None] = lambda n: None
               ) -> Iterator[Sample]:
        """Completions of tokenised prompts, in their order, `batch_size` prompts at a time."""
        if self.model is None:
            self.model = self._load()
        window = self.options.batch_size * 8
        for start in range(0, len(prompts), window):
            part = prompts[start:start + window]
            order = sorted(range(len(part)), key=lambda i: len(part[i]))
            results: dict[int, Sample] = {}
            for batch_start in range(0, len(order), self.options.batch_size):
                batch = order[batch_start:batch_start + self.options.batch_size]
                for index, sample in zip(batch, self._generate([part[i] for i in batch]),
                                         strict=True):
                    results[index] = sample
                advance(len(batch))
            yield from (results[i] for i in range(len(part)))

    # -- backends -------------------------------------------------------------------------

    def _load(self) -> Any:
        import torch

        options = self.options
        torch.manual_seed(options.seed)
        if self.backend == "vllm":
            from vllm import LLM

            return LLM(model=self.source, seed=options.seed, dtype="auto")
        from transformers import AutoModelForCausalLM

        from train.tiny import is_tiny_model

        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(self.device.precision,
                                                                    torch.float32)
        if is_tiny_model(self.source) and self.device.name == "cpu":
            torch.set_num_threads(1)  # see train.runner.use_one_thread_for_tiny
        model = AutoModelForCausalLM.from_pretrained(self.source, dtype=dtype)
        return model.to(self.device.name).eval()

    def _generate(self, batch: list[list[int]]) -> list[Sample]:
        return self._vllm(batch) if self.backend == "vllm" else self._transformers(batch)

    def _transformers(self, batch: list[list[int]]) -> list[Sample]:
        import torch
        from transformers import GenerationConfig

        options, pad = self.options, self.tokenizer.pad_token_id
        width = max(map(len, batch))
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in batch])
        attention = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in batch])
        greedy = options.temperature == 0
        config = GenerationConfig(
            max_new_tokens=options.max_new_tokens, do_sample=not greedy,
            num_return_sequences=options.k, eos_token_id=self.stop_ids, pad_token_id=pad,
            bos_token_id=self.model.generation_config.bos_token_id,
            **({} if greedy else {"temperature": options.temperature, "top_p": options.top_p,
                                  "top_k": 0}))
        with torch.inference_mode():
            output = self.model.generate(input_ids=input_ids.to(self.model.device),
                                         attention_mask=attention.to(self.model.device),
                                         generation_config=config)
        completions = output[:, width:].tolist()
        samples = []
        for index in range(len(batch)):
            rows = [_until_stop(ids, self.stop_ids, pad)
                    for ids in completions[index * options.k:(index + 1) * options.k]]
            samples.append(Sample(
                texts=[self.tokenizer.decode(ids, skip_special_tokens=True).strip()
                       for ids, _ in rows],
                truncated=sum(not stopped for _, stopped in rows),
                tokens=sum(len(ids) for ids, _ in rows)))
        return samples

    def _vllm(self, batch: list[list[int]]) -> list[Sample]:  # pragma: no cover - needs a GPU
        from vllm import SamplingParams

        options = self.options
        params = SamplingParams(n=options.k, temperature=options.temperature,
                                top_p=1.0 if options.temperature == 0 else options.top_p,
                                max_tokens=options.max_new_tokens, seed=options.seed,
                                stop_token_ids=self.stop_ids, skip_special_tokens=True)
        outputs = self.model.generate([{"prompt_token_ids": ids} for ids in batch], params,
                                      use_tqdm=False)
        return [Sample(texts=[c.text.strip() for c in out.outputs],
                       truncated=sum(c.finish_reason == "length" for c in out.outputs),
                       tokens=sum(len(c.token_ids) for c in out.outputs)) for out in outputs]


def backend(choice: str, device: str) -> str:
    """`auto`: vLLM when the package is installed and a CUDA GPU is present."""
    available = importlib.util.find_spec("vllm") is not None and device == "cuda"
    if choice == "vllm" and not available:
        raise ValueError("backend: vllm needs the `vllm` package and a CUDA GPU; use "
                         "--backend transformers")
    if choice == "auto":
        return "vllm" if available else "transformers"
    return choice


def source_name(source: str) -> str:
    """How a response's `source` names its model: a run directory's name, or the hub id."""
    path = Path(source)
    return path.resolve().name if path.exists() else source


def _until_stop(ids: list[int], stop_ids: list[int], pad: int) -> tuple[list[int], bool]:
    """A completion's tokens up to (not including) its stop token, and whether it stopped."""
    for position, token in enumerate(ids):
        if token in stop_ids:
            return ids[:position], True
    while ids and ids[-1] == pad and pad not in stop_ids:
        ids = ids[:-1]
    return ids, False


def _context_limit(source: str) -> int | None:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(source)
    return getattr(config.get_text_config(), "max_position_embeddings", None)
