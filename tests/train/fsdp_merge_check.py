"""Run under `torchrun --nproc_per_node 2` (gloo, CPU) by test_distributed.py: shard a LoRA
model with FSDP2, gather its full state dict with `train.models.full_state_dict` on every
process, merge it on rank 0 with `train.models.merged`, and compare with merging an
unsharded copy. Writes the outcome as JSON to argv[2]."""

from __future__ import annotations

import copy
import json
import sys

import torch
import torch.distributed as dist
from peft import LoraConfig, get_peft_model
from torch.distributed.fsdp import fully_shard
from transformers import AutoModelForCausalLM

from train.models import full_state_dict, merged

source, out = sys.argv[1], sys.argv[2]
dist.init_process_group("gloo")
torch.manual_seed(0)  # the same random adapter on both processes
model = get_peft_model(AutoModelForCausalLM.from_pretrained(source), LoraConfig(
    r=4, lora_alpha=8, target_modules="all-linear", init_lora_weights=False,
    task_type="CAUSAL_LM"))
expected = copy.deepcopy(model).merge_and_unload().state_dict()
for layer in model.base_model.model.model.layers:
    fully_shard(layer)
fully_shard(model)
kind = [None, None]
dist.all_gather_object(kind, type(model.base_model.model.lm_head.weight).__name__)
state = full_state_dict(model, "fsdp")
if dist.get_rank() == 0:
    result = merged(model, state, source).state_dict()
    base = AutoModelForCausalLM.from_pretrained(source).state_dict()
    outcome = {"sharded": kind, "keys_match": result.keys() == expected.keys(),
               "max_difference": max((result[k] - expected[k]).abs().max().item()
                                     for k in expected),
               "changed_by_the_adapter": sum(not torch.equal(result[k], base[k]) for k in base)}
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(outcome, handle)
dist.destroy_process_group()
