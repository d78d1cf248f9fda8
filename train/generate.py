"""`train generate`: K sampled completions per prompt, written as candidates.

One JSONL line per prompt, in input order (what `curate pairs --from-candidates` reads)::

    {"id": "...", "prompt": [{"role", "content"}...],
     "responses": [{"content": "...", "source": "dpo"}, ... K],
     "meta": {"generation": {"temperature", "top_p", "max_new_tokens", "seed", "backend",
                             "model"}, ...the record's own meta}}

Written through `curate.step.StepOutput`: OUT appears only when complete, beside it
OUT.stats.json (counts, completions cut at the token limit, tokens/s) and OUT.removed.jsonl
(repeats of a prompt, as pair files have, and prompts that leave no room for
`max_new_tokens` in the model's context).
"""

from __future__ import annotations

import time
from typing import Any

from curate.io import Rejects
from curate.progress import progress
from curate.step import StepOutput
from train.data import load_prompts
from train.models import check_model_exists
from train.options import GenerateOptions
from train.sampling import Sampler, source_name


def run_generate(options: GenerateOptions) -> dict[str, Any]:
    """Sample, write OUT and its sidecars; returns the stats."""
    from train.runner import configure_libraries

    configure_libraries()
    source = check_model_exists(options.source)
    if options.output.exists() and options.output.resolve() == _resolved(options.prompts):
        raise ValueError(f"{options.output}: is the --prompts file; write elsewhere")
    rejects = Rejects(options.on_error)
    data = load_prompts(options.prompts, rejects, prompt_field=options.prompt_field,
                        template=options.prompt_template)  # one line per distinct prompt
    sampler = Sampler(source, options)
    name = options.source_name or source_name(options.source)
    generation = {"temperature": options.temperature, "top_p": options.top_p,
                  "max_new_tokens": options.max_new_tokens, "seed": options.seed,
                  "backend": sampler.backend, "model": options.source}
    started = time.perf_counter()
    truncated = tokens = 0
    with StepOutput("train generate", options.output, rejects=rejects,
                    inputs=[str(options.prompts)]) as output:
        output.n_in = data.n_in
        for example, reason in data.removed:
            output.remove({"id": example.id, **example.row}, reason)
        kept = []
        for example in data.examples:
            ids = sampler.prompt_ids(example.row["prompt"])
            if sampler.fits(ids):
                kept.append((example, ids))
            else:
                output.remove({"id": example.id, **example.row}, "prompt_longer_than_context",
                              tokens=len(ids))
        with progress("train generate", "prompts", len(kept)) as advance:
            samples = sampler.sample([ids for _, ids in kept], advance)
            for (example, _), sample in zip(kept, samples, strict=True):
                output.keep(candidate(example, sample.texts, name, generation))
                truncated += sample.truncated
                tokens += sample.tokens
        seconds = time.perf_counter() - started
        output.extra.update({"k": options.k, "responses": len(kept) * options.k,
                             "truncated_responses": truncated, "generated_tokens": tokens,
                             "tokens_per_s": round(tokens / seconds, 1) if seconds else 0.0,
                             "backend": sampler.backend, "model": options.source})
    return output.stats.model_dump(by_alias=True)


def candidate(example: Any, texts: list[str], name: str, generation: dict[str, Any]
              ) -> dict[str, Any]:
    """One output line. A `generation` entry the record already had (from an earlier run) is
    kept as `generation_before`, never overwritten."""
    meta = dict(example.meta)
    if "generation" in meta:
        meta["generation_before"] = meta.pop("generation")
    return {"id": example.id, "prompt": example.row["prompt"],
            "responses": [{"content": text, "source": name} for text in texts],
            "meta": {"generation": generation, **meta}}


def _resolved(path: Any) -> Any:
    from pathlib import Path

    return Path(path).resolve() if Path(str(path)).exists() else None
