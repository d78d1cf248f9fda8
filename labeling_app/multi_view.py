"""The labeling tab of a ranking or ratings project: K responses side by side, in an order
drawn per assignment, each with its rank (1 = best; equal ranks are ties) or its score on
every criterion plus flags.

As on the A/B tab, the server decides: the store maps screen positions back to response
indices with the lease's order, refuses what is too fast, late or incomplete, and keeps
what the labeler typed when it refuses. Keys (`assets/ranking.js`): on a ranking, the
response numbers in order of preference, `=` before a number to tie it with the previous
one, Escape to start over, Enter to submit; `s` skips (with a rationale).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gradio as gr

from labeling_app.render import text_html
from labeling_app.store import MAX_RATIONALE, Assignment, VoteRejected
from schemas.labeling import as_text

if TYPE_CHECKING:
    from labeling_app.app import LabelingApp

_EMPTY = '<p class="empty">(empty response)</p>'
# A pane the item does not use: app.css hides its column (`:has(.unused-pane)`). Changing a
# column's visibility would take a `gr.update`, and Gradio builds a new component for every
# update of every request (about 2 ms each): with 4 x 4 rating controls that was most of a
# submission's cost. Plain values and this marker keep a submission to a few ms.
_UNUSED = '<div class="unused-pane"></div>'


@dataclass
class MultiView:
    """Components and handlers of the K-way labeling tab (`k` panes at most)."""

    app: LabelingApp
    k: int
    lease: Any = None
    shape: Any = None  # what the page shows: (panes in use, buttons enabled)
    prompt: Any = None
    panes: list[Any] = field(default_factory=list)
    controls: list[list[Any]] = field(default_factory=list)  # per pane: rank, or scores + flags
    counter: Any = None
    message: Any = None
    rationale: Any = None
    buttons: list[Any] = field(default_factory=list)

    @property
    def project(self):
        return self.app.project

    @property
    def ratings(self) -> bool:
        return self.project.task == "ratings"

    # -- layout ----------------------------------------------------------------------------

    def build(self, lease: Any, counter: Any) -> None:
        self.lease, self.counter = lease, counter
        self.shape = gr.State(self._initial_shape)
        gr.Markdown("Prompt", elem_classes="caption")
        self.prompt = gr.HTML("Loading...", elem_id="prompt", container=True, padding=True,
                              elem_classes="item-text")
        hint = ("Score each response on every criterion; tick any flag that applies."
                if self.ratings else
                "Rank the responses: 1 is best; give two responses the same rank for a tie. "
                "Keys: type the response numbers best first (= before a number ties it with "
                "the one before), Escape starts over, Enter submits.")
        gr.Markdown(hint, elem_id="task-hint")
        for start in range(0, self.k, 2):
            with gr.Row(equal_height=True):
                for p in range(start, min(start + 2, self.k)):
                    with gr.Column(scale=1, min_width=300, elem_id=f"response-{p}",
                                   elem_classes="kcolumn"):
                        gr.Markdown(f"Response {p + 1}", elem_classes="caption")
                        self.panes.append(gr.HTML(_UNUSED, elem_id=f"pane-{p}", container=True,
                                                  padding=True,
                                                  elem_classes=["pane", "kpane", "item-text"]))
                        self.controls.append(self._controls(p))
        if not self.ratings:
            gr.HTML("", elem_id="rank-keys")
        with gr.Row(elem_id="votes"):
            submit = "Submit" if self.ratings else "Submit [Enter]"
            self.buttons = [gr.Button(submit, elem_id="vote-submit", variant="primary",
                                      interactive=False, min_width=140),
                            gr.Button("Skip [s]", elem_id="vote-skip", interactive=False,
                                      elem_classes="aside", min_width=110)]
        self.message = gr.Markdown(elem_id="message")
        self.rationale = gr.Textbox(label="Rationale (optional; required for Skip)",
                                    elem_id="rationale", lines=2, max_length=MAX_RATIONALE,
                                    placeholder="Why? Keys do not act while you type here.")

    def _controls(self, p: int) -> list[Any]:
        if not self.ratings:
            return [gr.Radio([str(r) for r in range(1, self.k + 1)], label="Rank (1 = best)",
                             elem_id=f"rank-{p}", elem_classes="rank")]
        out = [gr.Radio([str(v) for v in criterion.points], label=criterion.name,
                        elem_id=f"rate-{p}-{criterion.name}", elem_classes="rate")
               for criterion in self.project.criteria]
        if self.project.flags:
            out.append(gr.CheckboxGroup(self.project.flags, label="Flags",
                                        elem_id=f"flags-{p}", elem_classes="flags"))
        return out

    @property
    def _initial_shape(self) -> tuple[int, bool]:
        return (self.k, False)  # as built: every rank choice, buttons disabled

    def _cleared(self) -> list[Any]:
        """One pane's controls, emptied, as the page takes them (the handlers skip Gradio's
        postprocessing: a rank or score is None, the flags an empty list)."""
        if not self.ratings:
            return [None]
        return [None] * len(self.project.criteria) + ([[]] if self.project.flags else [])

    @property
    def outputs(self) -> list[Any]:
        """What `view` returns, in order."""
        per_pane = [c for pane, controls in zip(self.panes, self.controls, strict=True)
                    for c in (pane, *controls)]
        return [self.lease, self.prompt, *per_pane, self.counter, self.message, self.rationale,
                *self.buttons, self.shape]

    @property
    def values(self) -> list[Any]:
        """The inputs of a submission after the lease and the rationale: every control."""
        return [c for controls in self.controls for c in controls]

    def wire(self) -> None:
        app, outputs = self.app, self.outputs

        # The request comes first: Gradio inserts it by its place among the parameters, and
        # one after `*values` is never filled.
        def submit(request: gr.Request, lease_id: int | None, shape: tuple[int, bool],
                   rationale: str, *values: Any) -> tuple[Any, ...]:
            return self.on_submit(lease_id, rationale, list(values), request, shape)

        def skip(lease_id: int | None, shape: tuple[int, bool], rationale: str,
                 request: gr.Request) -> tuple[Any, ...]:
            return self.on_submit(lease_id, rationale, None, request, shape)

        state = [self.lease, self.shape, self.rationale]
        for button, handler, inputs, name in (
                (self.buttons[0], submit, [*state, *self.values], "submit"),
                (self.buttons[1], skip, state, "skip")):
            button.click(handler, inputs, outputs, api_name=name, queue=False,
                         **app.RAW_VALUES).then(None, js=app.idle_js, queue=False)

    # -- handlers --------------------------------------------------------------------------

    def on_submit(self, lease_id: int | None, rationale: str, values: list[Any] | None,
                  request: gr.Request, shape: tuple[int, bool] | None = None
                  ) -> tuple[Any, ...]:
        user = self.app.user(request)
        store = self.app.store
        try:
            shown_k = (shape or self._initial_shape)[0]
            store.submit_multi(user, lease_id,
                               None if values is None else self._value(values, shown_k),
                               skip=values is None, rationale=rationale or "",
                               guideline_version=self.app.guidelines.version,
                               min_seconds=self.app.min_seconds)
        except VoteRejected as refusal:
            # Keep what was typed and chosen: the same item comes back unless the lease ended.
            assignment = store.next_assignment(user)
            view = self.view(user, assignment, f"**Not saved:** {refusal}", shape)
            if assignment is not None and assignment.lease_id == lease_id:
                return self._keep_input(view)
            return view
        message = "Skipped." if values is None else "Saved."
        return self.view(user, store.next_assignment(user), message, shape)

    def _value(self, values: list[Any], shown_k: int) -> Any:
        """The controls' values of the `shown_k` panes in use, per screen position, as the
        store takes them. The values arrive as sent (see `LabelingApp.RAW_VALUES`); the store
        checks ranks and flags, and a score must also be one of its control's points here
        (the store takes fractions from other callers)."""
        if not self.ratings:
            return values[:shown_k]
        per_pane = len(self.controls[0])
        criteria = self.project.criteria
        panes = [values[p * per_pane:(p + 1) * per_pane] for p in range(shown_k)]
        for c, criterion in enumerate(criteria):
            _check_choices([pane[c] for pane in panes], [str(v) for v in criterion.points],
                           f"a {criterion.name} score")
        flags = [pane[len(criteria)] or [] for pane in panes] if self.project.flags else None
        return {"scores": {criterion.name: [pane[c] for pane in panes]
                           for c, criterion in enumerate(criteria)},
                "flags": flags or [[] for _ in panes]}

    def view(self, user: str, assignment: Assignment | None, message: str,
             shape: tuple[int, bool] | None = None) -> tuple[Any, ...]:
        """The screen for `assignment` (None: nothing to judge), given the `shape` the page
        shows now (None: as built). Controls get plain values, and a `gr.update` only where
        the shape changes (see `_UNUSED`)."""
        shown_k, enabled = tuple(shape) if shape else self._initial_shape
        counter = self.app.counter(user)
        if assignment is not None and len(assignment.item.responses) > self.k:
            message = (f"**This item has {len(assignment.item.responses)} responses; the page "
                       f"shows {self.k}.** Ask an admin to restart `label serve`.")
            assignment = None
        k = 0 if assignment is None else len(assignment.item.responses)
        same = self.ratings or k in (0, shown_k)
        k = shown_k if k == 0 else k  # an idle screen keeps the rank choices

        def controls() -> list[Any]:  # new dicts for each pane: Gradio pops from an update
            return self._cleared() if same else \
                [gr.update(value=None, choices=[str(r) for r in range(1, k + 1)])]
        buttons = ([b.value for b in self.buttons] if (assignment is not None) == enabled else
                   [gr.update(interactive=assignment is not None) for _ in self.buttons])
        new_shape = (k, assignment is not None)
        if assignment is None:
            idle = ("<h3>Nothing to judge right now</h3><p>All items are judged, or held by "
                    "other labelers: reload the page later.</p>")
            panes = [x for _ in range(self.k) for x in (_UNUSED, *controls())]
            return (None, idle, *panes, counter, message, "", *buttons, new_shape)
        shown = assignment.shown_responses
        panes = []
        for p in range(self.k):
            if p >= len(shown):
                html = _UNUSED
            else:
                html = text_html(shown[p]) if as_text(shown[p]).strip() else _EMPTY
            panes += [html, *controls()]
        return (assignment.lease_id, text_html(assignment.item.prompt), *panes, counter,
                message, "", *buttons, new_shape)

    def _keep_input(self, view: tuple[Any, ...]) -> tuple[Any, ...]:
        """A refused submission's view without resetting the controls or the rationale."""
        out = list(view)
        per_pane = len(self.controls[0])
        for p in range(self.k):
            first = 2 + p * (1 + per_pane) + 1
            out[first:first + per_pane] = [gr.skip()] * per_pane
        out[len(out) - len(self.buttons) - 2] = gr.skip()  # the rationale
        return tuple(out)


def _check_choices(values: list[Any], choices: list[str], what: str) -> None:
    """`VoteRejected` unless every value is one of `choices` or empty (None or "")."""
    for value in values:
        if value not in (None, "") and not (isinstance(value, str) and value in choices):
            raise VoteRejected(f"{what} is one of {', '.join(choices)}; got {value!r:.40}")
