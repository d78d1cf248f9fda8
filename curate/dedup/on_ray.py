"""Dedup's heavy phases on Ray (`curate run --engine ray`), with the local functions.

* Sketching: `sketch` over blocks of texts in `map_batches`.
* Candidates: band keys are exploded to `(band, key, member)` rows and grouped by band with
  Ray's groupby; each band's group sorts its keys (`buckets`, one band at a time) and emits
  the members of buckets holding two or more texts.
* Verification: the candidate texts and signatures are put once in Ray's object store;
  blocks of buckets are checked by `connect` on the workers, which return, per member, the
  smallest member it was joined to.
* Components: the driver unions those links. Pairs are never gathered anywhere; the
  driver holds the bucket memberships (about bands x texts with a near twin) and one link
  per joined member.

Limits: each band's group holds one key and one index per text (12 bytes), so a band must
fit one worker; the recipe runner keeps the records themselves on the driver.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np

from curate.dedup.backend import Backend, Phase
from curate.dedup.banding import Buckets, buckets
from curate.dedup.clustering import connect
from curate.dedup.progress import Advance
from curate.dedup.similarity import Side, Similarity
from curate.dedup.sketch import Sketches, SketchSpec, sketch
from curate.dedup.unionfind import UnionFind
from curate.raydata import BATCH, map_rows, ray_data


def sketch_on_ray(texts: list[str], spec: SketchSpec, workers: int,
                  advance: Advance) -> Sketches:
    """`sketch` of every text, block by block on the workers, in order."""
    data = ray_data()

    def sketch_block(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        part = sketch(batch["text"].tolist(), spec)
        return {"keys": part.keys, "words": part.words, "signatures": part.signatures}

    out = Sketches(np.zeros((0, 2), np.uint64), np.zeros(0, np.int64),
                   np.zeros((0, spec.num_perm), np.uint32))
    if texts:
        dataset = data.from_items([{"text": text} for text in texts],
                                  override_num_blocks=max(1, min(64, len(texts) // BATCH)))
        parts = list(dataset.map_batches(sketch_block, batch_format="numpy", batch_size=BATCH)
                     .iter_batches(batch_format="numpy", batch_size=None))
        out = Sketches(*(np.concatenate([part[name] for part in parts]).astype(dtype)
                         for name, dtype in (("keys", np.uint64), ("words", np.int64),
                                             ("signatures", np.uint32))))
        out.signatures = out.signatures.reshape(len(texts), spec.num_perm)
    advance(len(texts))
    return out


def link_on_ray(keys: np.ndarray, members: np.ndarray, side: Side, similarity: Similarity,
                union_find: UnionFind, phase: Phase) -> dict[str, Any]:
    """Join in `union_find` every verified pair of texts sharing a band key."""
    with phase("candidates", keys.shape[1]) as advance:
        bucket, member = _shared_buckets(keys, members)
        advance(keys.shape[1])
    if not len(member):
        return {"buckets": 0, "candidate_members": 0, "candidate_pairs": 0, "verified_pairs": 0,
                "links": 0}
    with phase("verify") as advance:
        import ray

        candidates, local = np.unique(member, return_inverse=True)  # distinct-text indices
        docs = ray.put({"texts": [side.texts[i] for i in side.at(candidates).tolist()],
                        "signatures": side.signatures[side.at(candidates)]})
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        groups = np.split(local, starts[1:])
        rows = map_rows([{"members": json.dumps(group.tolist())} for group in groups],
                        lambda batch: _verify_block(batch, docs, similarity), batch_size=256)
        advance(len(groups))
    blocks = [json.loads(row["block"]) for row in rows]
    pairs = np.array([pair for block in blocks for pair in block["links"]], np.int64).reshape(-1, 2)
    union_find.union(candidates[pairs[:, 0]], candidates[pairs[:, 1]])
    counts = [block["stats"] for block in blocks]
    similarity.exact_checks += sum(count["exact_checks"] for count in counts)
    return {"buckets": len(groups), "candidate_members": len(candidates),
            "candidate_pairs": sum(count["candidate_pairs"] for count in counts),
            "verified_pairs": sum(count["verified_pairs"] for count in counts),
            "links": len(pairs)}


def _shared_buckets(keys: np.ndarray, members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`(bucket, member)` of every bucket with two or more members, grouped by band on Ray;
    sorted by bucket, then member."""
    import pyarrow as pa

    data = ray_data()
    table = pa.table({"member": members.astype(np.int64),
                      **{f"b{band}": keys[:, band] for band in range(keys.shape[1])}})

    def explode(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        bands = [name for name in batch if name != "member"]
        return {"band": np.repeat(np.arange(len(bands), dtype=np.int64), len(batch["member"])),
                "key": np.concatenate([batch[name] for name in bands]).astype(np.int64),
                "member": np.tile(batch["member"], len(bands))}

    def band_buckets(group: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        found = buckets(group["key"].astype(np.uint32)[:, None])  # this band's buckets
        member = group["member"][found.members]
        key = group["key"][found.members].astype(np.uint64)
        band = np.uint64(group["band"][0]) if len(group["band"]) else np.uint64(0)
        return {"bucket": (band << np.uint64(32)) | key, "member": member}

    grouped = (data.from_arrow(table).map_batches(explode, batch_format="numpy")
               .groupby("band").map_groups(band_buckets, batch_format="numpy"))
    parts = list(grouped.iter_batches(batch_format="numpy", batch_size=None))
    bucket = np.concatenate([p["bucket"] for p in parts]).astype(np.uint64) if parts else \
        np.zeros(0, np.uint64)
    member = np.concatenate([p["member"] for p in parts]).astype(np.int64) if parts else \
        np.zeros(0, np.int64)
    order = np.lexsort((member, bucket))
    return bucket[order], member[order]


def _verify_block(rows: list[dict[str, Any]], docs: Any, similarity: Similarity
                  ) -> list[dict[str, Any]]:
    """`connect` over one block of buckets; the links (member, its root) of joined members."""
    import ray

    shared = ray.get(docs)
    groups = [np.array(json.loads(row["members"]), np.int64) for row in rows]
    ids, local = np.unique(np.concatenate(groups), return_inverse=True)
    sizes = [len(group) for group in groups]
    found = Buckets(local.astype(np.int32),
                    np.repeat(np.arange(len(sizes), dtype=np.int32), sizes))
    side = Side([shared["texts"][i] for i in ids.tolist()], shared["signatures"][ids])
    check = replace(similarity, exact_checks=0)  # this block's own counter
    union_find = UnionFind(len(ids))
    result = connect(found, lambda a, b: check.passes(side, a, side, b), union_find)
    roots = union_find.roots()
    joined = np.flatnonzero(roots != np.arange(len(ids)))
    stats = {"candidate_pairs": result.candidate_pairs, "verified_pairs": result.verified_pairs,
             "exact_checks": check.exact_checks}
    links = [[int(ids[i]), int(ids[roots[i]])] for i in joined.tolist()]
    return [{"block": json.dumps({"links": links, "stats": stats})}]  # one row per block


RAY = Backend(sketch_on_ray, link_on_ray)
