"""Where an AI judge's answers come from.

* `EndpointJudge`: any OpenAI-compatible chat completions endpoint (`--judge-url`,
  `--judge-model`; the key, if one is needed, from an environment variable). Temperature 0;
  the answer is read by `judging.parse`.
* `LocalJudge`: a causal LM loaded with transformers (a local path, a hub id, or `tiny`,
  built on the spot from the items' texts). It answers by constrained decoding: at each
  step of the answer format (`judging.grammar`), the option with the highest
  log-probability given the prompt and the answer so far. So every answer is well-formed,
  and the verdict is the model's own preference among the allowed ones.
"""

from __future__ import annotations

import inspect
import os
import time
from typing import Any

from labeling_app.judging import Grammar


class JudgeError(ValueError):
    """A judge that cannot be used: unreachable, or not answering as an OpenAI endpoint."""


class EndpointJudge:
    def __init__(self, url: str, model: str, *, api_key: str | None = None,
                 timeout: float = 120.0, max_tokens: int = 1024, retries: int = 3) -> None:
        import httpx

        self.url = url.rstrip("/") + ("" if url.rstrip("/").endswith("/chat/completions")
                                      else "/chat/completions")
        self.name, self.max_tokens, self.retries = model, max_tokens, retries
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(timeout=timeout, headers=headers)

    def answer(self, prompt: str, grammar: Grammar) -> str:
        import httpx

        body = {"model": self.name, "messages": [{"role": "user", "content": prompt}],
                "temperature": 0, "max_tokens": self.max_tokens}
        for attempt in range(self.retries + 1):
            try:
                response = self.http.post(self.url, json=body)
                if response.status_code < 500 and response.status_code != 429:
                    break
            except httpx.HTTPError as exc:
                if attempt == self.retries:
                    raise JudgeError(f"{self.url}: {exc}") from None
            time.sleep(min(0.5 * 2 ** attempt, 30))  # 0.5, 1, 2 s: a busy server recovers
        if response.status_code != 200:
            raise JudgeError(f"{self.url}: HTTP {response.status_code}: {response.text[:200]}")
        try:
            return response.json()["choices"][0]["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError):
            raise JudgeError(f"{self.url}: not an OpenAI-style chat completion: "
                             f"{response.text[:200]}") from None

    def close(self) -> None:
        self.http.close()


class LocalJudge:
    def __init__(self, source: str, *, name: str | None = None, max_length: int = 4096) -> None:
        import torch
        from transformers import AutoModelForCausalLM

        from train.models import load_tokenizer

        self.torch = torch
        self.name = name or source
        self.tokenizer = load_tokenizer(source)
        self.model = AutoModelForCausalLM.from_pretrained(source)
        self.model.eval()
        self.max_length = min(max_length, getattr(self.model.config,
                                                  "max_position_embeddings", max_length))
        # transformers renamed `past_key_values` to `cache` (5.x warns about the old name).
        parameters = inspect.signature(self.model.forward).parameters
        self._cache_arg = "cache" if "cache" in parameters else "past_key_values"
        # A small model on CPU runs on one thread: with two, each cached step of the tiny
        # judge took 0.55 s on a busy 2-core machine instead of 0.01-0.03 s (threads spin
        # waiting for each other when the cores are shared).
        if sum(p.numel() for p in self.model.parameters()) < 50_000_000 and \
                not torch.cuda.is_available():
            torch.set_num_threads(1)

    def _context(self, prompt: str) -> list[int]:
        tokenizer = self.tokenizer
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}],
                                                 tokenize=False, add_generation_prompt=True)
            return tokenizer(text, add_special_tokens=False)["input_ids"]
        return tokenizer(prompt + "\n")["input_ids"]

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def choose(self, context: list[int], options: list[str], last: Any = None) -> str:
        """The option with the highest log-probability after `context`: from `last` (the
        logits after it) when every option is one token, else summed over each option's
        tokens in one batch over the whole context."""
        torch = self.torch
        encoded = [self._ids(o) for o in options]
        if last is not None and all(len(e) == 1 for e in encoded):
            scores = torch.log_softmax(last.float(), -1)[[e[0] for e in encoded]]
            return options[int(scores.argmax())]
        context = context[-(self.max_length - max(len(e) for e in encoded)):]
        width = len(context) + max(len(e) for e in encoded)
        ids = torch.full((len(options), width), self.tokenizer.pad_token_id)
        mask = torch.zeros_like(ids)
        for n, e in enumerate(encoded):
            ids[n, :len(context) + len(e)] = torch.tensor(context + e)
            mask[n, :len(context) + len(e)] = 1
        logprobs = torch.log_softmax(self.model(ids, attention_mask=mask).logits.float(), -1)
        totals = [float(sum(logprobs[n, len(context) + t - 1, token] for t, token in enumerate(e)))
                  for n, e in enumerate(encoded)]
        return options[max(range(len(options)), key=totals.__getitem__)]

    def answer(self, prompt: str, grammar: Grammar) -> str:
        """Walk the answer format: literal text is appended, each choice is the most likely
        option. The prompt is encoded once; then each choice costs one forward pass over the
        tokens added since the last one (a KV cache)."""
        torch = self.torch
        # Room for the answer; a longer prompt keeps its end (the responses and the question).
        context = self._context(prompt)[-(self.max_length - 256):]
        text, pending, cache, last = "", context, None, None
        with torch.no_grad():
            try:
                step = next(grammar)
                while True:
                    if isinstance(step, str):
                        piece = step
                    else:
                        if pending:
                            out = self.model(torch.tensor([pending]), use_cache=True,
                                             **{self._cache_arg: cache})
                            cache = getattr(out, self._cache_arg)
                            last, pending = out.logits[0, -1], []
                        piece = self.choose(context, step, last)
                    ids = self._ids(piece)
                    context, pending = context + ids, pending + ids
                    text += piece
                    step = grammar.send(None if isinstance(step, str) else piece)
            except StopIteration:
                return text

    def close(self) -> None:
        pass


def open_backend(*, judge: str | None, url: str | None, model: str | None,
                 items_texts: Any, workdir: str, api_key_env: str = "OPENAI_API_KEY",
                 max_tokens: int = 1024) -> Any:
    """The backend the options name: an endpoint (`url` and `model`), or a local model
    (`judge`: a path, a hub id or `tiny`)."""
    if url:
        if not model:
            raise ValueError("--judge-url needs --judge-model (the model name the endpoint "
                             "serves)")
        return EndpointJudge(url, model, api_key=os.environ.get(api_key_env),
                             max_tokens=max_tokens)
    if judge == "tiny":
        from train.tiny import build_tiny_model

        path = build_tiny_model(items_texts, os.path.join(workdir, "tiny"), seed=0)
        return LocalJudge(str(path), name="tiny")
    from train.models import check_model_exists

    return LocalJudge(check_model_exists(judge, what="judge model"), name=judge)
