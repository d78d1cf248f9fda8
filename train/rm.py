"""`train rm`: a reward model, `AutoModelForSequenceClassification(num_labels=1)` trained with
TRL's RewardTrainer on preference pairs.

Loss: `-log sigmoid(r_chosen - r_rejected - margin) + c * (r_chosen + r_rejected)^2`, where
`c` is `center_rewards_coefficient` (keeps rewards centred on 0) and `margin` comes from
the label strength of pairs exported by `label export` (`margin = margin_scale *
meta.strength`: 1.0 for "better", 2.0 for "much better"; 0 for pairs without it).

Each side is the prompt plus its answer rendered by the chat template and cut after the
end-of-turn token, so the scalar head reads the reward at the end-of-sequence token, as
`train ppo` does when it scores rollouts. Pairs that do not fit `max_length` are removed
with that reason (truncating would cut off the token the reward is read at).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from train.data import load_pairs
from train.fit import Measured, fit_to_max_length, prompt_ids
from train.options import RMOptions
from train.rundir import removed_if_setup_fails
from train.runner import Prepared, finish, make_config, prepare, trainer_args, trainer_inputs
from train.template import conversation_ids, end_of_turn_id

TINY_LR, LR = 1e-3, 1e-5


def train_rm(options: RMOptions) -> dict[str, Any]:
    """Run `train rm`; returns the summary also written to RUN_DIR/summary.json."""
    with removed_if_setup_fails(options.output):
        prepared, trainer = build_rm_trainer(options)
    return finish(prepared, trainer, method="rm", extra={"margin_scale": options.margin_scale})


def build_rm_trainer(options: RMOptions) -> tuple[Prepared, Any]:
    from trl import RewardConfig, RewardTrainer

    prepared = prepare("rm", options, partial(load_pairs, margin_scale=options.margin_scale),
                       model=options.model)
    end_id = end_of_turn_id(prepared.tokenizer)
    fit_to_max_length(prepared, lambda row: measure(prepared.tokenizer, row, end_id), whole=True)
    config = make_config(
        RewardConfig, trainer_args(prepared, tiny_lr=TINY_LR, lr=LR), options,
        max_length=options.max_length,
        center_rewards_coefficient=options.center_rewards_coefficient,
    )
    trainer = RewardTrainer(args=config, **trainer_inputs(prepared, "SEQ_CLS"))
    return prepared, trainer


def measure(tokenizer: Any, row: dict[str, Any], end_id: int) -> Measured:
    """Each side as `chosen_ids`/`rejected_ids` (+ `margin`), ending at the end-of-turn token."""
    chosen = conversation_ids(tokenizer, row["prompt"] + row["chosen"], end_id)
    rejected = conversation_ids(tokenizer, row["prompt"] + row["rejected"], end_id)
    return Measured(len(prompt_ids(tokenizer, row["prompt"])), max(len(chosen), len(rejected)),
                    {"chosen_ids": chosen, "rejected_ids": rejected,
                     **({"margin": row["margin"]} if "margin" in row else {})})
