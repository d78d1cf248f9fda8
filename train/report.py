"""What a finished run reports: summary.json, the one-line summary, config.yaml, the plots."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from schemas import StepStats

if TYPE_CHECKING:
    from train.runner import Prepared

# Shown in the one-line summary when present, in this order.
_HEADLINE = ("loss", "reward_accuracy", "mean_reward", "kl")
_EVAL_TIMING = ("runtime", "samples_per_second", "steps_per_second", "epoch")


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def edge_means(values: Sequence[float], share: float = 0.1) -> tuple[float | None, float | None]:
    """Means of the first and last `share` of `values` (at least one value each): a single
    step's loss or reward is too noisy to compare."""
    if not values:
        return None, None
    count = max(1, round(len(values) * share))
    return sum(values[:count]) / count, sum(values[-count:]) / count


def build_summary(prepared: Prepared, trainer: Any, train_metrics: dict[str, float],
                  evaluation: dict[str, float], rows: list[dict[str, Any]], extra: dict[str, Any],
                  evaluation_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    from train.data import length_baseline
    from train.models import count_parameters

    first_loss, last_loss = edge_means([row["loss"] for row in rows if "loss" in row])
    tokens = max((row["num_tokens"] for row in rows if "num_tokens" in row), default=0)
    train_s = train_metrics.get("train_runtime", 0.0)
    model = trainer.model
    held_out = {key.removeprefix("eval_"): value for key, value in evaluation.items()
                if key.startswith("eval_") and key.removeprefix("eval_") not in _EVAL_TIMING}
    for name in ("accuracy", "rewards/accuracies"):  # one name across rm and the dpo family
        if name in held_out:
            held_out["reward_accuracy"] = held_out[name]
    for key in list(held_out):  # GRPO: rewards/accuracy/mean -> accuracy
        if key.startswith("rewards/") and key.endswith("/mean"):
            held_out[key.removeprefix("rewards/").removesuffix("/mean")] = held_out.pop(key)
    baseline = length_baseline(prepared.eval)
    if held_out and baseline is not None:
        held_out["length_baseline_accuracy"] = baseline
    held_out.update(evaluation_extra or {})
    rewarded = {}
    if any("reward" in row for row in rows):  # GRPO
        first, last = edge_means([row["reward"] for row in rows if "reward" in row])
        rewarded = {"first_mean_reward": first, "last_mean_reward": last, "reward_curves": {
            key.split("/")[1]: edge_means([row[key] for row in rows if key in row])
            for key in sorted({k for row in rows for k in row})
            if key.startswith("rewards/") and key.endswith("/mean")}}
    return {
        "command": f"train {prepared.command}",
        "first_loss": first_loss,
        "last_loss": last_loss,
        "loss_window": max(1, round(len([r for r in rows if "loss" in r]) * 0.1)),
        **rewarded,
        "eval": held_out,
        "tokens_per_s": round(tokens / train_s, 1) if train_s else 0.0,
        "wall_s": round(time.perf_counter() - prepared.started, 2),
        "train_s": round(train_s, 2),
        "num_tokens": tokens,
        "steps": trainer.state.global_step,
        "epochs": round(trainer.state.epoch or 0.0, 4),
        "data": data_accounting(prepared),
        "model": getattr(prepared.options, "model", prepared.model_source),
        "model_source": prepared.model_source,
        "parameters": count_parameters(model),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
        "device": prepared.device.name,
        "precision": prepared.device.precision,
        "chat_template": prepared.template_origin,
        "warnings": prepared.notes,
        "run_dir": str(prepared.run_dir.path),
        **extra,
    }


def data_accounting(prepared: Prepared) -> dict[str, Any]:
    """`in == train + eval + removed + rejected`, checked by `schemas.StepStats`."""
    reasons: dict[str, int] = {}
    for line in prepared.removed:
        reasons[line["reason"]] = reasons.get(line["reason"], 0) + 1
    rejects = prepared.data.rejects
    used = len(prepared.train) + len(prepared.eval)
    StepStats(step=f"train {prepared.command}", n_in=prepared.data.n_in, n_out=used,
              removed=len(prepared.removed), rejected=len(rejects), removed_by_reason=reasons,
              rejected_by_reason=dict(rejects.by_reason))
    return {"source": prepared.data.source, "format": prepared.data.kind,
            "in": prepared.data.n_in, "train": len(prepared.train), "eval": len(prepared.eval),
            "removed": len(prepared.removed), "removed_by_reason": reasons,
            "rejected": len(rejects), "rejected_by_reason": dict(rejects.by_reason),
            **prepared.data.extra}


def resolved_config(prepared: Prepared, trainer: Any) -> dict[str, Any]:
    import torch
    import transformers
    import trl

    return {
        "command": f"train {prepared.command}",
        "options": prepared.options.model_dump(mode="json"),
        "resolved": {"model_source": prepared.model_source, "device": prepared.device.name,
                     "precision": prepared.device.precision,
                     "chat_template": prepared.template_origin,
                     "learning_rate": trainer.args.learning_rate,
                     "gradient_checkpointing": getattr(trainer.args, "activation_checkpointing",
                                                       None) or trainer.args.gradient_checkpointing,
                     "attn_implementation": trainer.model.config._attn_implementation},
        "trainer": type(trainer).__name__,
        "versions": {"torch": str(torch.__version__), "transformers": transformers.__version__,
                     "trl": trl.__version__},
    }


def summary_line(prepared: Prepared, summary: dict[str, Any]) -> str:
    data = summary["data"]
    dropped = f" ({data['removed']} removed, {data['rejected']} rejected)" \
        if data["removed"] or data["rejected"] else ""
    loss = ""
    if summary.get("first_mean_reward") is not None:
        loss = (f", mean reward {summary['first_mean_reward']:.4g} -> "
                f"{summary['last_mean_reward']:.4g}")
        if summary.get("mean_kl") is not None:
            loss += f", mean KL {summary['mean_kl']:.4g}"
    elif summary["first_loss"] is not None:
        loss = f", loss {summary['first_loss']:.4g} -> {summary['last_loss']:.4g}"
    headline = ("reward", *summary["rewards"]) if "rewards" in summary else _HEADLINE
    shown = [f"{key}={summary['eval'][key]:.4g}" for key in headline if key in summary["eval"]]
    if "length_baseline_accuracy" in summary["eval"]:
        shown.append(f"(longer answer wins: {summary['eval']['length_baseline_accuracy']:.4g})")
    evaluation = f", eval {' '.join(shown)}" if shown else ""
    return (f"train {prepared.command}: {data['train']} train + {data['eval']} eval records"
            f"{dropped}, {summary['steps']} steps{loss}{evaluation}, "
            f"{summary['tokens_per_s']:,.0f} tokens/s, {summary['wall_s']:.1f}s -> "
            f"{prepared.run_dir.path}")
