"""Write the selection report as Markdown and as a self-contained HTML page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from curate.io import atomic_path, sidecar


def write_report(out: str | Path, report: dict[str, Any]) -> tuple[Path, Path]:
    """`OUT.select_report.md` and `OUT.select_report.html` beside the output."""
    paths = sidecar(out, "select_report.md"), sidecar(out, "select_report.html")
    for path, text in zip(paths, (to_markdown(report), to_html(report)), strict=True):
        with atomic_path(path) as temp:
            temp.write_text(text, encoding="utf-8")
    return paths


def write_report_to(report: dict[str, Any], *, html: Path, markdown: Path) -> None:
    """The two report files, at the (staged) paths of an output set."""
    markdown.write_text(to_markdown(report), encoding="utf-8")
    html.write_text(to_html(report), encoding="utf-8")


def sections(report: dict[str, Any]) -> list[tuple[str, list[str], list[list[Any]], bool]]:
    """The report as (title, header, rows, histogram?) tables; both formats render these."""
    chosen, random = report["selection"], report["random"]
    summary = [
        ["records", chosen["size"], random["size"]],
        ["domain entropy (share of max)", chosen["domain_entropy_share"],
         random["domain_entropy_share"]],
        ["mean difficulty score (0-1)", chosen["difficulty_mean"], random["difficulty_mean"]],
        *[[f"signal {spec}: mean", chosen["signals"][spec]["mean"],
           random["signals"][spec]["mean"]] for spec in chosen["signals"]],
        ["mean solution length (words)", chosen["mean_length"], random["mean_length"]],
        ["near-duplicate questions left", chosen["near_duplicates"], random["near_duplicates"]],
    ]
    if chosen["solved_share"] is not None:
        summary.append(["share solved (model or labels)", chosen["solved_share"],
                        random["solved_share"]])
    domains = sorted(set(chosen["domain_counts"]) | set(random["domain_counts"]),
                     key=lambda name: (-chosen["domain_counts"].get(name, 0), name))
    tables = [
        ("Selection vs a random sample of the same k", ["", "selection", "random k"], summary,
         False),
        ("Funnel", ["stage", "records"],
         [[name.replace("_", " by "), count] for name, count in report["funnel"].items()], False),
        ("Domains", ["domain", "selection", "random k"],
         [[name, chosen["domain_counts"].get(name, 0), random["domain_counts"].get(name, 0)]
          for name in domains], True),
        ("Difficulty score", ["score", "selection", "random k"],
         [[f"{i / 10:.1f}-{(i + 1) / 10:.1f}", a, b] for i, (a, b) in enumerate(
             zip(chosen["difficulty_histogram"], random["difficulty_histogram"], strict=True))],
         True),
    ]
    for spec, stats in chosen["signals"].items():
        if "counts" in stats:
            tables.append((f"Difficulty signal {spec}", ["value", "selection", "random k"],
                           [[value, count, random["signals"][spec]["counts"][value]]
                            for value, count in stats["counts"].items()], True))
        else:
            tables.append((f"Difficulty signal {spec}", ["", "selection", "random k"],
                           [[q, stats.get(q), random["signals"][spec].get(q)]
                            for q in ("p10", "p50", "p90", "mean")], False))
    return tables


def _headline(report: dict[str, Any]) -> str:
    options = report["options"]
    stages = [f"quality ({options['quality_preset']} preset)" if options["quality"] else None,
              f"difficulty ({', '.join(options['difficulty'])})" if options["difficulty"] else None,
              _diversity(options) if options["diversity"] else None]
    return (f"k={report['k']} from a pool of {report['pool']['size']} records in "
            f"{report['pool']['domains']} domain(s), seed {report['seed']}. Stages: "
            f"{' -> '.join(s for s in stages if s) or 'none (random within one domain)'}. "
            "The random k is a seeded uniform sample of the same pool.")


def _diversity(options: dict[str, Any]) -> str:
    domains = f"domain field {options['domain_field']}" if options["domain_field"] \
        else "k-means clusters"
    return (f"diversity ({domains}, {options['domain_weights']} weights, "
            f"{options['domain_draw']} draw)")


def to_markdown(report: dict[str, Any]) -> str:
    lines = ["# Selection report", "", _headline(report), ""]
    for title, header, rows, _ in sections(report):
        lines += [f"## {title}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(_cell(value) for value in row) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)


def to_html(report: dict[str, Any]) -> str:
    parts = [f"<h1>Selection report</h1><p>{html.escape(_headline(report))}</p>"]
    for title, header, rows, histogram in sections(report):
        scale = max((value for row in rows for value in row[1:]), default=0) if histogram else 0
        parts.append(f"<h2>{html.escape(title)}</h2><table><tr>"
                     + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            cells = [f"<td>{html.escape(_cell(row[0]))}</td>"]
            for index, value in enumerate(row[1:]):
                number = html.escape(_cell(value))
                cells.append(
                    f'<td class=hist><span class=n>{number}</span><span class="bar s{index}" '
                    f'style="width:{120 * value / scale:.0f}px"></span></td>' if scale
                    else f"<td class=num>{number}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    return _PAGE.replace("{body}", "\n".join(parts))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Selection report</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .75rem; text-align: left; }
td.num { text-align: right; white-space: nowrap; }
td.hist { min-width: 11rem; white-space: nowrap; }
.n { display: inline-block; width: 3rem; text-align: right; margin-right: .5rem; }
.bar { display: inline-block; height: .7rem; vertical-align: middle; }
.s0 { background: #3b7dd8; } .s1 { background: #b0b0b0; }
</style></head><body>
{body}
</body></html>
"""
