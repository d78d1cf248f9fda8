"""The `label` command: import, serve, users, simulate, export, report, backup."""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import socket
import sqlite3
import sys
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from typer.core import TyperGroup, _click  # Typer ships its own click

from curate.cli_support import (
    EXIT_BAD_INPUT,
    Config,
    OnError,
    OnErrorChoice,
    Output,
    Split,
    cli_errors,
    fail,
)
from curate.io import Rejects, write_json, write_records
from curate.options import build_options


class _OneLineErrors(TyperGroup):
    """Usage errors (a missing option, a typo) as one `error:` line and exit 1, like every
    other failure of `label`, instead of click's usage block and exit 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except _click.exceptions.ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `label` alone: the help
                exc.show()
                sys.exit(0)
            where = f"{exc.ctx.command_path}: " if getattr(exc, "ctx", None) else ""
            typer.secho(f"error: {where}{exc.format_message()} (see --help)",
                        fg=typer.colors.RED, err=True)
            sys.exit(EXIT_BAD_INPUT)
        except (typer.Abort, KeyboardInterrupt):
            typer.secho("interrupted", err=True)
            sys.exit(130)
        sys.exit(result if isinstance(result, int) else 0)


app = typer.Typer(name="label", help="Label preferences in the browser (A/B pairs, rankings, "
                  "ratings): import, serve, users, simulate, judge, export, report, backup.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False, cls=_OneLineErrors)
users_app = typer.Typer(help="Add, list, disable and remove labelers and admins.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")

Db = Annotated[Path, typer.Option("--db", "-d", help="The labeling database (SQLite).")]
IncludeSimulated = Annotated[bool, typer.Option(
    "--include-simulated", help="Count votes of simulated labelers (`label simulate`); left "
    "out by default, and always flagged.")]
F = TypeVar("F", bound=Callable[..., Any])


def label_errors(function: F) -> F:
    """`cli_errors`, plus database and file-system errors as one line naming the file."""
    checked = cli_errors(function)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return checked(*args, **kwargs)
        except sqlite3.Error as exc:
            fail(f"{kwargs.get('db') or 'database'}: {exc}")
        except OSError as exc:
            if exc.filename and isinstance(exc, FileExistsError | NotADirectoryError) \
                    and Path(exc.filename).is_file():
                fail(f"{exc.filename}: is a file, so it cannot be a folder of the output")
            fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))

    return wrapper  # type: ignore[return-value]


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
    ratings = "ratings"


class Task(str, Enum):
    pairwise = "pairwise"
    ranking = "ranking"
    ratings = "ratings"


class Voters(str, Enum):
    human = "human"
    ai = "ai"
    all = "all"


RuleOption = Annotated[str | None, typer.Option(
    help="Ratings projects: how ratings become pair preferences: 'overall' (the mean of the "
    "criteria, each rescaled to 0-1) or criteria in priority order, e.g. 'harmless,helpful' "
    "(default: overall).")]
VotersOption = Annotated[Voters | None, typer.Option(
    help="Whose votes count: human (labelers), ai (judges from `label judge`) or all "
    "(default: human). Every output says which.")]


@app.command("import")
@label_errors
def import_command(
    items: Annotated[str, typer.Argument(help="Items file (from `curate pairs`): jsonl, json, "
                                         "parquet or a saved dataset.")],
    db: Db,
    overlap: Annotated[int | None, typer.Option(
        help="Judgments each item needs, from different labelers (default: 3).")] = None,
    max_chars: Annotated[int | None, typer.Option(
        help="Characters one text (prompt, response or turn) may have; a longer one is bad "
        "input (default: 100000).")] = None,
    truncate: Annotated[bool | None, typer.Option(
        "--truncate", help="Cut texts over --max-chars with a marker saying how much was cut "
        "(counted in the stats and the item's meta.truncated) instead of rejecting them.")]
    = None,
    task: Annotated[Task | None, typer.Option(
        help="The project's task, fixed at the first import: pairwise (A/B items), ranking or "
        "ratings (items with K responses). Default: the database's, else ranking for items "
        "with responses, pairwise otherwise.")] = None,
    criteria: Annotated[Path | None, typer.Option(
        help="Ratings: a YAML file of criteria (name, low, high, guideline) and flags "
        "(default: helpful, truthful, harmless on 1-7; flags unsafe, hallucination, "
        "refusal).")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
) -> None:
    """Load items into the database (created if missing).

    An A/B item is {id, prompt, response_a, response_b, source_a, source_b,
    meta} with an optional gold answer (a, b or tie). A K-way item is {id,
    prompt, responses, sources, meta} (from `curate pairs --from-candidates
    --task ranking`), ranked or rated per criterion (--task ratings) in the
    app, with an optional gold ranking. Importing again is safe:
    identical items are unchanged, a new --overlap is applied, and an id with
    other content is bad input. In raise mode nothing is imported on error.
    An empty file, a line that is not UTF-8 and a text over --max-chars are
    bad input too.

    Writes DB.import.stats.json (and DB.import.rejects.jsonl with --on-error
    skip).

    Example: label import items.jsonl -d labels.sqlite --overlap 3

    Example: label import ranking.jsonl -d ratings.sqlite --task ratings
    """
    from labeling_app.importing import ImportOptions, import_items, write_import_sidecars
    from labeling_app.store import Store

    options = build_options(ImportOptions, config=config, overlap=overlap, max_chars=max_chars,
                            truncate=truncate, task=task.value if task else None,
                            criteria=criteria)
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
    cut = f", {extra['truncated']} truncated" if extra["truncated"] else ""
    typer.echo(f"{stats.summary_line()} (added {extra['added']}, updated {extra['updated']}, "
               f"unchanged {extra['unchanged']}{cut}; overlap {options.overlap}; "
               f"{extra['task']} project)", err=True)


@users_app.command("add")
@label_errors
def users_add(
    name: Annotated[str, typer.Argument(help="User name (the login).")],
    db: Db,
    role: Annotated[Role, typer.Option(help="annotator labels; admin also sees the Admin tab "
                                       "and exports.")] = Role.annotator,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from the first line of stdin (also used "
        "when stdin is not a terminal).")] = False,
    replace: Annotated[bool, typer.Option(
        help="Reset the role and password of an existing user (and enable it); its "
        "sessions end.")] = False,
) -> None:
    """Add a user; the password is prompted for (twice) or read from stdin.
    Passwords are stored as salted scrypt hashes. A password has at least
    12 characters and is not the user name. Names: letters, digits, . _ @ + -

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


