"""The Gradio app: a labeling tab for everyone, an admin tab for admins only.

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
import importlib
import threading
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import anyio
import gradio as gr
from pydantic import BaseModel, ConfigDict, Field

from curate.io import write_records
from labeling_app import export as exporting
from labeling_app import metrics, plots, report
from labeling_app.exports import ExportFiles
from labeling_app.guard import Access
from labeling_app.judgments import store_frame
from labeling_app.render import markdown_escape, text_html
from labeling_app.server import Running, serve
from labeling_app.store import MAX_RATIONALE, Assignment, Store, VoteRejected
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


def load_guidelines(path: Path | None = None, version: str | None = None) -> Guidelines:
    """The bundled guidelines (version 1), or a markdown file versioned by `version` or,
    by default, by its content hash, so every judgment records exactly what was shown."""
    if path is None:
        return Guidelines((_ASSETS / "guidelines.md").read_text(encoding="utf-8"), version or "1")
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
        return (*self._view(user, self.store.next_assignment(user), ""), admin_tab)

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
        progress = self.store.progress(user)
        counter = (f"**{markdown_escape(user)}** · **{progress.judged_by_user}** judged by you "
                   f"· items complete: {progress.items_complete} / {progress.items_total}")
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

    def on_admin_refresh(self, simulated: bool, request: gr.Request) -> tuple[Any, ...]:
        self.admin(request)
        frame, excluded = report.simulated_filter(store_frame(self.store), simulated)
        summary = {**metrics.summarize(frame), "simulated": excluded}
        complete, total = self.store.item_counts()
        filled, needed = self.store.slot_counts()
        head = (f"<p><b>Progress:</b> {complete:,} / {total:,} items complete · {filled:,} / "
                f"{needed:,} judgments · {self.store.live_leases()} items being judged now · "
                f"guidelines version <code>{html.escape(self.guidelines.version)}</code></p>")
        return (head + report.overview_html(summary), report.labelers_table(summary),
                plots.length_curve_figure(summary["length_curve"]), report.models_table(summary),
                report.kappa_table(summary))

    async def on_export(self, kind: str, min_agreement: float, drop_ties: bool, simulated: bool,
                        request: gr.Request) -> tuple[str, str]:
        self.admin(request)
        options = exporting.ExportOptions(format=kind, min_agreement=min_agreement,
                                          drop_ties=drop_ties, include_simulated=simulated)
        return await anyio.to_thread.run_sync(self._export, options)

    def _export(self, options: exporting.ExportOptions) -> tuple[str, str]:
        """Write an export into the private export folder; a download link (admins only, for
        an hour) and a note."""
        rows = self.store.judgment_rows()
        name = "preferences.jsonl" if options.format == "dpo" else "judgments.csv"
        token, path = self.exports.new_path(name)
        if options.format == "dpo":
            result = exporting.preference_pairs(self.store.items(), rows, options)
            write_records(path, result.kept)
            reasons = ", ".join(f"{count} {reason}" for reason, count in
                                sorted(exporting.reason_counts(result.removed).items()))
            note = (f"{len(result.kept)} pairs, {len(result.removed)} items left out"
                    + (f" ({reasons})" if reasons else "") + ". "
                    + exporting.length_line(result.extra["lengths"]))
        else:
            records = exporting.judgment_records(rows, options)
            exporting.write_judgments(path, records)
            note = f"{len(records)} judgments."
        url = self.exports.publish(token, path)
        simulated = "simulated votes included" if options.include_simulated \
            else "simulated votes excluded"
        return ((f'<a href="{html.escape(url)}" download="{name}" id="export-link">Download '
                f"{name}</a> (for an hour; {simulated})"), note)

    # Gradio finds `gr.Request` through a handler's type hints, which a `functools.partial`
    # hides: these build real functions instead.
    def _vote_handler(self, shown: str):
        def vote(lease_id: int | None, rationale: str, request: gr.Request) -> tuple[Any, ...]:
            return self.on_vote(shown, lease_id, rationale, request)

        return vote

    def _export_handler(self, kind: str):
        async def export(min_agreement: float, drop_ties: bool, simulated: bool,
                         request: gr.Request) -> tuple[Any, str]:
            return await self.on_export(kind, min_agreement, drop_ties, simulated, request)

        return export

    # -- layout ------------------------------------------------------------------------

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
                gr.Markdown("Prompt", elem_classes="caption")
                prompt = gr.HTML("Loading...", elem_id="prompt", container=True, padding=True,
                                 elem_classes="item-text")
                with gr.Row(equal_height=True):
                    panes = []
                    for side in ("left", "right"):
                        with gr.Column(scale=1, min_width=240):
                            gr.Markdown(f"Response {'A' if side == 'left' else 'B'}",
                                        elem_classes="caption")
                            panes.append(gr.HTML(elem_id=f"pane-{side}", container=True,
                                                 padding=True, elem_classes=["pane", "item-text"]))
                    left, right = panes
                with gr.Row(elem_id="votes"):
                    buttons = [gr.Button(label, elem_id=f"vote-{shown}", interactive=False,
                                         elem_classes=_BUTTON_CLASS[shown], min_width=110,
                                         variant="primary" if shown.endswith("_much")
                                         else "secondary")
                               for shown, label in _BUTTONS.items()]
                message = gr.Markdown(elem_id="message")
                rationale = gr.Textbox(label="Rationale (optional; required for Both bad and "
                                       "Skip)", elem_id="rationale", lines=2,
                                       max_length=MAX_RATIONALE,
                                       placeholder="Why? Keys do not vote while you type here.")
            with gr.Tab("Admin", visible=False) as admin_tab:
                with gr.Row(equal_height=True):
                    refresh = gr.Button("Refresh", elem_id="admin-refresh", size="sm", scale=0,
                                        min_width=100)
                    simulated = gr.Checkbox(False, label="Include simulated votes (panels and "
                                            "exports)", elem_id="include-simulated")
                overview = gr.HTML("Press Refresh.", elem_id="overview")
                with gr.Row():
                    curve = gr.Plot(show_label=False, scale=3)
                    models = gr.Dataframe(label="Win rate per source model (raw and "
                                          "length-controlled)", type="polars",
                                          interactive=False, scale=2)
                labelers = gr.Dataframe(label="Labelers (p_left_wins and p_longer_wins with 95% "
                                        "CI; flags need 10+ votes)", type="polars",
                                        interactive=False)
                kappa = gr.Dataframe(label="Cohen's kappa per labeler pair (5+ shared items)",
                                     type="polars", interactive=False)
                with gr.Group():
                    with gr.Row(equal_height=True):
                        min_agreement = gr.Slider(0, 1, value=0.6, step=0.05,
                                                  label="Minimum agreement", scale=2)
                        drop_ties = gr.Checkbox(False, label="Drop tie votes")
                    with gr.Row():
                        export_pairs = gr.Button("Export DPO pairs (jsonl)", size="sm")
                        export_votes = gr.Button("Export judgments (csv)", size="sm")
                download = gr.HTML(elem_id="export-file")
                export_note = gr.Markdown()
            view = [lease, prompt, left, right, counter, message, rationale, *buttons]
            # Page loads and votes are a few ms of SQLite work: they skip Gradio's queue (one
            # POST instead of a join plus an SSE stream, about 3x lower latency). Gradio's
            # thread pool bounds them, SQLite's write lock orders them. Admin work is queued.
            app.load(self.on_load, None, [*view, admin_tab], api_name="load", queue=False)
            for shown, button in zip(SHOWN, buttons, strict=True):
                # shortcuts.js greys the buttons out (and ignores keys) from the click until
                # this `.then` runs, once the next item is on screen: no double votes.
                button.click(self._vote_handler(shown), [lease, rationale], view,
                             api_name=f"vote_{shown}", queue=False
                             ).then(None, js=_IDLE, queue=False)
            admin_outputs = [overview, labelers, curve, models, kappa]
            refresh.click(self.on_admin_refresh, simulated, admin_outputs,
                          api_name="admin_refresh")
            admin_tab.select(self.on_admin_refresh, simulated, admin_outputs,
                             api_visibility="private")
            export_inputs = [min_agreement, drop_ties, simulated]
            export_pairs.click(self._export_handler("dpo"), export_inputs,
                               [download, export_note], api_name="export_dpo")
            export_votes.click(self._export_handler("judgments"), export_inputs,
                               [download, export_note], api_name="export_judgments")
        return app


def launch(labeling: LabelingApp, *, host: str = "127.0.0.1", port: int | None = None,
           access: Access | None = None) -> Running:
    """Start the server in the background (see `labeling_app.server`); `.url` is its address,
    `.wait()` blocks until Ctrl+C or SIGTERM, `.close()` stops it."""
    access = access or Access(open_mode=labeling.open_mode)
    # The admin panels' model fit imports scikit-learn (~2 s): import it now, in the
    # background, rather than on the first admin refresh.
    threading.Thread(target=importlib.import_module, args=("sklearn.linear_model",),
                     daemon=True).start()
    blocks = labeling.blocks()
    blocks.queue(default_concurrency_limit=2)  # admin refreshes and exports at once
    # System fonts: nothing fetched from font services, the same look offline.
    theme = gr.themes.Default(primary_hue="indigo", neutral_hue="slate",
                              font=["ui-sans-serif", "system-ui", "sans-serif"],
                              font_mono=["ui-monospace", "monospace"])
    return serve(blocks, store=labeling.store, access=access, exports=labeling.exports,
                 local_user=LOCAL_USER, host=host, port=port, theme=theme,
                 css=(_ASSETS / "app.css").read_text(encoding="utf-8"),
                 head=f"<script>{(_ASSETS / 'shortcuts.js').read_text(encoding='utf-8')}"
                 "</script>")
