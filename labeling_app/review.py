"""The review queue of the admin tab: items with the lowest agreement first, and one item
with every vote and rationale side by side, its gold answer and who decided it.

Agreement per item is the share of agreeing vote pairs over its pairs of responses
(`summary.item_agreement`), among the counted human votes (simulated ones only when the
admin includes them). Every text shown here is rendered by `labeling_app.render`: item
texts as markdown, names and rationales as plain text.
"""

from __future__ import annotations

import html
import time
from typing import Any

import polars as pl

from labeling_app.kway import ranking_text
from labeling_app.render import plain_html, text_html
from labeling_app.summary import frames, item_agreement, simulated_filter
from schemas.labeling import Item, MultiItem

QUEUE_SCHEMA = {"item_id": pl.String, "agreement": pl.String, "voters": pl.String,
                "ai_votes": pl.String, "gold": pl.String, "decided_by": pl.String}
_CHOICE = {"a_much": "A much better", "a": "A better", "tie": "Tie", "b": "B better",
           "b_much": "B much better", "both_bad": "Both bad", "skip": "Skipped"}


def queue(store: Any, *, include_simulated: bool = False, limit: int = 100) -> pl.DataFrame:
    """Items judged by two or more people, lowest agreement first (ties by item id)."""
    full, _, _ = frames(store)
    frame, _ = simulated_filter(full, include_simulated)
    humans = frame.filter(pl.col("kind") == "human")
    scored = item_agreement(humans).head(limit)
    ai = frame.filter(pl.col("kind") == "ai").group_by("item").agg(
        pl.col("user").n_unique().alias("ai"))
    decided = {}
    for entry in store.adjudications():
        decided[entry["item_id"]] = entry
    rows = []
    for item, agreement, voters, ai_votes in scored.join(ai, on="item", how="left").select(
            "item", "agreement", "voters", "ai").iter_rows():
        entry = decided.get(item)
        rows.append({"item_id": item, "agreement": f"{agreement:.0%}", "voters": str(voters),
                     "ai_votes": str(ai_votes or 0),
                     "gold": _decision_text(entry["decision"]) if entry else "",
                     "decided_by": entry["admin"] if entry else ""})
    return pl.DataFrame(rows, schema=QUEUE_SCHEMA) if rows else pl.DataFrame(schema=QUEUE_SCHEMA)


def _decision_text(decision: Any) -> str:
    return ranking_text(decision, letters=True) if isinstance(decision, list) else str(decision)


def item_html(store: Any, item_id: str) -> str:
    """One item for review: its texts, every vote side by side, its gold and the audit trail."""
    item = store.item(item_id)
    if item is None:
        return f"<p>No item <code>{plain_html(item_id)}</code>.</p>"
    votes = store.judgments_of(item_id)
    project = store.project()
    multi = isinstance(item, MultiItem)
    responses = list(enumerate(item.responses)) if multi else \
        [(0, item.response_a), (1, item.response_b)]
    sources = [item.source(i) for i, _ in responses] if multi else [item.source_a, item.source_b]
    cards = "".join(
        f'<div class="review-response item-text"><div class="role">Response {chr(65 + i)}'
        + (f" · {plain_html(sources[i])}" if sources[i] else "") + f"</div>{text_html(text)}</div>"
        for i, text in responses)
    rows = "".join(_vote_row(vote, project, len(responses)) for vote in votes)
    trail = store.adjudications(item_id)
    decisions = "".join(
        f"<li>{time.strftime('%Y-%m-%d %H:%M', time.gmtime(d['created_at']))} UTC: "
        f"<b>{plain_html(d['admin'])}</b> decided {plain_html(_decision_text(d['decision']))}"
        + (f" (was {plain_html(_decision_text(d['previous']))})" if d["previous"] else "")
        + (f": {plain_html(d['note'])}" if d["note"] else "") + "</li>" for d in trail)
    gold = item.gold if not multi else (ranking_text(item.gold, letters=True) if item.gold
                                         else None)
    return (f'<div class="review"><h3>Item <code>{plain_html(item.id)}</code></h3>'
            f'<div class="caption">Prompt</div><div class="item-text">{text_html(item.prompt)}'
            f'</div><div class="review-responses">{cards}</div>'
            '<table class="review-votes"><tr><th>voter</th><th>verdict</th><th>seconds</th>'
            f"<th>rationale</th></tr>{rows}</table>"
            f"<p><b>Gold:</b> {plain_html(gold) if gold else 'none'}</p>"
            + (f"<p><b>Decisions</b></p><ul>{decisions}</ul>" if decisions else "")
            + "</div>")


def _vote_row(vote: dict[str, Any], project: Any, k: int) -> str:
    who = plain_html(vote["user"]) + (" <i>(AI)</i>" if vote["kind"] == "ai" else "") + \
        (" <i>(simulated)</i>" if vote["simulated"] else "")
    if vote["choice"] == "skip":
        verdict = "Skipped"
    elif vote["choice"] == "ranked":
        verdict = html.escape(ranking_text(vote["value"], letters=True))
    elif vote["choice"] == "rated":
        verdict = _ratings_html(vote["value"], project)
    else:
        verdict = html.escape(_CHOICE.get(vote["choice"], vote["choice"]))
    detail = vote.get("detail") or {}
    if detail.get("consistency") is not None:
        verdict += f" <i>(same in both orders: {detail['consistency']:.0%})</i>"
    return (f"<tr><td>{who}</td><td>{verdict}</td><td>{vote['seconds']:.1f}</td>"
            f"<td>{plain_html(vote['rationale'] or '')}</td></tr>")


def _ratings_html(value: dict[str, Any], project: Any) -> str:
    lines = []
    for criterion in project.criteria:
        scores = value["scores"].get(criterion.name, [])
        lines.append(f"{html.escape(criterion.name)}: " + ", ".join(
            f"{chr(65 + i)} {score:g}" for i, score in enumerate(scores)))
    flagged = [f"{chr(65 + i)}: {', '.join(names)}" for i, names in enumerate(value["flags"])
               if names]
    if flagged:
        lines.append("flags: " + html.escape("; ".join(flagged)))
    return "<br>".join(lines)


def parse_decision(item: Item | MultiItem, text: str) -> Any:
    """An admin's decision as the store takes it: a, b or tie for an A/B item; a ranking such
    as `B > A = C` (letters as in the review) for a K-way item."""
    from labeling_app.kway import parse_ranking

    text = (text or "").strip()
    if isinstance(item, MultiItem):
        return parse_ranking(text, len(item.responses), letters=True)
    decision = text.lower()
    if decision not in ("a", "b", "tie"):
        raise ValueError("an A/B decision is A, B or tie")
    return decision
