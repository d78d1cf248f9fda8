"""Presenting a metrics summary: markdown (terminal, admin tab), tables and a one-file HTML page."""

from __future__ import annotations

import base64
import html
import json
import re
import time
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from curate.io import Rejects, write_records
from curate.io.outputs import OutputSet
from curate.progress import Phases
from labeling_app.judge_bias import judges_table
from labeling_app.metrics import SMALL_CURVE
from labeling_app.render import markdown_escape
from labeling_app.summary import simulated_filter


class ReportOptions(BaseModel):
    """Options of `label report` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    min_length_diff: int = Field(30, ge=0, description="Length bias counts pairs whose "
                                 "lengths differ by more than this many characters.")
    seed: int = Field(0, description="Seed of the bootstrap intervals.")
    include_simulated: bool = Field(False, description="Count votes of simulated labelers "
                                    "(left out by default; the report says how many).")
    voters: Literal["human", "ai", "all"] = Field("human", description="Whose votes the "
                                                  "metrics count (a database): labelers, AI "
                                                  "judges or both. The AI judges' bias report "
                                                  "always compares them with the labelers.")
    rule: str = Field("overall", description="Ratings projects: how ratings become pair "
                      "preferences ('overall', or criteria in priority order).")


_LABELER_COLUMNS = ("user", "votes", "flags", "median_seconds", "p_left_wins",
                    "p_left_wins_ci", "p_longer_wins", "p_longer_wins_ci", "agreement",
                    "gold_accuracy", "tie_share", "simulated")


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _ci(ci: list[float] | None) -> str:
    return "" if not ci else f" (95% CI {ci[0]:.1%} to {ci[1]:.1%})"


def overview_markdown(summary: dict[str, Any]) -> str:
    """The headline numbers, one bullet each. Names from the data (models, labelers) are
    escaped: they are untrusted text."""
    task = summary.get("task", "pairwise")
    if task == "pairwise":
        lines = [(f"- **Judgments:** {summary['n_pairs']:,} on {summary['n_items']:,} items by "
                  f"{summary['n_labelers']:,} labelers")]
    else:
        lines = [(f"- **Judgments:** {summary['n_judgments']:,} {task} of {summary['n_items']:,} "
                  f"items by {summary['n_labelers']:,} labelers, read as {summary['n_pairs']:,} "
                  "votes on pairs of responses" + (f" (rule: {summary['rule']})"
                                                   if task == "ratings" else ""))]
    lines += _voters_lines(summary)
    lines += _agreement_lines(summary)
    if summary["gold"]:
        unit = "votes" if task == "pairwise" else "pair votes"
        lines.append(f"- **Gold accuracy:** {_pct(summary['gold']['accuracy'])} on "
                     f"{summary['gold']['n']:,} {unit}")
    lines.append(f"- **Length bias:** the longer response wins {_pct(summary['p_longer_wins'])}"
                 f"{_ci(summary['p_longer_wins_ci'])} of {summary['n_length_pairs']:,} decisive "
                 f"votes differing by more than {summary['min_length_diff']} characters; "
                 f"logistic coefficient on tanh(length difference / sd) "
                 f"{_num(summary['length_coef'])}")
    shown = "left response" if task == "pairwise" else "response shown earlier"
    lines.append("- **Position bias:** " + (
        f"the {shown} wins {_pct(summary['p_left_wins'])}{_ci(summary['p_left_wins_ci'])}"
        if summary["p_left_wins"] is not None else "n/a (positions unknown)"))
    for model, lc in summary["lc_win_rate"].items():
        lines.append(f"- **{markdown_escape(model)}:** win rate "
                     f"{_pct(summary['win_rate'][model])}, length-controlled {_pct(lc)}")
    flagged = [f"{markdown_escape(row['user'])} ({', '.join(row['flags'])})"
               for row in summary["labelers"] if row["flags"]]
    if flagged:
        lines.append(f"- **Flagged labelers:** {'; '.join(flagged)}")
    for judge in summary.get("ai_judges") or []:
        lines.append(_judge_line(judge))
    return "\n".join(lines)


def _voters_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    simulated = summary.get("simulated") or {}
    if simulated.get("votes"):
        lines.append(f"- **Simulated votes:** {simulated['votes']:,} "
                     + ("included: these numbers are partly machine-made" if simulated["included"]
                        else "left out (include them with --include-simulated, or the admin "
                        "tab's checkbox)"))
    voters = summary.get("voters") or {}
    if voters.get("ai_votes") or voters.get("counted", "human") != "human":
        counted = {"human": "human votes only", "ai": "AI judges' votes only",
                   "all": "human and AI votes together"}[voters["counted"]]
        left = f"; {voters['left_out']:,} others left out (--voters all counts them)" \
            if voters.get("left_out") else ""
        lines.append(f"- **Voters:** {counted} ({voters['human_votes']:,} human, "
                     f"{voters['ai_votes']:,} AI){left}")
    return lines


def _agreement_lines(summary: dict[str, Any]) -> list[str]:
    agreement = summary["agreement"]
    unit = "vote pairs" if summary.get("task", "pairwise") == "pairwise" \
        else "vote pairs on the same pair of responses"
    lines = []
    if summary.get("kendall_w"):
        w = summary["kendall_w"]
        lines.append(f"- **Kendall's W:** mean {_num(w['mean'])}, median {_num(w['median'])} over "
                     f"{w['n_items']:,} items ranked by two or more labelers")
    for name, values in (summary.get("criteria") or {}).items():
        lines.append(f"- **{markdown_escape(name)}:** mean score {_num(values['mean'])}; "
                     f"Krippendorff's alpha {_num(values['alpha_interval'])} interval, "
                     f"{_num(values['alpha_ordinal'])} ordinal")
    if summary.get("flags"):
        shares = ", ".join(f"{markdown_escape(name)} {_pct(share)}"
                           for name, share in summary["flags"].items())
        lines.append(f"- **Flags raised:** {shares} of rated responses")
    if agreement:
        alpha = agreement["krippendorff_alpha_nominal"]
        ordinal = agreement["krippendorff_alpha_ordinal"]
        lines.append(f"- **Agreement:** {_pct(agreement['percent'])} of {unit} agree "
                     f"({_pct(agreement['percent_without_ties'])} without ties); Krippendorff's "
                     f"alpha {_num(alpha)} nominal" + (f", {_num(ordinal)} ordinal"
                                                       if ordinal is not None else ""))
    else:
        lines.append("- **Agreement:** n/a (no item has two labelers)")
    return lines


def _judge_line(judge: dict[str, Any]) -> str:
    parts = [(f"agrees with humans {_pct(judge['agreement_with_humans']['share'])} of "
              f"{judge['agreement_with_humans']['n']:,} vote pairs (humans with each other "
              f"{_pct(judge['human_agreement']['share'])})"),
             (f"P(longer wins) {_pct(judge['p_longer_wins'])}{_ci(judge['p_longer_wins_ci'])} "
              f"vs humans {_pct(judge['human_p_longer_wins'])} on the same items"),
             f"same verdict in both orders {_pct(judge['position_consistency'])}"]
    if judge["judge_source"]:
        parts.append(f"its own model ({markdown_escape(judge['judge_source'])}) wins "
                     f"{_pct(judge['p_own_wins'])} vs {_pct(judge['human_p_own_wins'])} by humans")
    flags = f"; **flags: {', '.join(judge['flags'])}**" if judge["flags"] else ""
    return f"- **AI judge {markdown_escape(judge['judge'])}:** {'; '.join(parts)}{flags}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def labelers_table(summary: dict[str, Any]) -> pl.DataFrame:
    """The per-labeler table, rounded for reading."""
    rows = [{column: _cell(row[column]) for column in _LABELER_COLUMNS}
            for row in summary["labelers"]]
    return pl.DataFrame(rows, schema={c: pl.String for c in _LABELER_COLUMNS}, orient="row") \
        if rows else pl.DataFrame(schema={c: pl.String for c in _LABELER_COLUMNS})


def kappa_table(summary: dict[str, Any]) -> pl.DataFrame:
    """Cohen's kappa per labeler pair."""
    kappa = (summary["agreement"] or {}).get("cohen_kappa", [])
    rows = [{"user_1": k["user_1"], "user_2": k["user_2"], "n": str(k["n"]),
             "kappa": _cell(k["kappa"])} for k in kappa]
    schema = {"user_1": pl.String, "user_2": pl.String, "n": pl.String, "kappa": pl.String}
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def models_table(summary: dict[str, Any]) -> pl.DataFrame:
    rows = [{"model": m, "win_rate": _cell(summary["win_rate"][m]), "lc_win_rate": _cell(lc)}
            for m, lc in summary["lc_win_rate"].items()]
    schema = {"model": pl.String, "win_rate": pl.String, "lc_win_rate": pl.String}
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list) and all(isinstance(v, float) for v in value):
        return " to ".join(f"{v:.3f}" for v in value)  # an interval
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)


