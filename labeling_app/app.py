"""The Gradio app: a labeling tab for everyone, an admin tab for admins only.

The labeling tab follows the project's task: A/B judgments on a 5-point scale (here), or
rankings and ratings of K responses (`labeling_app.multi_view`). The admin tab has the
metrics of any task, the AI judges' bias report, the review queue and the exports.

Everything that matters is decided on the server: who the user is (`gr.Request`), which
item they hold (their lease), which side was on the left, whether a vote is too fast,
and whether they may see the admin panels or exports. The page only shows and clicks.
Item texts are untrusted: they reach the page as HTML rendered by `labeling_app.render`
(markdown only, nothing that loads, submits or covers the page). `labeling_app.server`
puts the app behind its login, host, origin and size checks.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, ClassVar

import anyio
import gradio as gr
from pydantic import BaseModel, ConfigDict, Field

from labeling_app import export as exporting
from labeling_app import plots, report, review
from labeling_app.exports import ExportFiles
from labeling_app.guard import Access
from labeling_app.judge_bias import judges_table
from labeling_app.multi_view import MultiView
from labeling_app.project import Project
from labeling_app.render import markdown_escape, text_html
from labeling_app.server import Running, serve
from labeling_app.store import MAX_RATIONALE, Assignment, Store, VoteRejected
from labeling_app.summary import database_summary
from schemas.labeling import SHOWN

LOCAL_USER = "local"
_ASSETS = files("labeling_app") / "assets"
_BUTTONS = {"left_much": "A much better [1]", "left": "A better [2]", "tie": "Tie [3]",
            "right": "B better [4]", "right_much": "B much better [5]",
            "both_bad": "Both bad [b]", "skip": "Skip [s]"}
assert tuple(_BUTTONS) == SHOWN
_BUTTON_CLASS = {"left_much": "scale", "left": "scale", "tie": "scale tie", "right": "scale",
                 "right_much": "scale", "both_bad": "aside", "skip": "aside"}
_IDLE = "() => { document.body.classList.remove('prefkit-busy'); }"
_RATIONALE = 6  # position of the rationale box in a view (see `_view` and `blocks`)


class ServeOptions(BaseModel):
    """Options of `label serve` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int | None = Field(None, ge=1, le=65535, description="Default: the first free port "
                             "from 7860.")
    open: bool = Field(False, description="Single-user local mode: no login, one admin user "
                       "named 'local'. Loopback hosts only.")
    allowed_host: list[str] = Field(default_factory=list, description="Host names labelers "
                                    "use (the Host header is checked); loopback names are "
                                    "always allowed. Needed to serve on a non-loopback "
                                    "interface; '*' allows any (not with --open).")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="Hours a login lasts.")
    trusted_proxy: list[str] = Field(default_factory=lambda: ["127.0.0.1"], description=(
        "Addresses of reverse proxies whose X-Forwarded-For/-Proto headers are believed "
        "(login rate limits per client address, Secure cookies behind HTTPS)."))
    min_seconds: float = Field(3.0, ge=0, description="Votes sooner than this after the item "
                               "is served are refused.")
    lease_ttl: float = Field(600.0, gt=0, description="Seconds a labeler holds an item before "
                             "it returns to the pool.")
    guidelines: Path | None = Field(None, description="Markdown guidelines (default: bundled).")
    guidelines_version: str | None = Field(None, description="Default: 1 for the bundled "
                                           "guidelines, a content hash for a file.")


@dataclass(frozen=True)
class Guidelines:
    text: str
    version: str


_BUNDLED = {"pairwise": ("guidelines.md", "1"), "ranking": ("guidelines_ranking.md", "ranking-1"),
            "ratings": ("guidelines_ratings.md", "ratings-1")}


