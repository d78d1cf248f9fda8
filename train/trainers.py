"""TRL trainers with the preference metrics TRL leaves out: completion lengths (`lengths/*`,
in tokens) and, for CPO/SimPO, the trained-token count behind tokens/s; DPO takes
pre-tokenised pairs."""

from __future__ import annotations

from trl import DPOTrainer
from trl.experimental.cpo import CPOTrainer


class LengthLoggingDPOTrainer(DPOTrainer):
    """Also takes pairs already tokenised (`prompt_ids`, `chosen_ids`, `rejected_ids`, made by
    `train.dpo.measure` with TRL's own rule), so a pair is tokenised once, not twice."""

    def _prepare_dataset(self, dataset, processing_class, args, dataset_name):
        if "prompt_ids" in dataset.column_names:
            return dataset
        return super()._prepare_dataset(dataset, processing_class, args, dataset_name)

    def _compute_loss(self, model, inputs, return_outputs):
        mode = "train" if self.model.training else "eval"
        chosen, rejected = inputs["completion_mask"].sum(dim=1).float().chunk(2)
        for side, lengths in (("chosen", chosen), ("rejected", rejected)):
            self._metrics[mode][f"lengths/{side}"].append(
                self.accelerator.gather(lengths).mean().item())
        return super()._compute_loss(model, inputs, return_outputs)


class LengthLoggingSimPOTrainer(CPOTrainer):
    _train_tokens = 0

    def get_batch_loss_metrics(self, model, batch, train_eval="train"):
        loss, metrics = super().get_batch_loss_metrics(model, batch, train_eval)
        prefix = "eval_" if train_eval == "eval" else ""
        for side in ("chosen", "rejected"):
            lengths = (batch[f"{side}_labels"] != -100).sum(dim=1).float()
            metrics[f"{prefix}lengths/{side}"] = self.accelerator.gather(lengths).mean().item()
        if train_eval == "train":
            tokens = batch["chosen_attention_mask"].sum() + batch["rejected_attention_mask"].sum()
            self._train_tokens += int(self.accelerator.gather(tokens).sum().item())
        return loss, metrics

    def log(self, logs, start_time=None):
        if "loss" in logs:
            logs["num_tokens"] = float(self._train_tokens)
        super().log(logs, start_time)
