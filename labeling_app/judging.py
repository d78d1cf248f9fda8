"""`label judge`: an AI judge votes on every item, in both orders.

Each item is shown to the judge twice: as stored (A then B; responses 1..K) and reversed.
The two verdicts are mapped back to the item's own sides and combined, so the order cancels
out: on A/B items a disagreement between the orders is a tie; on rankings, each pair of
responses on which the orders disagree counts as a tie, and the stored ranking orders the
responses by wins minus losses over the pairs they agree on (`kway.ranks_from_pairs`);
on ratings the two scores are averaged. How often the orders agreed is stored with the
vote (`detail.consistency`), with both raw answers, the template version and the judge's
own model (for the self-preference measure of `labeling_app.judge_bias`).

Prompts are versioned templates per task (`assets/judge/<task>.v1.txt`, data files) that
carry the guideline text; a `--template FILE` is versioned by its content hash. The answer
formats are fixed so that a local model can be made to answer in them (`Grammar`):
`[[A]]`/`[[B]]`/`[[C]]` (tie); `[[2>1=3>4]]` (spaces allowed); and for ratings one line per
response,
`Response 1: helpful=5, truthful=6, harmless=7`.

A vote whose answer cannot be read in either order is not stored: the item is counted as
unparsed (the raw answers go to DB.judge.unparsed.jsonl) and is judged again next run.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from labeling_app import kway
from labeling_app.project import Project
from schemas.labeling import Item, MultiItem, as_text

Grammar = Generator[Any, str | None, None]
"""Yields literal text (`str`) or a list of options to choose from (the choice is sent
back): the answer format, step by step."""


class JudgeOptions(BaseModel):
    """Options of `label judge` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    judge: str | None = Field(None, description="A local causal LM: a path, a hub id, or tiny "
                              "(built on the spot from the items' texts).")
    judge_url: str | None = Field(None, description="An OpenAI-compatible endpoint, e.g. "
                                  "http://localhost:8000/v1 (with judge_model).")
    judge_model: str | None = Field(None, description="The model name the endpoint serves.")
    name: str | None = Field(None, description="The judge's user name (default: ai-MODEL).")
    source_name: str | None = Field(None, description="The judge's model as item sources name "
                                    "it, to measure self-preference (default: the model's "
                                    "name).")
    template: Path | None = Field(None, description="A judge prompt template (default: the "
                                  "bundled one of the task, versioned).")
    guidelines: Path | None = Field(None, description="Guidelines put in the prompt (default: "
                                    "the bundled ones of the task).")
    limit: int | None = Field(None, ge=1, description="Judge at most this many items.")
    workers: int = Field(4, ge=1, le=64, description="Requests at once to an endpoint (a local "
                         "model judges one item at a time).")
    max_tokens: int = Field(1024, ge=16, description="Longest answer from an endpoint.")
    api_key_env: str = Field("OPENAI_API_KEY", description="Environment variable holding the "
                             "endpoint's key, if it needs one.")


class Backend(Protocol):
    name: str

    def answer(self, prompt: str, grammar: Grammar) -> str: ...


@dataclass(frozen=True)
class JudgeTemplate:
    task: str
    version: str
    text: str

    def render(self, **fields: str) -> str:
        return Template(self.text).safe_substitute(**fields)


