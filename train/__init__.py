"""Training on curated data: `train sft | rm | dpo | ppo`.

Entry points for code: `train.sft.train_sft`, `train.rm.train_rm`, `train.dpo.train_dpo` and
`train.ppo_run.train_ppo`, each taking its options model from `train.options`;
`train.tiny.build_tiny_model` builds the embedded tiny model.
"""