@users_app.command("disable")
@label_errors
def users_disable(
    name: Annotated[str, typer.Argument(help="User name.")],
    db: Db,
) -> None:
    """Stop a user from logging in: their sessions end at once (also on a
    running server) and their held item returns to the pool. Their
    judgments are kept. `label users enable` undoes it.

    Example: label users disable alice -d labels.sqlite
    """
    _set_disabled(db, name, True)


@users_app.command("enable")
@label_errors
def users_enable(
    name: Annotated[str, typer.Argument(help="User name.")],
    db: Db,
) -> None:
    """Let a disabled user log in again.

    Example: label users enable alice -d labels.sqlite
    """
    _set_disabled(db, name, False)


def _set_disabled(db: Path, name: str, disabled: bool) -> None:
    from labeling_app.store import Store

    with Store(db) as store:
        store.set_disabled(name, disabled)
    typer.echo(f"label users: {name!r} {'disabled' if disabled else 'enabled'}", err=True)


@users_app.command("remove")
@label_errors
def users_remove(
    name: Annotated[str, typer.Argument(help="User name.")],
    db: Db,
    delete_judgments: Annotated[bool, typer.Option(
        "--delete-judgments", help="Also delete the user's judgments (their items reopen); "
        "they are saved to DB.removed-NAME-TIME.jsonl first.")] = False,
) -> None:
    """Delete a user. A user with judgments is refused unless
    --delete-judgments (to keep the judgments, disable the user instead).

    Example: label users remove alice -d labels.sqlite

    Example: label users remove spammer -d labels.sqlite --delete-judgments
    """
    from labeling_app.store import Store

    saved = db.with_name(f"{db.stem}.removed-{name}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl")
    with Store(db) as store:
        deleted = store.remove_user(name, save=functools.partial(write_records, saved)
                                    if delete_judgments else None)
    note = f"; its {deleted} judgments deleted (saved to {saved})" if deleted else ""
    typer.echo(f"label users: {name!r} removed{note}", err=True)


@users_app.command("list")
@label_errors
def users_list(db: Db) -> None:
    """List users as JSON lines: name, role, kind (human or ai), simulated,
    disabled, can_log_in,
    judgments, sessions (live logins).

    Example: label users list -d labels.sqlite
    """
    from labeling_app.store import Store

    with Store(db) as store:
        for user in store.users():
            typer.echo(json.dumps(user))


