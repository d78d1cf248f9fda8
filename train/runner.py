"""The run every training command shares: check everything, train, report.

`prepare` does all that can fail on bad input (the model's existence, every record, the
chat template, lengths) before any weights load. `finish` trains a TRL trainer, evaluates,
saves the model and writes the artifacts listed in `train.rundir`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from curate.io import Rejects
from curate.step import removal
from train.data import Example, TrainData, shared_prompts, split_eval
from train.models import (
    Device,
    check_attention,
    check_model_exists,
    load_tokenizer,
    pick_device,
    process_state,
    resolve_model,
)
from train.options import TINY, TrainOptions
from train.report import build_summary, resolved_config, summary_line, warn
from train.rundir import RunDir, fingerprint
from train.template import resolve_template
from train.tiny import is_tiny_model

Loader = Callable[[Any, Rejects], TrainData]


@dataclass
class Prepared:
    """A checked run: data split and length-filtered, tokenizer with its training template."""

    command: str
    options: TrainOptions
    run_dir: RunDir
    data: TrainData
    train: list[Example]
    eval: list[Example]
    model_source: str
    tokenizer: Any
    template_origin: str
    device: Device
    tiny: bool
    removed: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        for example, reason in self.data.removed:
            self._remove(example, reason)

    def drop(self, keep: Callable[[Example], str | None]) -> None:
        """Remove examples for which `keep` returns a reason; they go to removed.jsonl."""
        for name in ("train", "eval"):
            kept = []
            for example in getattr(self, name):
                reason = keep(example)
                if reason is None:
                    kept.append(example)
                else:
                    self._remove(example, reason)
            setattr(self, name, kept)

    def warn(self, message: str) -> None:
        """A warning on stderr (main process) that also goes into summary.json."""
        self.notes.append(message)
        if self.run_dir.is_main:
            warn(message)

    def _remove(self, example: Example, reason: str) -> None:
        self.removed.append(removal({"id": example.id, **example.row}, reason, self.command,
                                    source=str(example.loc)))


def prepare(command: str, options: TrainOptions, loader: Loader, *, model: str,
            data: str = "data", needs_markers: bool = True) -> Prepared:
    """Every check before weights load: the model exists, the run directory may be written,
    every record is valid, the held-out split, the chat template. `data` names the option
    holding the input; `needs_markers`: the method trains on assistant tokens, so the
    template must mark them (else the model's own template is kept)."""
    configure_libraries()
    started = time.perf_counter()
    if model != TINY:
        check_model_exists(model)
    check_attention(options.attn_implementation)
    device = pick_device(options.precision)
    state = process_state(device)
    run_dir = RunDir(options.output, state=state)
    sources = {name: getattr(options, name) for name in (data, "eval_data")
               if getattr(options, name, None) is not None}
    fingerprints = {name: fingerprint(source) for name, source in sources.items()}
    run_dir.check(resume=options.resume, overwrite=options.overwrite, data=fingerprints,
                  inputs=options.input_paths, force=options.force)
    check_report_to(options.report_to, run_dir)
    if options.push_to_hub:
        from train.hub import check_can_push

        check_can_push(options.push_to_hub)
    loaded = loader(sources[data], Rejects(options.on_error))
    if options.eval_data is not None:
        rejected_before = len(loaded.rejects)  # one Rejects: one rejects.jsonl for both files
        held_out = loader(options.eval_data, loaded.rejects)
        train, held = loaded.examples, held_out.examples
        loaded.n_in += held_out.n_in - rejected_before
        loaded.removed += held_out.removed
    else:
        train, held = split_eval(loaded.examples, options.eval_split, options.seed)
    run_dir.create(resume=options.resume, overwrite=options.overwrite, command=f"train {command}",
                   data=fingerprints)
    source = resolve_model(model, run_dir=run_dir.path, state=state, texts=loaded.texts(),
                           tiny=options.tiny, seed=options.seed, reuse=options.resume)
    tokenizer = load_tokenizer(source)
    if needs_markers or options.chat_template is not None or not tokenizer.chat_template:
        origin = resolve_template(tokenizer, options.chat_template, model_name=model)
    else:
        origin = f"{model}'s chat template"
    prepared = Prepared(command, options, run_dir, loaded, train, held, source, tokenizer, origin,
                        device, is_tiny_model(source), started=started)
    leaked = shared_prompts(train, held)
    loaded.extra.update({"eval_from": "file" if options.eval_data else "split by prompt",
                         "eval_prompts_in_train": leaked})
    if leaked:
        prepared.warn(f"{leaked} of {len(held)} held-out records share a prompt with training "
                      "records: held-out figures overstate what the model learned")
    for note in getattr(options, "ignored", []):
        prepared.warn(note)
    use_one_thread_for_tiny(prepared)
    return prepared


def use_one_thread_for_tiny(prepared: Prepared) -> None:
    """The tiny model's matrices are too small to split across CPU threads: one thread runs
    it faster (measured: several times on 2 busy cores), and leaves the others free."""
    if prepared.tiny and prepared.device.name == "cpu":
        import torch

        torch.set_num_threads(1)


def checkpointing(prepared: Prepared) -> bool:
    """Gradient checkpointing unless told otherwise: on for real models (it is what lets a
    long sequence fit), off for the tiny one (it would only cost time)."""
    chosen = prepared.options.gradient_checkpointing
    return not prepared.tiny if chosen is None else chosen


def trainer_args(prepared: Prepared, *, tiny_lr: float, lr: float) -> dict[str, Any]:
    """TrainingArguments fields every TRL config here shares (`lr`: the default learning rate
    for real models, `tiny_lr` for the tiny one)."""
    options, device = prepared.options, prepared.device
    evaluate_during = bool(prepared.eval) and options.eval_steps is not None
    model_kwargs = {"attn_implementation": options.attn_implementation} \
        if options.attn_implementation else {}
    return {
        "output_dir": str(prepared.run_dir.checkpoints),
        "per_device_train_batch_size": options.batch_size,
        "per_device_eval_batch_size": options.batch_size,
        "gradient_accumulation_steps": options.grad_accum,
        "learning_rate": options.lr or (tiny_lr if prepared.tiny else lr),
        "num_train_epochs": options.epochs,
        "max_steps": options.max_steps,
        "lr_scheduler_type": options.lr_scheduler,
        "warmup_steps": options.warmup_ratio,
        "logging_steps": options.logging_steps,
        "eval_strategy": "steps" if evaluate_during else "no",
        "eval_steps": options.eval_steps,
        "save_strategy": "steps",
        "save_steps": options.save_steps,
        "save_total_limit": options.save_total_limit,
        "seed": options.seed,
        "data_seed": options.seed,
        "report_to": options.report_to,
        _checkpointing_field(): checkpointing(prepared),
        "disable_tqdm": True,
        "ddp_find_unused_parameters": False,  # every trained weight gets a gradient
        **({"model_init_kwargs": model_kwargs} if model_kwargs else {}),
        **device.trainer_args,
    }


def trainer_inputs(prepared: Prepared, lora_task: str,
                   row: Callable[[Example], dict[str, Any]] = lambda example: example.row
                   ) -> dict[str, Any]:
    """What every TRL trainer here is given besides its config: the model, the train and eval
    datasets (`row` of each example), the tokenizer, and the LoRA config (`lora_task`)."""
    return {"model": prepared.model_source,
            "train_dataset": dataset([row(example) for example in prepared.train]),
            "eval_dataset": dataset([row(example) for example in prepared.eval])
            if prepared.eval else None,
            "processing_class": prepared.tokenizer,
            "peft_config": lora(prepared.options, lora_task)}


def dataset(rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(rows)


def lora(options: TrainOptions, task: str) -> Any:
    """peft's LoRA config for `--lora` (`task`: CAUSAL_LM or SEQ_CLS), or None."""
    from train.models import lora_config

    return lora_config(options.lora, task) if options.lora else None


def make_config(config_class: type, common: dict[str, Any], options: Any, **method: Any) -> Any:
    """The TRL config: shared fields, then the method's, then the user's `trainer_args`."""
    values = {**common, **method, **options.trainer_args}
    fields = getattr(config_class, "__dataclass_fields__", {})
    unknown = sorted(set(options.trainer_args) - set(fields))
    if unknown:
        raise ValueError(f"trainer_args: {config_class.__name__} has no field "
                         f"{', '.join(map(repr, unknown))}")
    return config_class(**values)


def _checkpointing_field() -> str:
    """transformers 5 renamed `gradient_checkpointing` to `activation_checkpointing`."""
    from transformers import TrainingArguments

    fields = TrainingArguments.__dataclass_fields__
    return "activation_checkpointing" if "activation_checkpointing" in fields \
        else "gradient_checkpointing"


def finish(prepared: Prepared, trainer: Any, *, method: str, extra: dict[str, Any] | None = None,
           evaluation_extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train (resuming if asked), evaluate, save, plot, and write summary.json."""
    from transformers import PrinterCallback, ProgressCallback

    from train.callbacks import MetricsLog, TrainProgress

    run_dir, options = prepared.run_dir, prepared.options
    trainer.remove_callback(ProgressCallback)
    trainer.remove_callback(PrinterCallback)
    trainer.add_callback(TrainProgress(f"train {prepared.command}"))
    trainer.add_callback(MetricsLog(run_dir))
    run_dir.write_config(resolved_config(prepared, trainer))
    run_dir.write_removed(prepared.removed, prepared.data.rejects.records
                          if options.on_error == "skip" else None)
    with plotter(prepared) as plots:
        cpu_started = time.process_time()
        output = trainer.train(resume_from_checkpoint=run_dir.last_checkpoint()
                               if options.resume else None)
        train_cpu_s = time.process_time() - cpu_started
        evaluation = trainer.evaluate() if prepared.eval else {}
        rows = run_dir.read_metrics()
        with curves_drawn(plots, prepared, rows, method):  # drawn while the model is saved
            saved = save_final_model(prepared, trainer)
    summary = build_summary(prepared, trainer, output.metrics, evaluation, rows,
                            {"train_cpu_s": round(train_cpu_s, 2), **saved, **(extra or {})},
                            evaluation_extra or {})
    publish(prepared, summary)
    end_process_group()
    return summary


def end_process_group() -> None:
    """Leave the distributed run (torchrun, accelerate launch) cleanly: a process that exits
    with its process group alive can abort in teardown ("terminate called without an active
    exception"), failing a run that finished. Nothing to do in a single process."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextmanager
def plotter(prepared: Prepared) -> Iterator[Any]:
    """A `train.plots.Plotter` for the run (drawing in the main process only), stopped when
    the block ends."""
    from train.plots import Plotter

    plots = Plotter(enabled=prepared.run_dir.is_main, on_failure=prepared.warn)
    try:
        yield plots
    finally:
        plots.close()


def curves_drawn(plots: Any, prepared: Prepared, rows: list[dict[str, Any]],
                 method: str) -> Any:
    """`plots.drawing(...)` for this run's folder and title."""
    return plots.drawing(rows, prepared.run_dir.path, method,
                         f"train {prepared.command}: {prepared.run_dir.path.name}")


def publish(prepared: Prepared, summary: dict[str, Any]) -> None:
    """The model card, summary.json (last: it marks a finished run), the one-line summary,
    and the upload to the hub when asked. The plots are drawn by then."""
    run_dir = prepared.run_dir
    if run_dir.is_main:
        from train.hub import write_model_card

        write_model_card(run_dir.path, summary)
        run_dir.write_summary(summary)
        print(summary_line(prepared, summary), file=sys.stderr)
        if prepared.options.push_to_hub:
            from train.hub import push

            url = push(run_dir.path, prepared.options.push_to_hub,
                       private=prepared.options.hub_private)
            print(f"train {prepared.command}: uploaded to {url}", file=sys.stderr)


def save_final_model(prepared: Prepared, trainer: Any) -> dict[str, str]:
    """The final model (LoRA merged in, adapter kept in RUN_DIR/adapter) and tokenizer.

    Under ZeRO-3 or FSDP each process holds a shard of the weights: the adapter is saved
    by the trainer (which gathers it), and the full state dict is gathered on every process
    (accelerate's collective) before the main process merges it into the base model."""
    from train.models import full_state_dict, merged, weight_sharding

    run_dir = prepared.run_dir
    if prepared.options.lora is None:
        run_dir.save_model(trainer.model, prepared.tokenizer, save=trainer.save_model)
        return {}
    trainer.save_model(str(run_dir.path / "adapter"))
    sharding = weight_sharding(trainer.accelerator)
    state = full_state_dict(trainer.model_wrapped if sharding == "zero3" else trainer.model,
                            sharding, trainer.accelerator)
    if run_dir.is_main:
        model = merged(trainer.accelerator.unwrap_model(trainer.model), state,
                       prepared.model_source)
        run_dir.save_model(model, prepared.tokenizer)
    return {"lora_merged": f"from the full state dict gathered across {sharding} shards"
            if sharding else "in the trained model"}


def check_report_to(report_to: str, run_dir: RunDir) -> None:
    """Fail early when the chosen tracker is not installed."""
    package = {"tensorboard": "tensorboard", "wandb": "wandb"}.get(report_to)
    if package is None:
        return
    if importlib.util.find_spec(package) is None and (
            package != "tensorboard" or importlib.util.find_spec("tensorboardX") is None):
        raise ValueError(f"--report-to {report_to}: the `{package}` package is not installed "
                         f"(pip install {package})")
    if package == "tensorboard":
        os.environ.setdefault("TENSORBOARD_LOGGING_DIR", str(run_dir.path / "tensorboard"))


def configure_libraries() -> None:
    """Quiet library chatter (our progress bar and summary say what matters): progress bars,
    info logs, and deprecation notices about calls inside TRL that users cannot act on."""
    import warnings

    import datasets
    import transformers

    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # we use trl.experimental.cpo knowingly
    warnings.filterwarnings("ignore", message=r".*deprecated and will be removed in v6",
                            category=FutureWarning)
    datasets.disable_progress_bars()
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
