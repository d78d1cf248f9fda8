"""OpenAssistant message trees -> SFT threads or ranked preference pairs.

Input shapes (auto-detected per row):

* "trees" export: `{"message_tree_id", "tree_state", "prompt": node}`, one tree per row;
* nested "messages" export: a root message with its `replies` nested, one tree per row;
* flat "messages" export: one message per row linked by `parent_id`; rows are
  grouped into trees, and a dangling `parent_id` or a cycle is reported, never looped on.

Nodes are dropped with their subtree when deleted, review-failed (`review_result`
false), synthetic (if asked) or in another language (if `langs` is set).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal

from pydantic import ValidationError

from curate.formats.fields import provenance
from curate.io import BadRecord, Loc, Rejects
from schemas import OasstNode, OasstTree, first_error

ROLE = {"prompter": "user", "assistant": "assistant"}


@dataclass
class TreeUnit:
    """One tree and the input rows it was built from (one row, or many for the flat export)."""

    root: OasstNode
    tree_id: str
    locs: list[Loc]
    rows: list[dict[str, Any]]
    tree_state: str | None = None
    duplicate_of: Loc | None = None  # the same tree was read before, there


@dataclass
class TreeOptions:
    mode: Literal["best", "all"] = "best"
    pairs: Literal["all", "extremes"] = "all"
    langs: list[str] = field(default_factory=list)
    drop_synthetic: bool = False
    unranked: Literal["first", "skip"] = "first"
    tree_states: list[str] = field(default_factory=list)


def is_tree_row(record: dict[str, Any]) -> bool:
    return "message_tree_id" in record and isinstance(record.get("prompt"), dict)


def is_message_row(record: dict[str, Any]) -> bool:
    return "message_id" in record and record.get("role") in ROLE


# --- assembling trees -------------------------------------------------------------------

def tree_units(rows: Iterable[tuple[Loc, dict[str, Any]]], rejects: Rejects) -> Iterator[TreeUnit]:
    """Trees from any export. Nested rows stream; flat rows are grouped first. A tree read a
    second time (real exports repeat some) comes with `duplicate_of` set."""
    flat: list[tuple[Loc, dict[str, Any]]] = []
    seen: dict[str, Loc] = {}

    def unit(root: OasstNode, tree_id: str, loc: Loc, record: dict[str, Any],
             state: str | None) -> TreeUnit:
        first = seen.setdefault(tree_id, loc)
        return TreeUnit(root, tree_id, [loc], [record], state,
                        None if first is loc else first)

    for loc, record in rows:
        if is_tree_row(record):
            tree = _validated(OasstTree, record, loc, rejects)
            if tree and _consistent(tree.prompt, loc, "prompt", record, rejects):
                yield unit(tree.prompt, tree.message_tree_id, loc, record,
                           record.get("tree_state"))
        elif record.get("replies") and record.get("parent_id") is None:
            root = _validated(OasstNode, record, loc, rejects)
            if root and _consistent(root, loc, "", record, rejects):
                yield unit(root, str(record.get("message_tree_id") or root.message_id), loc,
                           record, record.get("tree_state"))
        else:
            flat.append((loc, record))
    yield from _assemble_flat(flat, rejects)


def _validated(model: type, record: dict[str, Any], loc: Loc, rejects: Rejects) -> Any:
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        path, message = first_error(exc)
        rejects(BadRecord(loc, path, message, reason="invalid_record", record=record))
        return None


def _consistent(root: OasstNode, loc: Loc, path: str, record: dict[str, Any], rejects: Rejects) -> bool:
    """Every child's `parent_id` names its parent; no message id repeats."""
    seen: set[str] = set()
    stack = [(root, path)]
    while stack:
        node, where = stack.pop()
        if node.message_id in seen:
            rejects(BadRecord(loc, f"{where}.message_id".lstrip("."), f"message id {node.message_id!r} "
                              "appears twice in the tree (a cycle)", reason="oasst_cycle", record=record))
            return False
        seen.add(node.message_id)
        for index, child in enumerate(node.replies):
            child_path = f"{where}.replies[{index}]".lstrip(".")
            if child.parent_id is not None and child.parent_id != node.message_id:
                rejects(BadRecord(loc, f"{child_path}.parent_id", f"dangling parent_id "
                                  f"{child.parent_id!r}: the enclosing message is {node.message_id!r}",
                                  reason="oasst_dangling_parent", record=record))
                return False
            stack.append((child, child_path))
    return True