@app.command("serve")
@label_errors
def serve_command(
    db: Db,
    host: Annotated[str | None, typer.Option(
        help="Interface to listen on; 0.0.0.0 for the network (then name the host with "
        "--allowed-host) (default: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(
        help="Port (default: the first free one from 7860).")] = None,
    open_mode: Annotated[bool | None, typer.Option(
        "--open/--login", help="--open: single-user local mode, no login, as the admin user "
        "'local' (loopback hosts only). Default: --login.")] = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        help="A host name labelers reach the app by (repeatable), e.g. labels.example.com "
        "behind a reverse proxy: requests for other names are refused. Loopback names are "
        "always allowed. '*' allows any name (login mode only).")] = None,
    session_hours: Annotated[float | None, typer.Option(
        help="Hours a login lasts (default: 12).")] = None,
    trusted_proxy: Annotated[list[str] | None, typer.Option(
        help="Address of a reverse proxy whose X-Forwarded-For/-Proto headers are believed "
        "(repeatable; default: 127.0.0.1).")] = None,
    min_seconds: Annotated[float | None, typer.Option(
        help="Refuse votes and skips sooner than this after the item appears (default: 3).")]
    = None,
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
    For a team, run it behind a reverse proxy with TLS (see the README).

    Example: label serve -d labels.sqlite --port 7860

    Example: label serve -d labels.sqlite --host 127.0.0.1 --allowed-host labels.example.com

    Example: label serve -d labels.sqlite --open
    """
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from labeling_app.app import LOCAL_USER, LabelingApp, ServeOptions, launch, load_guidelines
    from labeling_app.guard import Access
    from labeling_app.store import Store

    options = build_options(ServeOptions, config=config, host=host, port=port, open=open_mode,
                            allowed_host=allowed_host, session_hours=session_hours,
                            trusted_proxy=trusted_proxy, min_seconds=min_seconds,
                            lease_ttl=lease_ttl, guidelines=guidelines,
                            guidelines_version=guidelines_version)
    if options.open and not _is_loopback(options.host):
        fail(f"--open serves without a login, so only on a loopback host, not {options.host!r}")
    if options.open and "*" in options.allowed_host:
        fail("--open serves without a login: --allowed-host '*' is refused; name the hosts")
    if not _is_loopback(options.host) and not options.allowed_host:
        fail(f"--host {options.host} serves the network: name the host name(s) labelers use "
             "with --allowed-host (e.g. labels.example.com), or '*' for any")
    _owner_only(db)
    store = Store(db, lease_ttl=options.lease_ttl)
    if options.open:
        if store.role(LOCAL_USER) is None:
            store.add_user(LOCAL_USER, role="admin", replace=True)
    elif not any(user["can_log_in"] for user in store.users()):
        fail(f"nobody can log in to {db}: add a user with `label users add NAME -d {db} --role "
             "admin`, or serve with --open")
    labeling = LabelingApp(store, load_guidelines(options.guidelines, options.guidelines_version,
                                                  task=store.task),
                           min_seconds=options.min_seconds, open_mode=options.open)
    access = Access(open_mode=options.open, allowed_hosts=tuple(options.allowed_host),
                    session_hours=options.session_hours,
                    trusted_proxies=tuple(options.trusted_proxy))
    try:
        running = launch(labeling, host=options.host, port=options.port, access=access)
    except BaseException:
        labeling.exports.close()
        store.close()
        raise
    mode = "single-user local mode, no login" if options.open else "login required"
    running.handle_signals()
    typer.echo(f"label serve: {db} at {running.url} ({mode}); Ctrl+C to stop", err=True)
    try:
        running.wait()
    finally:
        running.close()  # also deletes the export files
        store.close()
    typer.echo("label serve: stopped", err=True)


def _owner_only(db: Path) -> None:
    """The database holds password hashes and judgments: make it readable by its owner only
    (databases made before prefkit created them 0600 were world-readable)."""
    if not db.exists():
        raise FileNotFoundError(f"{db}: no such database (create it with `label import`)")
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
            typer.echo(f"label serve: {path} was readable by others; now 0600", err=True)


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None))
    except (socket.gaierror, ValueError):
        return False


@app.command("simulate")
@label_errors
def simulate_command(
    db: Db,
    labelers: Annotated[int | None, typer.Option(help="Simulated labelers (default: 5).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the votes and of the left/right sides (default: 0).")] = None,
    policy: Annotated[Policy | None, typer.Option(
        help="quality: the known better side (gold or meta.truth) with --accuracy; length: the "
        "longer one; left: always left; random (default: quality). On rankings and ratings: "
        "the gold ranking, longer first, screen order, or a random order.")] = None,
    accuracy: Annotated[float | None, typer.Option(
        help="How often the quality policy is right (default: 0.85).")] = None,
    config: Config = None,
) -> None:
    """Fill the database with seeded votes of simulated labelers, for demos
    and tests. They are users named sim-01, sim-02, ... without a password;
    the users and each of their judgments are flagged simulated, and export,
    report and the dashboard leave them out unless asked to include them.

    Writes DB.simulate.stats.json.

    Example: label simulate -d labels.sqlite --labelers 5 --seed 0 --policy length
    """
    from curate.progress import progress
    from labeling_app.simulate import SimulateOptions, simulate, streams
    from labeling_app.store import Store

    options = build_options(SimulateOptions, config=config, labelers=labelers, seed=seed,
                            policy=policy.value if policy else None, accuracy=accuracy)
    started = time.perf_counter()
    positions, clicks = streams(options.seed)
    with Store(db, rng=positions) as store:
        open_slots = sum(max(overlap - done, 0) for _, overlap, done in store.items())
        with progress("label simulate", "simulated votes", open_slots, unit="votes") as advance:
            votes = simulate(store, labelers=options.labelers, policy=options.policy,
                             rng=clicks, accuracy=options.accuracy, on_vote=advance)
    seconds = time.perf_counter() - started
    write_json(db.with_suffix(".simulate.stats.json"),
               {"step": "label simulate", **options.model_dump(), "votes": sum(votes.values()),
                "votes_by_user": votes, "seconds": round(seconds, 4)})
    typer.echo(f"label simulate: {sum(votes.values())} simulated votes by {len(votes)} labelers "
               f"(policy {options.policy}, seed {options.seed}) {seconds:.2f}s; export, report "
               "and the dashboard count them only with --include-simulated", err=True)


@app.command("judge")
@label_errors
def judge_command(
    db: Db,
    judge: Annotated[str | None, typer.Option(
        help="A local causal LM judge: a model directory, a hub id, or tiny (a small random "
        "model built on the spot: for trying the pipeline).")] = None,
    judge_url: Annotated[str | None, typer.Option(
        help="An OpenAI-compatible endpoint instead, e.g. http://localhost:8000/v1.")] = None,
    judge_model: Annotated[str | None, typer.Option(
        help="The model name the endpoint serves.")] = None,
    name: Annotated[str | None, typer.Option(
        help="The judge's user name (default: ai-MODEL).")] = None,
    source_name: Annotated[str | None, typer.Option(
        help="The judge's model as the items' sources name it, for the self-preference "
        "measure (default: the model name).")] = None,
    template: Annotated[Path | None, typer.Option(
        help="A judge prompt template ($guidelines, $prompt, $responses, ...; default: the "
        "bundled one of the task).")] = None,
    guidelines: Annotated[Path | None, typer.Option(
        help="Guidelines put in the prompt (default: the bundled ones of the task).")] = None,
    limit: Annotated[int | None, typer.Option(help="Judge at most this many items.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Requests at once to an endpoint (default: 4).")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        help="Longest answer from an endpoint (default: 1024).")] = None,
    api_key_env: Annotated[str | None, typer.Option(
        help="Environment variable with the endpoint's key (default: OPENAI_API_KEY).")]
    = None,
    config: Config = None,
) -> None:
    """Let an AI judge vote on every item it has not judged yet, in both
    orders (a disagreement between the orders counts as a tie). Its votes
    are stored as a user of kind ai: report, export and the dashboard count
    only human votes unless asked (--voters), and `label report` compares
    the judge with the labelers on the same items: agreement, P(longer wins),
    position consistency, self-preference.

    Writes DB.judge.stats.json (and DB.judge.unparsed.jsonl: answers that
    could not be read; those items are judged again next time).

    Example: label judge -d labels.sqlite --judge tiny --limit 20

    Example: label judge -d labels.sqlite --judge-url http://localhost:8000/v1
    --judge-model Qwen2.5-7B-Instruct
    """
    import tempfile

    from curate.progress import progress
    from labeling_app.app import load_guidelines
    from labeling_app.judge_models import open_backend
    from labeling_app.judging import (
        JudgeOptions,
        judge_user_name,
        load_template,
        model_texts,
        run_judge,
    )
    from labeling_app.store import Store

    options = build_options(JudgeOptions, config=config, judge=judge, judge_url=judge_url,
                            judge_model=judge_model, name=name, source_name=source_name,
                            template=template, guidelines=guidelines, limit=limit,
                            workers=workers, max_tokens=max_tokens, api_key_env=api_key_env)
    if bool(options.judge) == bool(options.judge_url):
        fail("name one judge: --judge MODEL (local) or --judge-url URL --judge-model NAME")
    model = options.judge_model if options.judge_url else options.judge
    user = options.name or judge_user_name(model or "")
    started = time.perf_counter()
    with Store(db) as store, tempfile.TemporaryDirectory(prefix="prefkit-judge-") as work:
        if store.project() is None:
            fail(f"{db}: no items yet (load them with `label import`)")
        task = store.task
        prompt_template = load_template(task, options.template)
        rules = load_guidelines(options.guidelines, task=task)
        existing = {u["name"]: u for u in store.users()}
        if user not in existing:
            store.add_user(user, kind="ai")
        elif existing[user]["kind"] != "ai":
            fail(f"user {user!r} exists and is not an AI judge; pick another --name")
        backend = open_backend(judge=options.judge, url=options.judge_url,
                               model=options.judge_model, workdir=work,
                               items_texts=model_texts(item for item, _, _ in store.items()),
                               api_key_env=options.api_key_env, max_tokens=options.max_tokens)
        todo = sum(1 for _ in store.items()) - len(store.judged_by(user))
        todo = min(todo, options.limit) if options.limit else todo
        try:
            with progress("label judge", "items", todo, unit="items") as advance:
                run = run_judge(store, backend, user=user,
                                judge_source=options.source_name or model, guidelines=rules,
                                template=prompt_template, limit=options.limit,
                                workers=options.workers if options.judge_url else 1,
                                on_item=advance)
        finally:
            backend.close()
    seconds = time.perf_counter() - started
    unparsed_path = db.with_suffix(".judge.unparsed.jsonl")
    if run.unparsed:
        write_records(unparsed_path, run.unparsed)
    consistency = run.position_consistency
    write_json(db.with_suffix(".judge.stats.json"),
               {"step": "label judge", "judge": user, "model": model, "task": task,
                "template": prompt_template.version, "guidelines_version": rules.version,
                "judged": run.judged, "judged_before": run.already,
                "unparsed": len(run.unparsed), "position_consistency": consistency,
                "seconds": round(seconds, 3)})
    same = f"{consistency:.0%}" if consistency is not None else "n/a"
    typer.echo(f"label judge: {run.judged} items judged by {user} in both orders (same verdict "
               f"{same}); {len(run.unparsed)} unparsed"
               + (f" (see {unparsed_path})" if run.unparsed else "")
               + f"; template {prompt_template.version} {seconds:.2f}s", err=True)


@app.command("export")
@label_errors
def export_command(
    db: Db,
    output: Output,
    output_format: Annotated[Format | None, typer.Option(
        "--format", help="dpo: PreferencePair records for `train dpo` / `train rm`; "
        "judgments: every raw judgment (.jsonl, .csv or .parquet); ratings (ratings "
        "projects): per response, mean scores per criterion and flag shares (default: dpo).")]
    = None,
    min_agreement: Annotated[float | None, typer.Option(
        help="dpo: drop pairs whose majority has a smaller share of the votes (default: 0).")]
    = None,
    drop_ties: Annotated[bool | None, typer.Option(
        "--drop-ties/--keep-ties", help="dpo: ignore tie votes when finding the majority "
        "(default: keep, a tie counts against agreement).")] = None,
    min_votes: Annotated[int | None, typer.Option(
        help="dpo: votes an item needs (default: its overlap, so complete items only).")]
    = None,
    include_simulated: IncludeSimulated = False,
    voters: VotersOption = None,
    rule: RuleOption = None,
    config: Config = None,
) -> None:
    """Export votes: majority-vote preference pairs (prompt, chosen,
    rejected; meta has strength, votes, agreement, item_id, source_chosen,
    source_rejected, simulated, voters) or the raw judgments. A ranking
    gives every pair of its responses that the votes decide, with the rank
    gap as strength; ratings give pairs by --rule, and --format ratings
    writes per-criterion scores per response (reward-model data).

    Writes OUT, OUT.removed.jsonl (items left out, with the reason, e.g.
    no_majority, identical_responses, empty_response) and OUT.stats.json,
    with chosen-vs-rejected length statistics: the length bias you are
    about to train in. In a .csv, text cells that a spreadsheet would run
    as a formula (= + - @) start with a ' (`label report` reads them back).

    Example: label export -d labels.sqlite -o prefs.jsonl --format dpo
    --min-agreement 0.6 --drop-ties

    Example: label export -d ratings.sqlite -o prefs.jsonl --rule harmless,helpful
    """
    from labeling_app.export import ExportOptions, export_database

    options = build_options(ExportOptions, config=config,
                            format=output_format.value if output_format else None,
                            min_agreement=min_agreement, drop_ties=drop_ties,
                            min_votes=min_votes, include_simulated=include_simulated or None,
                            voters=voters.value if voters else None, rule=rule)
    for line in export_database(db, Path(output), options):
        typer.echo(line, err=True)


@app.command("report")
@label_errors
def report_command(
    source: Annotated[str | None, typer.Argument(
        help="A judgment file: prefkit's raw export, AlpacaEval annotations or Chatbot Arena "
        "battles (a database goes with -d).")] = None,
    db: Annotated[Path | None, typer.Option(
        "--db", "-d", help="The labeling database (SQLite).")] = None,
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
    include_simulated: IncludeSimulated = False,
    voters: VotersOption = None,
    rule: RuleOption = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
) -> None:
    """Agreement, length bias and position bias of judgments, from people
    or AI judges; of rankings and ratings as votes on pairs of responses.

    Agreement: percent (with and without ties), Cohen's kappa per labeler
    pair, Krippendorff's alpha (nominal, 3 classes; ordinal, 5 points).
    Length: P(longer wins) with a bootstrap CI, a win-rate curve by length
    difference, a logistic coefficient on tanh(length difference / sd), and
    length-controlled win rates per source model (AlpacaEval's method).
    Position: P(left wins). Per labeler: speed, left and longer shares,
    agreement, gold accuracy, flags. Rankings add Kendall's W; ratings add
    Krippendorff's alpha (interval, ordinal) per criterion and flag shares.
    AI judges (`label judge`) get a bias report against the labelers on the
    same items: agreement, P(longer wins), position consistency, self-
    preference. Human votes are counted by default (--voters).

    Example: label report -d labels.sqlite -o report.html

    Example: label report alpaca_eval_gpt4_annotations.json --json
    """
    from labeling_app.judgments import is_database
    from labeling_app.report import ReportOptions, run_report

    if (source is None) == (db is None):
        fail("give a database with -d DB, or a judgment file, not both" if source
             else "give a database with -d DB, or a judgment file")
    if source is not None and is_database(Path(source)):
        typer.echo(f"note: pass the database with -d ({source} as an argument is deprecated)",
                   err=True)
    if db is not None and not is_database(db):
        fail(f"{db}: not a labeling database (SQLite); a judgment file goes without -d"
             if db.exists() else f"{db}: no such database")
    options = build_options(ReportOptions, config=config, min_length_diff=min_length_diff,
                            seed=seed, include_simulated=include_simulated or None,
                            voters=voters.value if voters else None, rule=rule)
    summary, line = run_report(str(db or source), options, output=output,
                               rejects=Rejects(on_error.value))
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False))
    elif output is None:
        from rich.console import Console
        from rich.markdown import Markdown

        from labeling_app.report import overview_markdown

        Console().print(Markdown(overview_markdown(summary)))
    typer.echo(line, err=True)


@app.command("backup")
@label_errors
def backup_command(
    db: Db,
    target: Annotated[Path, typer.Argument(help="The copy to write (a new file).")],
    overwrite: Annotated[bool, typer.Option(help="Replace TARGET if it exists.")] = False,
) -> None:
    """Copy a labeling database safely, also while `label serve` is writing
    to it: SQLite's online backup API, which includes votes still in the
    -wal file (a plain `cp` of a live database can lose the latest votes or
    copy a torn file). The copy is checked, is one self-contained file and
    is readable by its owner only.

    Example: label backup -d labels.sqlite backups/labels-2025-01-31.sqlite
    """
    from labeling_app.store import Store

    if target.exists() and not overwrite:
        fail(f"{target}: exists; pick a new name or pass --overwrite")
    if target.resolve() == db.resolve():
        fail(f"{target}: is the database itself")
    started = time.perf_counter()
    with Store(db) as store:
        pages = store.backup(target)
        complete, total = store.item_counts()
    typer.echo(f"label backup: {db} -> {target} ({pages:,} pages, {total:,} items, "
               f"{complete:,} complete) {time.perf_counter() - started:.2f}s", err=True)


if __name__ == "__main__":
    app()