def load_template(task: str, path: str | Path | None = None) -> JudgeTemplate:
    """The bundled template of the task (`<task>.v1`), or a file versioned by its hash."""
    if path is None:
        text = (files("labeling_app") / "assets" / "judge" / f"{task}.v1.txt").read_text("utf-8")
        return JudgeTemplate(task, f"{task}.v1", text)
    text = Path(path).read_text(encoding="utf-8")
    missing = [f for f in ("$prompt", "$responses") if f not in text]
    if missing:
        raise ValueError(f"{path}: a judge template needs {' and '.join(missing)}")
    return JudgeTemplate(task, "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12], text)


# -- one order: prompt, answer format, parsing ----------------------------------------------

def _responses_block(texts: list[str], labels: list[str]) -> str:
    return "\n\n".join(f"[Response {label}]\n{text}\n[End of Response {label}]"
                       for label, text in zip(labels, texts, strict=True))


def _criteria_block(project: Project) -> str:
    return "\n".join(f"- {c.name} ({c.low} to {c.high}): {c.guideline}" for c in project.criteria)


def _ratings_example(k: int, project: Project) -> str:
    return "\n".join(f"Response {p + 1}: " + ", ".join(f"{c.name}={c.high}"
                                                       for c in project.criteria)
                     for p in range(k))


def build_prompt(template: JudgeTemplate, guidelines: str, prompt: Any, texts: list[str],
                 project: Project) -> str:
    """The judge's prompt for responses shown in this order."""
    k = len(texts)
    labels = ["A", "B"] if template.task == "pairwise" else [str(p + 1) for p in range(k)]
    fields = {"guidelines": guidelines.strip(), "prompt": as_text(prompt),
              "responses": _responses_block(texts, labels), "k": str(k)}
    if template.task == "ranking":
        fields["example"] = kway.ranking_text(([1, 2, 2] + list(range(3, k)))[:k])
    elif template.task == "ratings":
        fields["criteria"] = _criteria_block(project)
        fields["example"] = _ratings_example(k, project)
    return template.render(**fields)


def grammar(task: str, k: int, project: Project) -> Grammar:
    """The answer format, step by step (see `Grammar`)."""
    if task == "pairwise":
        yield "[["
        yield ["A", "B", "C"]
        yield "]]"
    elif task == "ranking":
        yield "[["
        remaining = [str(p + 1) for p in range(k)]
        while remaining:
            pick = yield list(remaining)
            remaining.remove(pick)
            if remaining:
                yield [">", "="]
        yield "]]"
    else:
        for p in range(k):
            yield f"Response {p + 1}: "
            for n, criterion in enumerate(project.criteria):
                yield f"{criterion.name}="
                yield [str(v) for v in criterion.points]
                yield ", " if n + 1 < len(project.criteria) else "\n"


_PAIRWISE = re.compile(r"\[\[\s*([ABC])\s*\]\]")
_RANKING = re.compile(r"\[\[([0-9\s>=]+)\]\]")


def parse(task: str, answer: str, k: int, project: Project) -> Any:
    """The verdict in screen order: `A`/`B`/`C`; ranks by position; or `{criterion: [score
    by position]}`. The last well-formed verdict counts. `ValueError` when there is none."""
    if task == "pairwise":
        found = _PAIRWISE.findall(answer)
        if not found:
            raise ValueError("no [[A]], [[B]] or [[C]] in the answer")
        return found[-1]
    if task == "ranking":
        for text in reversed(_RANKING.findall(answer)):
            try:
                return kway.parse_ranking(text, k)
            except kway.BadSubmission:
                continue
        raise ValueError(f"no ranking of the {k} responses in double brackets")
    scores: dict[str, list[int | None]] = {c.name: [None] * k for c in project.criteria}
    for line in answer.splitlines():
        match = re.match(r"\s*\**\s*Response\s+(\d+)\s*\**\s*:(.*)", line)
        if not match or not 1 <= int(match[1]) <= k:
            continue
        for name, value in re.findall(r"([a-z][a-z0-9_]*)\s*[=:]\s*(\d+)", match[2]):
            if name in scores:
                scores[name][int(match[1]) - 1] = int(value)
    try:
        return kway.check_ratings(scores, [[]] * k, project, k)["scores"]
    except kway.BadSubmission as exc:
        raise ValueError(str(exc)) from None


# -- both orders, combined ------------------------------------------------------------------

@dataclass(frozen=True)
class Verdict:
    """A judge's combined vote on one item, or why there is none."""

    item_id: str
    choice: str | None = None  # A/B: a, b or tie; K-way: ranked or rated
    value: Any = None  # K-way: in item order
    detail: dict[str, Any] | None = None
    error: str | None = None


def judge_item(item: Item | MultiItem, backend: Backend, template: JudgeTemplate,
               guidelines: str, project: Project) -> Verdict:
    """Ask the judge in both orders and combine (see the module docstring)."""
    multi = isinstance(item, MultiItem)
    texts = [as_text(r) for r in item.responses] if multi else \
        [as_text(item.response_a), as_text(item.response_b)]
    k = len(texts)
    orders = [list(range(k)), list(range(k))[::-1]]
    runs = []
    for order in orders:
        shown = [texts[i] for i in order]
        prompt = build_prompt(template, guidelines, item.prompt, shown, project)
        answer = backend.answer(prompt, grammar(template.task, k, project))
        try:
            verdict = parse(template.task, answer, k, project)
        except ValueError as exc:
            return Verdict(item.id, error=f"order {order}: {exc}",
                           detail={"orders": runs + [{"order": order, "answer": answer}]})
        runs.append({"order": order, "answer": answer, "verdict": verdict})
    detail = {"template": template.version, "model": backend.name, "orders": runs}
    if template.task == "pairwise":
        sides = [_side(run["verdict"], run["order"]) for run in runs]
        same = sides[0] == sides[1]
        return Verdict(item.id, sides[0] if same else "tie", None,
                       {**detail, "consistency": float(same), "units": 1})
    if template.task == "ranking":
        ranks = [kway.to_item_order(run["verdict"], run["order"]) for run in runs]
        first, second = (kway.pair_preferences("ranking", r) for r in ranks)
        agreed = [(i, j, w1 if w1 == w2 else "tie", 0.0)
                  for (i, j, w1, _), (_, _, w2, _) in zip(first, second, strict=True)]
        same = sum(w1 == w2 for (_, _, w1, _), (_, _, w2, _) in zip(first, second, strict=True))
        return Verdict(item.id, "ranked", kway.ranks_from_pairs(k, agreed),
                       {**detail, "ranks": ranks, "consistency": same / len(first),
                        "units": len(first)})
    by_order = [{name: kway.to_item_order(scores, run["order"])
                 for name, scores in run["verdict"].items()} for run in runs]
    cells = [(name, i) for name in by_order[0] for i in range(k)]
    same = sum(by_order[0][name][i] == by_order[1][name][i] for name, i in cells)
    scores = {name: [(by_order[0][name][i] + by_order[1][name][i]) / 2 for i in range(k)]
              for name in by_order[0]}
    return Verdict(item.id, "rated", {"scores": scores, "flags": [[] for _ in range(k)]},
                   {**detail, "consistency": same / len(cells), "units": len(cells)})


def _side(label: str, order: list[int]) -> str:
    """`A`/`B`/`C` of one order -> the item's side (a, b) or tie."""
    if label == "C":
        return "tie"
    return "ab"[order["AB".index(label)]]


# -- the whole run --------------------------------------------------------------------------

@dataclass
class JudgeRun:
    judged: int = 0
    already: int = 0
    unparsed: list[dict[str, Any]] | None = None
    consistency: list[tuple[float, int]] | None = None

    @property
    def position_consistency(self) -> float | None:
        units = sum(n for _, n in self.consistency or [])
        return sum(c * n for c, n in self.consistency or []) / units if units else None


def run_judge(store: Any, backend: Backend, *, user: str, judge_source: str | None,
              template: JudgeTemplate, guidelines: Any, limit: int | None = None,
              workers: int = 1, on_item: Callable[[], None] | None = None) -> JudgeRun:
    """Judge every item `user` has not judged yet (at most `limit`), storing each vote as
    it comes (an interrupted run keeps what it did)."""
    from concurrent.futures import ThreadPoolExecutor

    project = store.project()
    done = store.judged_by(user)
    items = [item for item, _, _ in store.items() if item.id not in done]
    run = JudgeRun(already=len(done), unparsed=[], consistency=[])
    if limit is not None:
        items = items[:limit]

    def one(item: Item | MultiItem) -> Verdict:
        started = time.perf_counter()
        verdict = judge_item(item, backend, template, guidelines.text, project)
        if verdict.error is None:
            detail = {**verdict.detail, "judge_source": judge_source}
            store.add_ai_judgment(user, item.id, choice=verdict.choice, value=verdict.value,
                                  detail=detail, guideline_version=guidelines.version,
                                  seconds=time.perf_counter() - started)
        return verdict

    with ThreadPoolExecutor(max(1, workers)) as pool:
        for verdict in pool.map(one, items):
            if on_item:
                on_item()
            if verdict.error:
                run.unparsed.append({"item_id": verdict.item_id, "error": verdict.error,
                                     **(verdict.detail or {})})
                continue
            run.judged += 1
            run.consistency.append((verdict.detail["consistency"], verdict.detail["units"]))
    return run


def judge_user_name(model: str) -> str:
    """`ai-` and the model's name, in the characters a user name may have."""
    base = Path(model.rstrip("/")).name or model
    clean = re.sub(r"[^A-Za-z0-9._@+-]+", "-", base).strip("-.") or "model"
    return f"ai-{clean}"[:64]


def model_texts(items: Iterable[Item | MultiItem]) -> Iterable[str]:
    """Texts to train the `tiny` judge's tokenizer on."""
    for item in items:
        yield as_text(item.prompt)
        responses = item.responses if isinstance(item, MultiItem) else \
            [item.response_a, item.response_b]
        for response in responses:
            yield as_text(response)

