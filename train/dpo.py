"""`train dpo`: the DPO family through TRL's DPOTrainer, SimPO through its CPOTrainer.

* `--loss sigmoid` (DPO), `ipo`, `sigmoid_norm` (length-normalised DPO: log-ratios divided
  by the number of completion tokens, which counters the pull toward long answers) and
  every other TRL loss type; `--ld-alpha` down-weights the tokens of the longer answer
  beyond the shorter one's length (LD-DPO); `--precompute-ref` computes the reference
  log-probs once, before training, so the reference model is not kept in memory.
* `--loss simpo`: reference-free, length-averaged log-probs with target margin
  `--simpo-gamma` (`CPOTrainer(loss_type="simpo", cpo_alpha=0)`).

Both log reward accuracy and margins, chosen and rejected rewards and log-probs, and the
chosen and rejected completion lengths (`lengths/*`, in tokens). Pairs whose prompt fills
`max_length` are removed with that reason; longer pairs are truncated and counted.
Label strength (`meta.strength`) is not used: TRL's losses take no per-pair weight.
"""

from __future__ import annotations

from typing import Any

from train.data import load_pairs
from train.fit import (
    Measured,
    chat_ids,
    chat_ids_many,
    common_prefix,
    fit_to_max_length,
    prompt_ids,
)
from train.options import DPOOptions
from train.rundir import removed_if_setup_fails
from train.runner import (
    Prepared,
    dataset,
    finish,
    lora,
    make_config,
    prepare,
    trainer_args,
    trainer_inputs,
)
from train.template import end_of_turn_id

TINY_LR, LR = 5e-4, 1e-6


def train_dpo(options: DPOOptions) -> dict[str, Any]:
    """Run `train dpo`; returns the summary also written to RUN_DIR/summary.json."""
    with removed_if_setup_fails(options.output):
        prepared, trainer = build_dpo_trainer(options)
    return finish(prepared, trainer, method="dpo",
                  extra={"loss_type": options.loss, "beta": options.resolved_beta,
                         **({"simpo_gamma": options.resolved_simpo_gamma}
                            if options.loss == "simpo" else {})})


def build_dpo_trainer(options: DPOOptions) -> tuple[Prepared, Any]:
    prepared = prepare(f"dpo ({options.loss})" if options.loss != "sigmoid" else "dpo", options,
                       load_pairs, model=options.model)
    strengths = prepared.data.extra["pairs_with_strength"]
    if strengths:
        prepared.warn(f"{strengths} pairs carry a label strength (meta.strength), which DPO does "
                      "not use (TRL's losses take no per-pair weight); `train rm` turns it into "
                      "margins")
    simpo = options.loss == "simpo"
    fit_to_max_length(prepared, measure_many=lambda rows: measure_many(prepared.tokenizer, rows,
                                                                        keep_text=simpo))
    if simpo:
        return prepared, _simpo_trainer(prepared, options)
    return prepared, _dpo_trainer(prepared, options)


def measure(tokenizer: Any, row: dict[str, Any], *, keep_text: bool = False) -> Measured:
    """The pair tokenised as TRL's DPOTrainer would (`prompt_ids`, `chosen_ids`,
    `rejected_ids`: the answers start where the prompt and prompt + answer diverge), so it
    does not tokenise again; `keep_text` keeps the row as text (SimPO tokenises it itself)."""
    return _measured(prompt_ids(tokenizer, row["prompt"]),
                     chat_ids(tokenizer, row["prompt"] + row["chosen"]),
                     chat_ids(tokenizer, row["prompt"] + row["rejected"]), keep_text)


def measure_many(tokenizer: Any, rows: list[dict[str, Any]], *,
                 keep_text: bool = False) -> list[Measured]:
    """`measure` of many pairs, with one tokenizer call per side."""
    prompts = chat_ids_many(tokenizer, [row["prompt"] for row in rows],
                            add_generation_prompt=True)
    chosen, rejected = (chat_ids_many(tokenizer, [row["prompt"] + row[side] for row in rows])
                        for side in ("chosen", "rejected"))
    return [_measured(*ids, keep_text) for ids in zip(prompts, chosen, rejected, strict=True)]


def _measured(prompt: list[int], chosen: list[int], rejected: list[int],
              keep_text: bool) -> Measured:
    start = min(common_prefix(prompt, chosen), common_prefix(prompt, rejected))
    tokenized = None if keep_text else {"prompt_ids": prompt[:start],
                                        "chosen_ids": chosen[start:],
                                        "rejected_ids": rejected[start:]}
    return Measured(start, max(len(chosen), len(rejected)), tokenized)


def _dpo_trainer(prepared: Prepared, options: DPOOptions) -> Any:
    from trl import DPOConfig

    from train.trainers import LengthLoggingDPOTrainer

    config = make_config(
        DPOConfig, trainer_args(prepared, tiny_lr=TINY_LR, lr=LR), options,
        loss_type=[options.loss],
        beta=options.resolved_beta,
        ld_alpha=options.ld_alpha,
        label_smoothing=options.label_smoothing,
        precompute_ref_log_probs=options.precompute_ref,
        max_length=options.max_length,
    )
    return LengthLoggingDPOTrainer(args=config, **trainer_inputs(prepared, "CAUSAL_LM"))


def _simpo_trainer(prepared: Prepared, options: DPOOptions) -> Any:
    import torch
    from transformers import AutoModelForCausalLM
    from trl.experimental.cpo import CPOConfig

    from train.trainers import LengthLoggingSimPOTrainer

    config = make_config(
        CPOConfig, trainer_args(prepared, tiny_lr=TINY_LR, lr=LR), options,
        loss_type="simpo",
        cpo_alpha=0.0,
        simpo_gamma=options.resolved_simpo_gamma,
        beta=options.resolved_beta,
        label_smoothing=options.label_smoothing,
        max_length=options.max_length,
        remove_unused_columns=False,  # its collator needs the tokenized columns
    )
    end = prepared.tokenizer.convert_ids_to_tokens(end_of_turn_id(prepared.tokenizer))
    rows = [rendered_pair(prepared.tokenizer, example.row, end) for example in prepared.train]
    held = [rendered_pair(prepared.tokenizer, example.row, end) for example in prepared.eval]
    attention = {"attn_implementation": options.attn_implementation} \
        if options.attn_implementation else {}
    return LengthLoggingSimPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(prepared.model_source, dtype=torch.float32,
                                                   **attention),
        args=config,
        train_dataset=dataset(rows),
        eval_dataset=dataset(held) if held else None,
        processing_class=prepared.tokenizer,
        peft_config=lora(options, "CAUSAL_LM"),
    )


def rendered_pair(tokenizer: Any, row: dict[str, Any], end: str) -> dict[str, str]:
    """The pair as template-rendered text, each answer ending at its end-of-turn token (so
    the CPO trainer does not append a second one)."""
    prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=False,
                                           add_generation_prompt=True)
    sides = {}
    for side in ("chosen", "rejected"):
        full = tokenizer.apply_chat_template(row["prompt"] + row[side], tokenize=False)
        if not full.startswith(prompt):
            raise ValueError("the chat template renders a prompt differently when an answer "
                             "follows; SimPO needs prompt-prefix templates")
        answer = full[len(prompt):]
        cut = answer.rfind(end)
        sides[side] = answer[:cut + len(end)] if cut >= 0 else answer
    return {"prompt": prompt, **sides}