def render_html(summary: dict[str, Any], *, source: str, curve_png: bytes) -> str:
    """A self-contained HTML report (the curve is embedded as a data URL), laid out to be
    read in a 1366 px window: wide tables scroll inside their box, never the page."""
    image = base64.b64encode(curve_png).decode()
    simulated = summary.get("simulated") or {}
    banner = ('<p class="banner">Includes simulated votes (label simulate): not human '
              "judgments.</p>" if simulated.get("included") else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Judgment report: {html.escape(source)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:78rem;margin:1.5rem auto;padding:0 1.25rem;
line-height:1.45;color:#1e293b}}h1{{margin-bottom:.25rem}}h2{{margin-top:2rem;font-size:1.2rem}}
li{{margin:.3rem 0}}.wrap{{overflow-x:auto;max-width:100%}}table{{border-collapse:collapse;
margin:.5rem 0;font-size:.9rem}}td,th{{border:1px solid #cbd5e1;padding:.25rem .5rem;
text-align:left;white-space:nowrap}}th{{background:#f1f5f9}}td.num{{text-align:right;
font-variant-numeric:tabular-nums}}img{{max-width:100%;height:auto}}
.note{{color:#475569;font-size:.9rem}}.banner{{background:#fef3c7;border:1px solid #f59e0b;
padding:.5rem .75rem;border-radius:.3rem}}</style></head><body>
<h1>Judgment report</h1><p class="note">Source: <code>{html.escape(source)}</code></p>{banner}
{overview_html(summary)}
<h2>Length bias</h2><p class="note">{html.escape(curve_note(summary["length_curve"]))}</p>
<img alt="A's win rate by length difference, with 95% intervals"
 src="data:image/png;base64,{image}">
<h2>Source models</h2>{_table(models_table(summary).to_dicts())}
<h2>Labelers</h2>{_table(labelers_table(summary).to_dicts())}
{_criteria_section(summary)}<h2>Cohen's kappa per labeler pair</h2>{_table(kappa_table(summary).to_dicts())}
<h2>AI judges against the labelers</h2><p class="note">{html.escape(JUDGES_NOTE)}</p>
{_table(judges_table(summary.get("ai_judges") or []).to_dicts())}
</body></html>
"""


JUDGES_NOTE = ("Each AI judge (label judge) on the items people judged too: agreement with "
               "them, P(longer wins) beside theirs on the same items, how often it gave the "
               "same verdict with the order reversed, and how often its own model wins.")


def criteria_table(summary: dict[str, Any]) -> pl.DataFrame:
    """Ratings: per criterion, the mean score and Krippendorff's alpha."""
    schema = {"criterion": pl.String, "mean": pl.String, "alpha_interval": pl.String,
              "alpha_ordinal": pl.String, "scores": pl.String}
    rows = [{"criterion": name, "mean": _cell(v["mean"]),
             "alpha_interval": _cell(v["alpha_interval"]),
             "alpha_ordinal": _cell(v["alpha_ordinal"]), "scores": str(v["n"])}
            for name, v in (summary.get("criteria") or {}).items()]
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)


def _criteria_section(summary: dict[str, Any]) -> str:
    if not summary.get("criteria"):
        return ""
    return f"<h2>Criteria</h2>{_table(criteria_table(summary).to_dicts())}\n"


def overview_html(summary: dict[str, Any]) -> str:
    """`overview_markdown` as an HTML list (the admin tab and the HTML report): every name
    is plain text there, never a tag or a link."""
    return "<ul>" + "".join(f"<li>{_inline(line[2:])}</li>"
                            for line in overview_markdown(summary).splitlines()) + "</ul>"


def curve_note(curve: list[dict[str, Any]]) -> str:
    """What the length curve can and cannot say, from how many votes it rests on."""
    n = sum(point["n"] for point in curve)
    if not n:
        return "No decided votes yet."
    text = (f"Each point is A's win rate (ties count half) among {n:,} votes, in "
            f"{len(curve)} groups by how much longer A is than B, with its 95% interval.")
    if n < SMALL_CURVE:
        text += (f" Only {n:,} votes: the intervals are wide and the shape is mostly noise; "
                 f"read it after {SMALL_CURVE:,} or more.")
    return text


_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>&~$])")


