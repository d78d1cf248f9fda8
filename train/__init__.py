"""Training on curated data: `train sft | rm | dpo | ppo | grpo`, and `train generate | eval`.

Entry points for code: `train.sft.train_sft`, `train.rm.train_rm`, `train.dpo.train_dpo`,
`train.ppo_run.train_ppo`, `train.grpo.train_grpo`, `train.generate.run_generate` and
`train.evaluate.run_eval`, each taking its options model from `train.options`;
`train.tiny.build_tiny_model` builds the embedded tiny model.
"""
