"""`select_records`: quality, then difficulty, then diversity, with every record accounted for.

1. **Quality** drops broken records with the filter rules of the `reasoning` preset.
2. **Difficulty** scores the rest (`curate.select.signals`); `drop_solved` drops what a
   model solved (seed-set records are exempt).
3. **Diversity** assigns domains and runs the s1 loop (`curate.select.sampling`) over the
   remaining candidates until k records are chosen; seed-set records come first.

`in == selected + removed (+ rejected)`: each removed record carries its stage and reason.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from curate.io import Loc, Rejects
from curate.select.difficulty import Difficulty, measure_difficulty
from curate.select.domains import cluster_domains
from curate.select.fields import Fields, read_fields
from curate.select.options import SelectOptions
from curate.select.progress import Track, no_progress
from curate.select.quality import quality_stage
from curate.select.report import Pool, describe
from curate.select.sampling import domain_weights, s1_sample
from curate.select.seed_set import seed_mask
from curate.step import StepResult, removal

STEP = "select"
_BASELINE_STREAM = 1  # the random baseline draws from its own seeded stream


def select_records(records: list[dict[str, Any]], options: SelectOptions, *,
                   locs: list[Loc] | None = None, rejects: Rejects | None = None,
                   track: Track = no_progress) -> StepResult:
    """Select `options.k` records; removed lines name the stage (quality, difficulty, diversity).

    `locs` (file:line of each record) make error messages precise; bad records raise, or go
    to `rejects` when it is in skip mode.
    """
    if locs is None:
        locs = [Loc("<records>", number) for number in range(1, len(records) + 1)]
    rejects = Rejects("raise") if rejects is None else rejects
    rejected_before = len(rejects)
    usable, fields = read_fields(records, locs, options, rejects)
    pool = [records[i] for i in usable]
    removed: list[dict[str, Any]] = []
    if options.quality:
        passed, removed = quality_stage(pool, options, track("quality", len(pool)))
        pool, fields = [pool[i] for i in passed], fields.subset(passed)
    seeds = np.asarray(seed_mask(pool, options.seed_set), dtype=bool)
    if seeds.sum() > options.k:
        raise ValueError(f"seed_set: the rules match {int(seeds.sum())} records, more than "
                         f"k={options.k}")
    domains = _domains(fields, options, track)
    domain_weights(options.domain_weights, Counter(domains))  # fail before the model signals
    difficulty = measure_difficulty(fields, options, track)
    dropped = difficulty.solved & ~seeds if options.drop_solved else np.zeros(len(pool), bool)
    candidates = np.flatnonzero(~dropped & ~seeds)
    rng = np.random.default_rng(options.seed)
    weights = domain_weights(options.domain_weights, Counter(domains[i] for i in candidates))
    picks = s1_sample([domains[i] for i in candidates], difficulty.score[candidates],
                      options.k - int(seeds.sum()), rng, weights, options.domain_draw)
    order = [int(i) for i in np.flatnonzero(seeds)] + [int(candidates[i]) for i in picks]

    def details(position: int) -> dict[str, Any]:
        return _details(position, domains, difficulty, bool(seeds[position]))

    kept = [_annotate(pool[position], {"order": rank, **details(position)})
            for rank, position in enumerate(order)]
    chosen = set(order)
    removed += [removal(pool[i], "solved", STEP, stage="difficulty", **details(i))
                for i in np.flatnonzero(dropped)]
    removed += [removal(pool[i], "not_sampled", STEP, stage="diversity", **details(i))
                for i in candidates if i not in chosen]
    extra = _stats(options, len(records), removed, len(rejects) - rejected_before, len(kept),
                   int(seeds.sum()), len(weights))
    if options.report:
        extra["report"] = _report(options, pool, fields, domains, difficulty, order,
                                  extra["funnel"])
    return StepResult(kept=kept, removed=removed, extra=extra)


def _domains(fields: Fields, options: SelectOptions, track: Track) -> list[str]:
    if not options.diversity:
        return ["all"] * len(fields.prompts)
    if options.domain_field:
        return fields.domains
    done = track("domains (k-means)", 1)
    domains = cluster_domains(fields.prompts, clusters=options.clusters,
                              embed_model=options.embed_model, seed=options.seed,
                              batch_size=options.batch_size)
    done(1)
    return domains


def _details(position: int, domains: list[str], difficulty: Difficulty,
             seeded: bool) -> dict[str, Any]:
    info: dict[str, Any] = {
        "domain": domains[position],
        "difficulty": round(float(difficulty.score[position]), 6),
        "signals": {spec: _plain(values[position]) for spec, values in difficulty.values.items()},
        "seed_set": seeded,
    }
    if difficulty.model_answers is not None:
        info["solved"] = bool(difficulty.solved[position])
        info["model_answers"] = difficulty.model_answers[position]
    return info


def _annotate(record: dict[str, Any], info: dict[str, Any]) -> dict[str, Any]:
    """The record with its selection details in `meta.select`."""
    return {**record, "meta": {**(record.get("meta") or {}), "select": info}}


def _plain(value: Any) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)


def _stats(options: SelectOptions, size: int, removed: list[dict[str, Any]], rejected: int,
           selected: int, seeded: int, domains: int) -> dict[str, Any]:
    by_stage = Counter(line["stage"] for line in removed)
    funnel = {"in": size, "rejected": rejected,
              **{f"removed_{stage}": by_stage.get(stage, 0)
                 for stage in ("quality", "difficulty", "diversity")},
              "selected": selected}
    return {"k": options.k, "short_by": options.k - selected, "seed_set": seeded,
            "domains": domains, "signals": options.difficulty, "funnel": funnel}


def _report(options: SelectOptions, pool: list[dict[str, Any]], fields: Fields,
            domains: list[str], difficulty: Difficulty, order: list[int],
            funnel: dict[str, int]) -> dict[str, Any]:
    baseline_rng = np.random.default_rng([options.seed, _BASELINE_STREAM])
    baseline = sorted(baseline_rng.choice(len(pool), size=min(options.k, len(pool)),
                                          replace=False).tolist())
    solved = difficulty.solved if any(s.kind in ("model-solve", "labels")
                                      for s in options.signals) else None
    described = Pool(records=pool, domains=domains, score=difficulty.score,
                     values=difficulty.values, solved=solved, answers=fields.answers,
                     question_field=options.prompt_field or "prompt")
    return {"k": options.k, "seed": options.seed, "options": options.model_dump(),
            "funnel": funnel, "pool": {"size": len(pool), "domains": len(set(domains))},
            "selection": describe(described, order), "random": describe(described, baseline)}
