"""The model card every run writes (RUN_DIR/README.md, from config.yaml and summary.json) and
`--push-to-hub REPO`: the final model, card and figures uploaded to the Hugging Face hub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from curate.io import atomic_path

# The hub client; tests swap in a local stand-in with the same two methods.
api_factory: Any = None

# Uploaded: the final model, tokenizer, card, figures and run records; not checkpoints,
# the tiny base model, adapters' duplicates of the merged weights or hidden files.
_IGNORED = ["checkpoints/*", "base_model/*", "eval/*", "tensorboard/*", ".*", "*.tmp"]
_PIPELINE = {"rm": "text-classification"}


def check_can_push(repo: str) -> None:
    """Fail before training when the upload could not happen: offline, or not logged in."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        raise ValueError(f"--push-to-hub {repo}: HF_HUB_OFFLINE is set, so nothing can be "
                         "uploaded; unset it or drop --push-to-hub")
    try:
        _api().whoami()
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"--push-to-hub {repo}: cannot reach the hub as a logged-in user "
                         f"({reason}); log in with `hf auth login` or set HF_TOKEN") from None


def push(run_dir: Path, repo: str, *, private: bool = True) -> str:
    """Create `repo` (if needed) and upload the run directory's model, card and figures."""
    api = _api()
    api.create_repo(repo, private=private, exist_ok=True)
    api.upload_folder(folder_path=str(run_dir), repo_id=repo, ignore_patterns=_IGNORED,
                      commit_message=f"prefkit: upload {run_dir.name}")
    return f"https://huggingface.co/{repo}"


def _api() -> Any:
    if api_factory is not None:
        return api_factory()
    from huggingface_hub import HfApi

    return HfApi()


def write_model_card(run_dir: Path, summary: dict[str, Any]) -> None:
    """RUN_DIR/README.md: what was trained, on which data, how, and with what result."""
    config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    with atomic_path(run_dir / "README.md") as temp:
        temp.write_text(model_card(run_dir, config, summary), encoding="utf-8")


def model_card(run_dir: Path, config: dict[str, Any], summary: dict[str, Any]) -> str:
    options = config.get("options", {})
    command = summary["command"]
    method = command.split()[1]
    base = options.get("model") or options.get("policy")
    header = {"library_name": "transformers", "tags": ["prefkit", "trl", method],
              "pipeline_tag": _PIPELINE.get(method, "text-generation")}
    if isinstance(base, str) and base != "tiny" and not Path(base).exists() and "/" in base:
        header["base_model"] = base
    data = summary["data"]
    lines = ["---", yaml.safe_dump(header, sort_keys=False).strip(), "---", "",
             f"# {run_dir.name}", "",
             (f"Trained with prefkit `{command}` ({config.get('trainer', '')}), "
              f"starting from `{base}`."), "",
             "## Data", "",
             f"- source: `{data['source']}` ({data['format']} records)",
             (f"- {data['in']} records in: {data['train']} train, {data['eval']} held out "
              f"({data.get('eval_from', 'split by prompt')}), {data['removed']} removed, "
              f"{data['rejected']} rejected")]
    for reason, count in sorted(data.get("removed_by_reason", {}).items()):
        lines.append(f"  - removed `{reason}`: {count}")
    lines += ["", "## Training", "", "| setting | value |", "|---|---|"]
    shown = ("max_steps", "epochs", "lr", "lr_scheduler", "warmup_ratio", "batch_size",
             "grad_accum", "max_length", "seed", "loss", "beta", "num_generations", "rewards",
             "kl_coef", "lora")
    resolved = config.get("resolved", {})
    for name in shown:
        value = resolved.get("learning_rate") if name == "lr" else options.get(name)
        if value is None:
            value = summary.get(name)  # a default resolved at run time (e.g. beta by loss)
        if value is not None:
            lines.append(f"| {name} | `{value}` |")
    lines += [f"| steps | {summary['steps']} |", f"| precision | {summary['precision']} |",
              f"| device | {summary['device']} |", "", "## Results", ""]
    if summary.get("first_loss") is not None:
        lines.append(f"- training loss {summary['first_loss']:.4g} -> {summary['last_loss']:.4g} "
                     "(means of the first and last 10% of steps)")
    if summary.get("first_mean_reward") is not None:
        lines.append(f"- mean reward {summary['first_mean_reward']:.4g} -> "
                     f"{summary['last_mean_reward']:.4g}")
    for key, value in summary.get("eval", {}).items():
        if isinstance(value, (int, float)):
            lines.append(f"- held out `{key}`: {value:.4g}")
    figures = [name for name in ("loss.png", "rewards.png") if (run_dir / name).exists()]
    if figures:
        lines += ["", "## Figures", "", *[f"![{name}]({name})" for name in figures]]
    loader = "AutoModelForSequenceClassification" if method == "rm" else "AutoModelForCausalLM"
    where = options.get("push_to_hub") or str(run_dir)
    lines += ["", "## Use", "", "```python",
              f"from transformers import {loader}, AutoTokenizer", "",
              f'model = {loader}.from_pretrained("{where}")',
              f'tokenizer = AutoTokenizer.from_pretrained("{where}")', "```", "",
              "Versions: " + ", ".join(f"{k} {v}" for k, v in config.get("versions", {}).items()),
              ""]
    return "\n".join(lines)