def load_guidelines(path: Path | None = None, version: str | None = None, *,
                    task: str = "pairwise") -> Guidelines:
    """The bundled guidelines of the task (version 1, ranking-1 or ratings-1), or a markdown
    file versioned by `version` or, by default, by its content hash, so every judgment
    records exactly what was shown."""
    if path is None:
        name, default = _BUNDLED[task]
        return Guidelines((_ASSETS / name).read_text(encoding="utf-8"), version or default)
    text = Path(path).read_text(encoding="utf-8")
    return Guidelines(text, version or "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:12])


@dataclass
class LabelingApp:
    """The handlers, bound to one store; `blocks()` lays them out."""

    store: Store
    guidelines: Guidelines
    min_seconds: float = 3.0
    open_mode: bool = False
    # Export files, downloadable by admins for an hour; deleted when the server stops.
    exports: ExportFiles = field(default_factory=ExportFiles)
    idle_js = _IDLE
    # Votes skip Gradio's pre- and postprocessing: it runs each component's (trivial) step
    # in a worker thread of its own, 47 thread handoffs for a K = 4 ratings vote, which
    # were a third of the server's CPU per vote. The handlers check the raw values and
    # return values as the page takes them (strings, None, lists, updates).
    RAW_VALUES: ClassVar[dict[str, bool]] = {"preprocess": False, "postprocess": False}

    def __post_init__(self) -> None:
        self.project: Project = self.store.project() or Project(task="pairwise")
        self.multi = MultiView(self, self.store.max_responses()) if self.project.multi else None

    # -- who is asking -----------------------------------------------------------------

    def user(self, request: gr.Request) -> str:
        if self.open_mode:
            return LOCAL_USER
        if not request.username or self.store.role(request.username) is None:
            raise gr.Error("not logged in")
        return request.username

    def admin(self, request: gr.Request) -> str:
        user = self.user(request)
        if self.store.role(user) != "admin":
            raise gr.Error("admins only")
        return user

    # -- labeling ------------------------------------------------------------------------

    def on_load(self, request: gr.Request) -> tuple[Any, ...]:
        user = self.user(request)
        admin_tab = gr.update(visible=self.store.role(user) == "admin")
        view = self.multi.view if self.multi else self._view
        return (*view(user, self.store.next_assignment(user), ""), admin_tab)

    def counter(self, user: str) -> str:
        progress = self.store.progress(user)
        return (f"**{markdown_escape(user)}** · **{progress.judged_by_user}** judged by you "
                f"· items complete: {progress.items_complete} / {progress.items_total}")

    def on_vote(self, shown: str, lease_id: int | None, rationale: str,
                request: gr.Request) -> tuple[Any, ...]:
        user = self.user(request)
        try:
            self.store.submit(user, lease_id, shown, rationale=rationale or "",
                              guideline_version=self.guidelines.version,
                              min_seconds=self.min_seconds)
        except VoteRejected as refusal:
            view = self._view(user, self.store.next_assignment(user), f"**Not saved:** {refusal}")
            return (*view[:_RATIONALE], gr.skip(), *view[_RATIONALE + 1:])  # keep what was typed
        message = "Skipped." if shown == "skip" else "Saved."
        return self._view(user, self.store.next_assignment(user), message)

    def _view(self, user: str, assignment: Assignment | None, message: str) -> tuple[Any, ...]:
        counter = self.counter(user)
        if assignment is None:
            idle = ("<h3>Nothing to judge right now</h3><p>All items are judged, or held by "
                    "other labelers: reload the page later.</p>")
            return (None, idle, "", "", counter, message, "",
                    *(gr.update(interactive=False) for _ in SHOWN))
        item = assignment.item
        return (assignment.lease_id, text_html(item.prompt),
                *(text_html(getattr(item, pane)) for pane in assignment.panes),
                counter, message, "", *(gr.update(interactive=True) for _ in SHOWN))

    # -- admin -------------------------------------------------------------------------

    def on_admin_refresh(self, simulated: bool, voters: str | None,
                         request: gr.Request) -> tuple[Any, ...]:
        self.admin(request)
        summary = database_summary(self.store, include_simulated=simulated,
                                   voters=voters or "human")
        complete, total = self.store.item_counts()
        filled, needed = self.store.slot_counts()
        head = (f"<p><b>Progress:</b> {complete:,} / {total:,} items complete · {filled:,} / "
                f"{needed:,} judgments · {self.store.live_leases()} items being judged now · "
                f"{self.project.task} project · guidelines version "
                f"<code>{html.escape(self.guidelines.version)}</code></p>")
        agreement = report.criteria_table(summary) if self.project.task == "ratings" \
            else report.kappa_table(summary)
        return (head + report.overview_html(summary), report.labelers_table(summary),
                plots.length_curve_figure(summary["length_curve"]), report.models_table(summary),
                agreement, judges_table(summary["ai_judges"]))

    def on_review_queue(self, simulated: bool, request: gr.Request) -> Any:
        self.admin(request)
        return review.queue(self.store, include_simulated=simulated)

    def on_review_pick(self, table: Any, event: gr.SelectData, request: gr.Request) -> str:
        self.admin(request)
        row = event.index[0] if isinstance(event.index, list | tuple) else event.index
        return str(table["item_id"][row]) if table is not None and row < len(table) else ""

    def on_review_open(self, item_id: str, request: gr.Request) -> str:
        self.admin(request)
        return review.item_html(self.store, (item_id or "").strip())

    def on_adjudicate(self, item_id: str, decision: str, note: str,
                      request: gr.Request) -> tuple[str, str]:
        admin = self.admin(request)
        item_id = (item_id or "").strip()
        item = self.store.item(item_id)
        if item is None:
            return f"**Not saved:** no item {markdown_escape(item_id)!r}", ""
        try:
            self.store.adjudicate(item_id, admin, review.parse_decision(item, decision),
                                  note=note or "")
        except ValueError as refusal:  # a bad decision (StoreError is a ValueError too)
            return f"**Not saved:** {markdown_escape(str(refusal))}", \
                review.item_html(self.store, item_id)
        return "Decided: it is the item's gold answer now.", review.item_html(self.store, item_id)

    async def on_export(self, kind: str, min_agreement: float, drop_ties: bool, simulated: bool,
                        voters: str | None, rule: str | None,
                        request: gr.Request) -> tuple[str, str]:
        self.admin(request)
        try:
            options = exporting.ExportOptions(format=kind, min_agreement=min_agreement,
                                              drop_ties=drop_ties, include_simulated=simulated,
                                              voters=voters or "human", rule=rule or "overall")
            return await anyio.to_thread.run_sync(self._export, options)
        except ValueError as problem:  # a rule that names no criterion
            return "", f"**Not exported:** {markdown_escape(str(problem))}"

    def _export(self, options: exporting.ExportOptions) -> tuple[str, str]:
        """Write an export into the private export folder; a download link (admins only, for
        an hour) and a note."""
        computed = exporting.compute(self.store, options)
        name = {"dpo": "preferences.jsonl", "judgments": "judgments.csv",
                "ratings": "ratings.jsonl"}[options.format]
        token, path = self.exports.new_path(name)
        computed.write(path)
        if options.format == "judgments":
            note = f"{len(computed.records)} judgments."
        else:
            reasons = ", ".join(f"{count} {reason}" for reason, count in
                                sorted(exporting.reason_counts(computed.removed).items()))
            unit = "pairs" if options.format == "dpo" else "rated responses"
            note = (f"{len(computed.records)} {unit}, {len(computed.removed)} items left out"
                    + (f" ({reasons})" if reasons else "") + ". "
                    + " ".join(line + "." for line in computed.lines(options)))
        url = self.exports.publish(token, path)
        return ((f'<a href="{html.escape(url)}" download="{name}" id="export-link">Download '
                f"{name}</a> (for an hour; {options.voters_note()})"), note)

    # Gradio finds `gr.Request` through a handler's type hints, which a `functools.partial`
    # hides: these build real functions instead.
    def _vote_handler(self, shown: str):
        def vote(lease_id: int | None, rationale: str, request: gr.Request) -> tuple[Any, ...]:
            return self.on_vote(shown, lease_id, rationale, request)

        return vote

    def _export_handler(self, kind: str):
        async def export(min_agreement: float, drop_ties: bool, simulated: bool,
                         voters: str | None, rule: str | None,
                         request: gr.Request) -> tuple[Any, str]:
            return await self.on_export(kind, min_agreement, drop_ties, simulated, voters, rule,
                                        request)

        return export

    # -- layout ------------------------------------------------------------------------

    def _criteria_text(self) -> str:
        return "\n".join(f"- **{c.name}** ({c.low} to {c.high}): {markdown_escape(c.guideline)}"
                         for c in self.project.criteria)

    def _pairwise_tab(self, lease: Any, counter: Any) -> list[Any]:
        gr.Markdown("Prompt", elem_classes="caption")
        prompt = gr.HTML("Loading...", elem_id="prompt", container=True, padding=True,
                         elem_classes="item-text")
        with gr.Row(equal_height=True):
            panes = []
            for side in ("left", "right"):
                with gr.Column(scale=1, min_width=240):
                    gr.Markdown(f"Response {'A' if side == 'left' else 'B'}",
                                elem_classes="caption")
                    panes.append(gr.HTML(elem_id=f"pane-{side}", container=True, padding=True,
                                         elem_classes=["pane", "item-text"]))
        with gr.Row(elem_id="votes"):
            buttons = [gr.Button(label, elem_id=f"vote-{shown}", interactive=False,
                                 elem_classes=_BUTTON_CLASS[shown], min_width=110,
                                 variant="primary" if shown.endswith("_much") else "secondary")
                       for shown, label in _BUTTONS.items()]
        message = gr.Markdown(elem_id="message")
        rationale = gr.Textbox(label="Rationale (optional; required for Both bad and Skip)",
                               elem_id="rationale", lines=2, max_length=MAX_RATIONALE,
                               placeholder="Why? Keys do not vote while you type here.")
        return [lease, prompt, *panes, counter, message, rationale, *buttons]

    def blocks(self) -> gr.Blocks:
        with gr.Blocks(title="prefkit label", analytics_enabled=False) as app:
            lease = gr.State(None)
            with gr.Tab("Label"):
                with gr.Row(elem_id="topbar", equal_height=True):
                    counter = gr.Markdown(elem_id="progress")
                    if not self.open_mode:
                        gr.Button("Log out", link="logout", size="sm", scale=0, min_width=90)
                with gr.Accordion(f"Guidelines (version {self.guidelines.version})", open=False,
                                  elem_id="guidelines"):
                    gr.Markdown(self.guidelines.text)
                    if self.project.criteria:
                        gr.Markdown(self._criteria_text(), elem_id="criteria")
                if self.multi:
                    self.multi.build(lease, counter)
                    view = self.multi.outputs
                else:
                    view = self._pairwise_tab(lease, counter)
            with gr.Tab("Admin", visible=False) as admin_tab:
                admin = self._admin_tab()
            # Page loads and votes are a few ms of SQLite work: they skip Gradio's queue (one
            # POST instead of a join plus an SSE stream, about 3x lower latency). Gradio's
            # thread pool bounds them, SQLite's write lock orders them. Admin work is queued.
            app.load(self.on_load, None, [*view, admin_tab], api_name="load", queue=False)
            if self.multi:
                self.multi.wire()
            else:
                rationale, buttons = view[6], view[7:]
                for shown, button in zip(SHOWN, buttons, strict=True):
                    # shortcuts.js greys the buttons out (and ignores keys) from the click
                    # until this `.then` runs, once the next item is on screen: no double votes.
                    button.click(self._vote_handler(shown), [lease, rationale], view,
                                 api_name=f"vote_{shown}", queue=False, **self.RAW_VALUES
                                 ).then(None, js=_IDLE, queue=False)
            self._wire_admin(admin, admin_tab)
        return app

    def _admin_tab(self) -> dict[str, Any]:
        c: dict[str, Any] = {}
        with gr.Row(equal_height=True):
            c["refresh"] = gr.Button("Refresh", elem_id="admin-refresh", size="sm", scale=0,
                                     min_width=100)
            c["voters"] = gr.Radio(["human", "ai", "all"], value="human", elem_id="voters",
                                   label="Votes counted (people, AI judges or both)")
            c["simulated"] = gr.Checkbox(False, label="Include simulated votes (panels and "
                                         "exports)", elem_id="include-simulated")
        c["overview"] = gr.HTML("Press Refresh.", elem_id="overview")
        with gr.Row():
            c["curve"] = gr.Plot(show_label=False, scale=3)
            c["models"] = gr.Dataframe(label="Win rate per source model (raw and "
                                       "length-controlled)", type="polars", interactive=False,
                                       scale=2)
        unit = "votes" if not self.multi else "judgments; the rates are over pairs of responses"
        c["labelers"] = gr.Dataframe(label=f"Labelers ({unit}; p_left_wins and p_longer_wins "
                                     "with 95% CI; flags need 10+ votes)", type="polars",
                                     interactive=False)
        c["agreement"] = gr.Dataframe(
            label="Agreement per criterion (Krippendorff's alpha)"
            if self.project.task == "ratings" else
            "Cohen's kappa per labeler pair (5+ shared items)", type="polars", interactive=False)
        c["judges"] = gr.Dataframe(label="AI judges against the labelers on the same items",
                                   type="polars", interactive=False, elem_id="judges")
        with gr.Accordion("Review queue: lowest agreement first", open=False,
                          elem_id="review"):
            c["queue_refresh"] = gr.Button("Load the queue", size="sm", elem_id="queue-refresh")
            c["queue"] = gr.Dataframe(label="Items judged by two or more people (click a row)",
                                      type="polars", interactive=False, elem_id="queue")
            with gr.Row(equal_height=True):
                c["item_id"] = gr.Textbox(label="Item id", elem_id="review-item-id", scale=2)
                c["open"] = gr.Button("Open", size="sm", scale=0, min_width=90,
                                      elem_id="review-open")
            c["item"] = gr.HTML(elem_id="review-item")
            with gr.Row(equal_height=True):
                c["decision"] = gr.Textbox(
                    label="Decision: " + ("a ranking of the letters above, e.g. B > A = C"
                                          if self.multi else "A, B or tie"),
                    elem_id="review-decision", scale=2)
                c["note"] = gr.Textbox(label="Note (kept with the decision)", scale=3,
                                       elem_id="review-note", max_length=MAX_RATIONALE)
                c["decide"] = gr.Button("Decide (becomes gold)", size="sm", scale=0,
                                        min_width=160, elem_id="review-decide")
            c["review_message"] = gr.Markdown(elem_id="review-message")
        with gr.Group():
            with gr.Row(equal_height=True):
                c["min_agreement"] = gr.Slider(0, 1, value=0.6, step=0.05,
                                               label="Minimum agreement", scale=2)
                c["drop_ties"] = gr.Checkbox(False, label="Drop tie votes")
                c["rule"] = gr.Textbox("overall", label="Ratings to pairs: 'overall' or "
                                       "criteria in priority order (harmless,helpful)",
                                       visible=self.project.task == "ratings", elem_id="rule")
            with gr.Row():
                c["export_pairs"] = gr.Button("Export DPO pairs (jsonl)", size="sm")
                c["export_votes"] = gr.Button("Export judgments (csv)", size="sm")
                c["export_ratings"] = gr.Button("Export ratings per criterion (jsonl)",
                                                size="sm",
                                                visible=self.project.task == "ratings")
        c["download"] = gr.HTML(elem_id="export-file")
        c["export_note"] = gr.Markdown()
        return c

    def _wire_admin(self, c: dict[str, Any], admin_tab: Any) -> None:
        outputs = [c[name] for name in ("overview", "labelers", "curve", "models", "agreement",
                                        "judges")]
        inputs = [c["simulated"], c["voters"]]
        c["refresh"].click(self.on_admin_refresh, inputs, outputs, api_name="admin_refresh")
        admin_tab.select(self.on_admin_refresh, inputs, outputs, api_visibility="private")
        c["queue_refresh"].click(self.on_review_queue, c["simulated"], c["queue"],
                                 api_name="review_queue")
        c["queue"].select(self.on_review_pick, c["queue"], c["item_id"],
                          api_visibility="private"
                          ).then(self.on_review_open, c["item_id"], c["item"],
                                 api_visibility="private")
        c["open"].click(self.on_review_open, c["item_id"], c["item"], api_name="review_item")
        c["decide"].click(self.on_adjudicate, [c["item_id"], c["decision"], c["note"]],
                          [c["review_message"], c["item"]], api_name="adjudicate")
        export_inputs = [c["min_agreement"], c["drop_ties"], c["simulated"], c["voters"],
                         c["rule"]]
        for button, kind in ((c["export_pairs"], "dpo"), (c["export_votes"], "judgments"),
                             (c["export_ratings"], "ratings")):
            button.click(self._export_handler(kind), export_inputs,
                         [c["download"], c["export_note"]], api_name=f"export_{kind}")


def launch(labeling: LabelingApp, *, host: str = "127.0.0.1", port: int | None = None,
           access: Access | None = None) -> Running:
    """Start the server in the background (see `labeling_app.server`); `.url` is its address,
    `.wait()` blocks until Ctrl+C or SIGTERM, `.close()` stops it."""
    access = access or Access(open_mode=labeling.open_mode)
    blocks = labeling.blocks()
    blocks.queue(default_concurrency_limit=2)  # admin refreshes and exports at once
    # System fonts: nothing fetched from font services, the same look offline.
    theme = gr.themes.Default(primary_hue="indigo", neutral_hue="slate",
                              font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return serve(blocks, store=labeling.store, access=access, exports=labeling.exports,
                 local_user=LOCAL_USER, host=host, port=port, theme=theme,
                 css=(_ASSETS / "app.css").read_text(encoding="utf-8"),
                 head="".join(f"<script>{(_ASSETS / name).read_text(encoding='utf-8')}</script>"
                              for name in ("shortcuts.js", "ranking.js")))
