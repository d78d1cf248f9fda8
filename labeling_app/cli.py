"""The `label` command: import, serve, users, simulate, export, report."""

from __future__ import annotations

import ipaddress
import json
import os
import random
import socket
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from curate.cli_support import Config, OnError, OnErrorChoice, Output, Split, cli_errors, fail
from curate.io import Rejects, write_json
from curate.options import build_options

app = typer.Typer(name="label", help="Label A/B preference pairs in the browser: import, serve, "
                  "users, simulate, export, report.", no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
users_app = typer.Typer(help="Add and list labelers and admins.", no_args_is_help=True)
app.add_typer(users_app, name="users")

Db = Annotated[Path, typer.Option("--db", "-d", help="The labeling database (SQLite).")]


class Role(str, Enum):
    annotator = "annotator"
    admin = "admin"


class Policy(str, Enum):
    quality = "quality"
    length = "length"
    left = "left"
    random = "random"


class Format(str, Enum):
    dpo = "dpo"
    judgments = "judgments"


@app.command("import")
@cli_errors
def import_command(
    items: Annotated[str, typer.Argument(help="Items file (from `curate pairs`): jsonl, json, "
                                         "parquet or a saved dataset.")],
    db: Db,
    overlap: Annotated[int | None, typer.Option(
        help="Judgments each item needs, from different labelers (default: 3).")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
) -> None:
    """Load A/B items into the database (created if missing).

    An item is {id, prompt, response_a, response_b, source_a, source_b, meta}
    with an optional gold answer (a, b or tie). Importing again is safe:
    identical items are unchanged, a new --overlap is applied, and an id with
    other content is bad input. In raise mode nothing is imported on error.

    Writes DB.import.stats.json (and DB.import.rejects.jsonl with --on-error
    skip).

    Example: label import items.jsonl -d labels.sqlite --overlap 3
    """
    from labeling_app.importing import ImportOptions, import_items, write_import_sidecars
    from labeling_app.store import Store

    options = build_options(ImportOptions, config=config, overlap=overlap)
    rejects = Rejects(on_error.value)
    created = not db.exists()
    try:
        with Store(db, create=True) as store:
            stats = import_items(items, store, options, rejects=rejects, split=split)
    except BaseException:
        if created:  # leave no empty database behind
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
        raise
    write_import_sidecars(db, stats, rejects)
    extra = stats.model_extra or {}
    typer.echo(f"{stats.summary_line()} (added {extra['added']}, updated {extra['updated']}, "
               f"unchanged {extra['unchanged']}; overlap {options.overlap})", err=True)


@users_app.command("add")
@cli_errors
def users_add(
    name: Annotated[str, typer.Argument(help="User name (the login).")],
    db: Db,
    role: Annotated[Role, typer.Option(help="annotator labels; admin also sees the Admin tab "
                                       "and exports.")] = Role.annotator,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (also used "
        "when stdin is not a terminal).")] = False,
    replace: Annotated[bool, typer.Option(
        help="Reset the role and password of an existing user.")] = False,
) -> None:
    """Add a user; the password is prompted for (twice) or read from stdin.
    Passwords are stored as salted scrypt hashes.

    Example: label users add alice -d labels.sqlite --role annotator

    Example: echo "$PASSWORD" | label users add bob -d labels.sqlite --role admin
    """
    from labeling_app.store import Store

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if not password:
        fail("the password must not be empty")
    with Store(db, create=True) as store:
        store.add_user(name, role=role.value, password=password, replace=replace)
    typer.echo(f"label users: {name!r} {'updated' if replace else 'added'} as {role.value}",
               err=True)


@users_app.command("list")
@cli_errors
def users_list(db: Db) -> None:
    """List users as JSON lines: name, role, simulated, can_log_in, judgments.

    Example: label users list -d labels.sqlite
    """
    from labeling_app.store import Store

    with Store(db) as store:
        for user in store.users():
            typer.echo(json.dumps(user))


@app.command("serve")
@cli_errors
def serve_command(
    db: Db,
    host: Annotated[str | None, typer.Option(
        help="Interface to listen on; 0.0.0.0 for the network (default: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(
        help="Port (default: the first free one from 7860).")] = None,
    open_mode: Annotated[bool | None, typer.Option(
        "--open/--login", help="--open: single-user local mode, no login, as the admin user "
        "'local' (loopback hosts only). Default: --login.")] = None,
    min_seconds: Annotated[float | None, typer.Option(
        help="Refuse votes sooner than this after the item appears (default: 3).")] = None,
    lease_ttl: Annotated[float | None, typer.Option(
        help="Seconds a labeler holds an item before it returns to the pool "
        "(default: 600).")] = None,
    guidelines: Annotated[Path | None, typer.Option(
        help="Markdown guidelines shown to labelers (default: the bundled ones).")] = None,
    guidelines_version: Annotated[str | None, typer.Option(
        help="Version stored with every judgment (default: 1 for the bundled guidelines, "
        "a content hash for a file).")] = None,
    config: Config = None,
) -> None:
    """Serve the labeling app: login, then A/B judgments with keyboard
    shortcuts; admins also get progress, agreement, bias panels and exports.

    Example: label serve -d labels.sqlite --port 7860

    Example: label serve -d labels.sqlite --open
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from labeling_app.app import LOCAL_USER, LabelingApp, ServeOptions, launch, load_guidelines
    from labeling_app.store import Store

    options = build_options(ServeOptions, config=config, host=host, port=port, open=open_mode,
                            min_seconds=min_seconds, lease_ttl=lease_ttl, guidelines=guidelines,
                            guidelines_version=guidelines_version)
    if options.open and not _is_loopback(options.host):
        fail(f"--open serves without a login, so only on a loopback host, not {options.host!r}")
    store = Store(db, lease_ttl=options.lease_ttl)
    if options.open:
        if store.role(LOCAL_USER) is None:
            store.add_user(LOCAL_USER, role="admin")
    elif not any(user["can_log_in"] for user in store.users()):
        fail(f"nobody can log in to {db}: add a user with `label users add NAME -d {db} --role "
             "admin`, or serve with --open")
    labeling = LabelingApp(store, load_guidelines(options.guidelines, options.guidelines_version),
                           min_seconds=options.min_seconds, open_mode=options.open)
    blocks, url = launch(labeling, host=options.host, port=options.port, block=False, quiet=True)
    mode = "single-user local mode, no login" if options.open else "login required"
    typer.echo(f"label serve: {db} at {url} ({mode}); Ctrl+C to stop", err=True)
    try:
        blocks.block_thread()
    finally:
        store.close()


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None))
    except (socket.gaierror, ValueError):
        return False


@app.command("simulate")
@cli_errors
def simulate_command(
    db: Db,
    labelers: Annotated[int | None, typer.Option(help="Simulated labelers (default: 5).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the votes and of the left/right sides (default: 0).")] = None,
    policy: Annotated[Policy | None, typer.Option(
        help="quality: the known better side (gold or meta.truth) with --accuracy; length: the "
        "longer one; left: always left; random (default: quality).")] = None,
    accuracy: Annotated[float | None, typer.Option(
        help="How often the quality policy is right (default: 0.85).")] = None,
    config: Config = None,
) -> None:
    """Fill the database with seeded votes of simulated labelers, for demos
    and tests. They are users named sim-01, sim-02, ... without a password;
    the users and each of their judgments are flagged simulated in the
    database and in every export.

    Writes DB.simulate.stats.json.

    Example: label simulate -d labels.sqlite --labelers 5 --seed 0 --policy length
    """
    from rich.progress import Progress

    from labeling_app.simulate import SimulateOptions, simulate
    from labeling_app.store import Store

    options = build_options(SimulateOptions, config=config, labelers=labelers, seed=seed,
                            policy=policy.value if policy else None, accuracy=accuracy)
    started = time.perf_counter()
    with Store(db, rng=random.Random(options.seed)) as store:
        open_slots = sum(max(overlap - done, 0) for _, overlap, done in store.items())
        with Progress(transient=True, console=_stderr()) as bars:
            task = bars.add_task("simulating votes", total=open_slots)
            votes = simulate(store, labelers=options.labelers, policy=options.policy,
                             seed=options.seed, accuracy=options.accuracy,
                             on_vote=lambda: bars.advance(task))
    seconds = time.perf_counter() - started
    write_json(db.with_suffix(".simulate.stats.json"),
               {"step": "label simulate", **options.model_dump(), "votes": sum(votes.values()),
                "votes_by_user": votes, "seconds": round(seconds, 4)})
    typer.echo(f"label simulate: {sum(votes.values())} simulated votes by {len(votes)} labelers "
               f"(policy {options.policy}, seed {options.seed}) {seconds:.2f}s", err=True)


@app.command("export")
@cli_errors
def export_command(
    db: Db,
    output: Output,
    output_format: Annotated[Format | None, typer.Option(
        "--format", help="dpo: PreferencePair records for `train dpo` / `train rm`; "
        "judgments: every raw judgment (.jsonl, .csv or .parquet) (default: dpo).")] = None,
    min_agreement: Annotated[float | None, typer.Option(
        help="dpo: drop pairs whose majority has a smaller share of the votes (default: 0).")]
    = None,
    drop_ties: Annotated[bool | None, typer.Option(
        "--drop-ties/--keep-ties", help="dpo: ignore tie votes when finding the majority "
        "(default: keep, a tie counts against agreement).")] = None,
    min_votes: Annotated[int | None, typer.Option(
        help="dpo: votes an item needs (default: its overlap, so complete items only).")]
    = None,
    simulated: Annotated[bool | None, typer.Option(
        "--simulated/--no-simulated", help="Include simulated votes (default: include; they "
        "are flagged in meta).")] = None,
    config: Config = None,
) -> None:
    """Export votes: majority-vote preference pairs (prompt, chosen,
    rejected; meta has strength, votes, agreement, item_id, source_chosen,
    source_rejected, simulated) or the raw judgments.

    Writes OUT, OUT.removed.jsonl (items left out, with the reason) and
    OUT.stats.json, with chosen-vs-rejected length statistics: the length
    bias you are about to train in.

    Example: label export -d labels.sqlite -o prefs.jsonl --format dpo
    --min-agreement 0.6 --drop-ties
    """
    from labeling_app.export import ExportOptions, export_database

    options = build_options(ExportOptions, config=config,
                            format=output_format.value if output_format else None,
                            min_agreement=min_agreement, drop_ties=drop_ties,
                            min_votes=min_votes, simulated=simulated)
    for line in export_database(db, Path(output), options):
        typer.echo(line, err=True)


@app.command("report")
@cli_errors
def report_command(
    source: Annotated[str, typer.Argument(
        help="A labeling database, or a judgment file: prefkit's raw export, AlpacaEval "
        "annotations or Chatbot Arena battles.")],
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object (n_pairs, p_longer_wins, p_longer_wins_ci, "
        "length_coef, lc_win_rate, p_left_wins, agreement, ...).")] = False,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write an HTML report, with OUT.json (the JSON object) and "
        "OUT.png (the length curve) beside it.")] = None,
    min_length_diff: Annotated[int | None, typer.Option(
        help="Length bias counts pairs differing by more than this many characters "
        "(default: 30).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the bootstrap intervals (default: 0).")] = None,
    simulated: Annotated[bool | None, typer.Option(
        "--simulated/--no-simulated", help="Include simulated votes (default: include).")]
    = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
) -> None:
    """Agreement, length bias and position bias of pairwise judgments, from
    people or AI judges.

    Agreement: percent (with and without ties), Cohen's kappa per labeler
    pair, Krippendorff's alpha (nominal, 3 classes; ordinal, 5 points).
    Length: P(longer wins) with a bootstrap CI, a win-rate curve by length
    difference, a logistic coefficient on tanh(length difference / sd), and
    length-controlled win rates per source model (AlpacaEval's method).
    Position: P(left wins). Per labeler: speed, left and longer shares,
    agreement, gold accuracy, flags.

    Example: label report labels.sqlite -o report.html

    Example: label report alpaca_eval_gpt4_annotations.json --json
    """
    from labeling_app.report import ReportOptions, run_report

    options = build_options(ReportOptions, config=config, min_length_diff=min_length_diff,
                            seed=seed, simulated=simulated)
    summary, line = run_report(source, options, output=output,
                               rejects=Rejects(on_error.value))
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    elif output is None:
        from rich.markdown import Markdown

        from labeling_app.report import overview_markdown

        _stdout().print(Markdown(overview_markdown(summary)))
    typer.echo(line, err=True)


def _stderr():
    from rich.console import Console

    return Console(stderr=True)


def _stdout():
    from rich.console import Console

    return Console()


if __name__ == "__main__":
    app()