def _inline(markdown: str) -> str:
    """Bold spans of one bullet line to HTML (the only markdown the overview uses; names in
    it are backslash-escaped)."""
    parts = [html.escape(_ESCAPED.sub(r"\1", part)) for part in markdown.split("**")]
    return "".join(f"<b>{part}</b>" if i % 2 else part for i, part in enumerate(parts))


def _table(rows: list[dict[str, str]]) -> str:
    if not rows:
        return "<p>none</p>"
    head = "".join(f"<th>{html.escape(k)}</th>" for k in rows[0])
    body = "".join("<tr>" + "".join(_cell_html(v) for v in row.values()) + "</tr>"
                   for row in rows)
    return f'<div class="wrap"><table><tr>{head}</tr>{body}</table></div>'


def _cell_html(value: str | None) -> str:
    value = value or ""
    numeric = bool(re.fullmatch(r"[\d.,% to-]+", value)) and any(c.isdigit() for c in value)
    return f'<td class="num">{html.escape(value)}</td>' if numeric \
        else f"<td>{html.escape(value)}</td>"


def write_report(output: Path, source: Path, summary: dict[str, Any], png: bytes,
                 rejects: Rejects) -> None:
    """OUT (HTML), OUT.png, OUT.json (the summary, naming the set) and, when skipping bad
    lines, OUT.rejects.jsonl, committed as one unit (`curate.io.outputs.OutputSet`): none of
    them may be the input, and an existing file is replaced only if a report wrote it."""
    summary_path = output.with_suffix(".json")
    curve_path, rejects_path = output.with_suffix(".png"), output.with_suffix(".rejects.jsonl")
    adopted = {output, curve_path, rejects_path, summary_path} \
        if _is_earlier_report(summary_path) else set()
    out = OutputSet(output, inputs=[source], sharded=False, fmt="html", stats_path=summary_path,
                    adopted=adopted)
    curve = out.add("length_curve", curve_path)  # members first: checked on entering the set
    bad_lines = out.add("rejects", rejects_path) if rejects.mode == "skip" else None
    with out:
        out.staged("data").write_text(render_html(summary, source=str(source), curve_png=png),
                                      encoding="utf-8")
        curve.write_bytes(png)
        if bad_lines is not None:
            write_records(bad_lines, rejects.records)
        out.commit(summary)