def _assemble_flat(rows: list[tuple[Loc, dict[str, Any]]], rejects: Rejects) -> Iterator[TreeUnit]:
    nodes: dict[str, tuple[Loc, dict[str, Any], OasstNode]] = {}
    for loc, record in rows:
        node = _validated(OasstNode, {**record, "replies": []}, loc, rejects)
        if node is None:
            continue
        if node.message_id in nodes:
            rejects(BadRecord(loc, "message_id", f"duplicate message id {node.message_id!r} "
                              f"(first at {nodes[node.message_id][0]})", reason="oasst_duplicate_id",
                              record=record))
            continue
        nodes[node.message_id] = (loc, record, node)
    children: dict[str, list[str]] = defaultdict(list)
    roots = []
    for message_id, (loc, record, node) in nodes.items():
        if node.parent_id is None:
            roots.append(message_id)
        elif node.parent_id in nodes:
            children[node.parent_id].append(message_id)
        else:
            rejects(BadRecord(loc, "parent_id", f"dangling parent_id {node.parent_id!r}: no such message",
                              reason="oasst_dangling_parent", record=record))
    reached: set[str] = set()
    for root_id in roots:
        locs, records, stack = [], [], [root_id]
        while stack:
            message_id = stack.pop()
            reached.add(message_id)
            loc, record, node = nodes[message_id]
            locs.append(loc)
            records.append(record)
            node.replies = [nodes[c][2] for c in children[message_id]]
            stack.extend(reversed(children[message_id]))
        root_record = nodes[root_id][1]
        yield TreeUnit(nodes[root_id][2], str(root_record.get("message_tree_id") or root_id), locs, records)
    for message_id, (loc, record, node) in nodes.items():
        if message_id not in reached and node.parent_id in nodes:
            rejects(BadRecord(loc, "parent_id", "message is not connected to a root (a cycle, or "
                              "its ancestor was rejected)", reason="oasst_cycle", record=record))


# --- pruning and threads ----------------------------------------------------------------

def drop_reason(node: OasstNode, options: TreeOptions) -> str | None:
    if node.deleted:
        return "deleted"
    if node.review_result is False:
        return "review_failed"
    if options.drop_synthetic and node.synthetic:
        return "synthetic"
    if options.langs and not lang_matches(node.lang, options.langs):
        return "lang"
    return None


def lang_matches(code: str | None, wanted: list[str]) -> bool:
    """`pt` matches `pt-BR`; case does not matter."""
    from curate.text.languages import matches_any

    return matches_any(wanted, code)


def empty_reason(unit: TreeUnit, options: TreeOptions, kind: str) -> str:
    """Why a tree gave no record."""
    if options.tree_states and unit.tree_state not in options.tree_states:
        return "oasst_tree_state"
    if root_reason := drop_reason(unit.root, options):
        return f"oasst_{root_reason}"
    return "oasst_no_ranked_pair" if kind == "pairs" else "oasst_no_assistant_reply"


def prune(root: OasstNode, options: TreeOptions, dropped: Counter[str]) -> OasstNode | None:
    """A copy of the tree without dropped nodes; `dropped` counts nodes (subtrees included).
    Iterative: a 20,000-message chain is as fine as a bushy tree."""
    if reason := drop_reason(root, options):
        dropped[reason] += _size(root)
        return None
    copies = {id(root): root.model_copy(update={"replies": []})}
    stack = [root]
    while stack:
        node = stack.pop()
        for child in node.replies:
            if reason := drop_reason(child, options):
                dropped[reason] += _size(child)
                continue
            copy = child.model_copy(update={"replies": []})
            copies[id(node)].replies.append(copy)
            copies[id(child)] = copy
            stack.append(child)
    return copies[id(root)]


def _size(root: OasstNode) -> int:
    size, stack = 0, [root]
    while stack:
        node = stack.pop()
        size += 1
        stack.extend(node.replies)
    return size


