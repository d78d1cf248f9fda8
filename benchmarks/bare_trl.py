"""The peer of `benchmarks/train_bench.py`: the work of `train sft` / `train dpo` done with bare
TRL, as a user would script it: read the JSONL data, let TRL tokenise it, train, save the
model and tokenizer. Same TRL config as `train` builds (see `train.runner.trainer_args`),
one torch thread (what `train` uses for the tiny model on CPU).

    python benchmarks/bare_trl.py sft DATA.jsonl MODEL_DIR OUT_DIR --steps 20
    python benchmarks/bare_trl.py dpo PAIRS.jsonl MODEL_DIR OUT_DIR --steps 8

Prints one JSON line: trained tokens, trainer runtime.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("method", choices=("sft", "dpo"))
    parser.add_argument("data")
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--lr", type=float, default=None)
    args = parser.parse_args()

    import torch
    from datasets import Dataset
    from transformers import AutoTokenizer

    torch.set_num_threads(1)
    with open(args.data, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    common = {"output_dir": os.path.join(args.out, "checkpoints"),
              "per_device_train_batch_size": args.batch_size, "max_steps": args.steps,
              "logging_steps": 1, "save_strategy": "steps", "save_steps": 500,
              "save_total_limit": 2, "report_to": "none", "use_cpu": True, "bf16": False,
              "seed": 0, "data_seed": 0, "disable_tqdm": True, "max_length": args.max_length,
              "activation_checkpointing": False}  # as `train` sets for the tiny model
    if args.method == "sft":
        from trl import SFTConfig, SFTTrainer

        config = SFTConfig(**common, learning_rate=args.lr or 1e-3, assistant_only_loss=True)
        dataset = Dataset.from_list([{"messages": row["messages"]} for row in rows])
        trainer = SFTTrainer(model=args.model, args=config, train_dataset=dataset,
                             processing_class=tokenizer)
    else:
        from trl import DPOConfig, DPOTrainer

        config = DPOConfig(**common, learning_rate=args.lr or 5e-4, loss_type=["sigmoid"],
                           beta=0.1)
        dataset = Dataset.from_list([{key: row[key] for key in ("prompt", "chosen", "rejected")}
                                     for row in rows])
        trainer = DPOTrainer(model=args.model, args=config, train_dataset=dataset,
                             processing_class=tokenizer)
    output = trainer.train()
    trainer.save_model(args.out)
    tokenizer.save_pretrained(args.out)
    tokens = max(row["num_tokens"] for row in trainer.state.log_history if "num_tokens" in row)
    print(json.dumps({"tokens": tokens, "train_s": output.metrics["train_runtime"]}))


if __name__ == "__main__":
    main()