def _is_earlier_report(path: Path) -> bool:
    """A report's JSON written before reports were output sets (it names no set): the summary
    object with its own keys."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and "output_set" not in data and \
        {"source", "n_pairs", "p_longer_wins", "length_curve", "agreement"} <= data.keys()


def run_report(source: str, options: ReportOptions, *, output: Path | None,
               rejects: Rejects, quiet: bool = False) -> tuple[dict[str, Any], str]:
    """Run `label report`: the summary dict, files under `output` if given, and the
    one-line summary."""
    from labeling_app import metrics, plots
    from labeling_app.judgments import is_database, load_judgments

    started = time.perf_counter()
    if output is not None and Path(output).resolve() == Path(source).resolve():
        raise ValueError(f"{output}: is the input itself; write the report elsewhere")
    phases = Phases("label report", quiet=quiet)
    if is_database(Path(source)):
        from labeling_app.store import Store
        from labeling_app.summary import database_summary

        with phases.phase("reading and computing"), Store(source) as store:
            summary = {"source": str(source), **database_summary(
                store, include_simulated=options.include_simulated, voters=options.voters,
                rule=options.rule, min_diff=options.min_length_diff, seed=options.seed),
                "rejected": 0}
    else:
        with phases.phase("reading judgments"):
            frame = load_judgments(source, rejects=rejects)
        frame, simulated = simulated_filter(frame, options.include_simulated)
        with phases.phase("computing metrics"):
            summary = {"source": str(source),
                       **metrics.summarize(frame, min_diff=options.min_length_diff,
                                           seed=options.seed),
                       "simulated": simulated, "rejected": len(rejects)}
    simulated = summary["simulated"]
    if output is not None:
        png = plots.png_bytes(plots.length_curve_figure(summary["length_curve"]))
        write_report(Path(output), Path(source), summary, png, rejects)
    seconds = time.perf_counter() - started
    left = _pct(summary["p_left_wins"]) if summary["p_left_wins"] is not None else "n/a"
    alpha = (summary["agreement"] or {}).get("krippendorff_alpha_nominal")
    judges = summary.get("ai_judges") or []
    flagged = [f"{j['judge']}: {', '.join(j['flags'])}" for j in judges if j["flags"]]
    counted = (summary.get("voters") or {}).get("counted")
    line = (f"label report: {summary.get('n_judgments', summary['n_pairs']):,} judgments"
            + (f" ({counted} votes)" if counted else "") + ", P(longer wins)="
            f"{_pct(summary['p_longer_wins'])}, P(left wins)={left}, alpha={_num(alpha)}"
            + (f", rejected={len(rejects)}" if len(rejects) else "")
            + (f", simulated votes {'included' if simulated['included'] else 'left out'}="
               f"{simulated['votes']}" if simulated["votes"] else "")
            + (f", AI judges flagged: {'; '.join(flagged)}" if flagged else "")
            + f" {seconds:.2f}s")
    return summary, line