def _by_rank(replies: list[OasstNode]) -> list[OasstNode]:
    """Ranked replies first (rank 0 is best), unranked after, export order breaking ties."""
    return sorted(replies, key=lambda n: (n.rank is None, n.rank if n.rank is not None else 0))


def best_thread(root: OasstNode, unranked: Literal["first", "skip"] = "first",
                counts: Counter[str] | None = None) -> list[OasstNode]:
    """The rank-0 reply at every step. Where siblings have no rank, `unranked` decides: the
    first listed (`first`, counted as `unranked_first`) or the thread ends (`skip`)."""
    path = [root]
    while path[-1].replies:
        replies = path[-1].replies
        best = _by_rank(replies)[0]
        if best.rank is None and len(replies) > 1:
            if unranked == "skip":
                if counts is not None:
                    counts["unranked_stop"] += 1
                break
            if counts is not None:
                counts["unranked_first"] += 1
        path.append(best)
    return _ending_on_assistant(path)


def all_threads(root: OasstNode) -> list[list[OasstNode]]:
    """One thread per leaf; a prompter leaf gives the thread ending at its parent (once)."""
    threads, ends = [], set()
    stack: list[list[OasstNode]] = [[root]]
    while stack:
        path = stack.pop()
        if path[-1].replies:
            stack.extend(path + [child] for child in reversed(path[-1].replies))
            continue
        thread = _ending_on_assistant(path)
        if thread and thread[-1].message_id not in ends:
            ends.add(thread[-1].message_id)
            threads.append(thread)
    return threads


def _ending_on_assistant(path: list[OasstNode]) -> list[OasstNode]:
    while path and path[-1].role != "assistant":
        path = path[:-1]
    return path


def ranked_pairs(root: OasstNode, which: Literal["all", "extremes"]) -> Iterator[tuple[list[OasstNode], OasstNode, OasstNode]]:
    """`(prompt path, better, worse)` for ranked sibling replies of every prompter message."""
    stack = [[root]]
    while stack:
        path = stack.pop()
        node = path[-1]
        ranked = [r for r in _by_rank(node.replies) if r.rank is not None]
        if node.role == "prompter" and len(ranked) >= 2:
            chosen_pairs = combinations(ranked, 2) if which == "all" else [(ranked[0], ranked[-1])]
            for better, worse in chosen_pairs:
                yield path, better, worse
        stack.extend(path + [child] for child in reversed(node.replies))


def _messages(path: list[OasstNode]) -> list[dict[str, str]]:
    return [{"role": ROLE[n.role], "content": n.text} for n in path]


def _labels(path: list[OasstNode]) -> dict[str, Any]:
    return {n.message_id: n.labels for n in path if n.labels}


def convert_tree(unit: TreeUnit, options: TreeOptions, kind: Literal["sft", "pairs"],
                 dropped: Counter[str]) -> list[dict[str, Any]]:
    """Canonical records from one tree (empty when nothing survives)."""
    if options.tree_states and unit.tree_state not in options.tree_states:
        return []
    root = prune(unit.root, options, dropped)
    if root is None:
        return []
    source = provenance("oasst", unit.locs[0], message_tree_id=unit.tree_id)
    if kind == "pairs":
        return [{"id": f"{better.message_id}>{worse.message_id}", "prompt": _messages(path),
                 "chosen": _messages([better]), "rejected": _messages([worse]),
                 "meta": {"source": source, "parent_id": path[-1].message_id,
                          "chosen_id": better.message_id, "rejected_id": worse.message_id,
                          "chosen_rank": better.rank, "rejected_rank": worse.rank,
                          "lang": root.lang, "labels": _labels(path + [better, worse])}}
                for path, better, worse in ranked_pairs(root, options.pairs)]
    threads = [best_thread(root, options.unranked, dropped)] if options.mode == "best" \
        else all_threads(root)
    return [{"id": unit.tree_id if options.mode == "best" else f"{unit.tree_id}:{t[-1].message_id}",
             "messages": _messages(t),
             "meta": {"source": source, "message_ids": [n.message_id for n in t],
                      "ranks": [n.rank for n in t], "lang": root.lang, "labels": _labels(t)}}
            for t in threads if t]
