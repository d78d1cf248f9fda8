"""Item text to HTML that cannot act: markdown formatting only, rendered on the server.

Prompts and responses come from models and the web, so they are hostile until shown
otherwise. They are rendered here, not in the browser, by markdown-it with raw HTML
off (a `<form>`, `<iframe>`, `<style>` or `<img>` in the text is shown as text), and
with an allow-list of what markdown itself can produce:

* kept: paragraphs, emphasis, headings, lists, quotes, code spans and blocks, tables,
  rules, line breaks;
* images become their alt text and address as text (nothing is fetched: no tracking);
* links become their text and address as text (nothing to click: no phishing);
* a fenced block's language is dropped (it would land in an attribute);
* bidi controls (U+202A-U+202E, U+2066-U+2069), which can make text read in another
  order than it is stored, are shown as visible marks instead of acting.

Rendering costs: markdown-it-py takes ~10 ms for 20,000 characters of prose but up to
~30 us a character for hostile input (100,000 `[` took 2 s). So a text longer than
`MARKDOWN_LIMIT` is shown as plain text, and rendered texts are cached (by content hash),
so each costs its rendering once, not on every page load.

The page also sends a Content-Security-Policy (see `labeling_app.server`) that forbids
remote images, media, frames and off-site forms, in case anything here is ever wrong.
"""

from __future__ import annotations

import hashlib
import html
import re
import threading
from collections import OrderedDict
from typing import Any

from markdown_it import MarkdownIt

from schemas.labeling import Text

# U+202A-U+202E (embeddings and overrides) and U+2066-U+2069 (isolates).
BIDI_CONTROLS = {
    "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
    "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI",
}
_BIDI = re.compile("[" + "".join(BIDI_CONTROLS) + "]")
DISPLAY_LIMIT = 200_000
"""Characters of one text shown at most (import caps texts lower, at `--max-chars`; this
guards databases imported before that cap existed)."""
MARKDOWN_LIMIT = 20_000
"""Longer texts are shown as plain text (see the module docstring)."""
CACHE_CHARS = 20_000_000


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "breaks": True, "linkify": False})
    md.enable(["table", "strikethrough"])
    rules = md.add_render_rule

    def image(_self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        alt = md.renderer.renderInlineAsText(token.children or [], options, env)
        return (f'<span class="remote">[image: {html.escape(alt)}]</span> '
                f'<span class="address">{html.escape(token.attrGet("src") or "")}</span>')

    def link_open(_self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
        env.setdefault("links", []).append(tokens[idx].attrGet("href") or "")
        return '<span class="link">'

    def link_close(_self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
        address = env["links"].pop()
        return f'</span> <span class="address">&lt;{html.escape(address)}&gt;</span>'

    def fence(_self: Any, tokens: list, idx: int, options: Any, env: Any) -> str:
        return f"<pre><code>{html.escape(tokens[idx].content)}</code></pre>\n"

    rules("image", image)
    rules("link_open", link_open)
    rules("link_close", link_close)
    rules("fence", fence)
    return md


_MD = _markdown()


def _show_bidi(match: re.Match[str]) -> str:
    char = match.group()
    return (f'<span class="bidi" title="U+{ord(char):04X} ({BIDI_CONTROLS[char]}): a '
            f'direction control, shown instead of applied">[{BIDI_CONTROLS[char]}]</span>')


class _Cache:
    """Rendered texts by content hash, least recently used dropped past `CACHE_CHARS`."""

    def __init__(self, limit: int) -> None:
        self.limit, self.size, self.lock = limit, 0, threading.Lock()
        self.entries: OrderedDict[bytes, str] = OrderedDict()

    def get(self, key: bytes) -> str | None:
        with self.lock:
            value = self.entries.get(key)
            if value is not None:
                self.entries.move_to_end(key)
            return value

    def put(self, key: bytes, value: str) -> None:
        with self.lock:
            if key not in self.entries:
                self.entries[key] = value
                self.size += len(value)
            while self.size > self.limit and self.entries:
                self.size -= len(self.entries.popitem(last=False)[1])


_CACHE = _Cache(CACHE_CHARS)


def markdown_html(text: str) -> str:
    """One text as safe HTML (see the module docstring)."""
    key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    cached = _CACHE.get(key)
    if cached is None:
        cached = _render(text)
        _CACHE.put(key, cached)
    return cached


def _render(text: str) -> str:
    cut = len(text) - DISPLAY_LIMIT
    if cut > 0:
        text = text[:DISPLAY_LIMIT]
    if len(text) > MARKDOWN_LIMIT:
        rendered = f'<div class="plain">{html.escape(text)}</div>'
    else:
        rendered = _MD.render(text, {})
    if cut > 0:
        rendered += f'<p class="cut">[{cut:,} more characters not shown]</p>'
    # Only text and the fixed attributes above are in `rendered`: a control char can only be
    # in text, where a span is well-formed.
    return _BIDI.sub(_show_bidi, rendered)


def text_html(value: Text) -> str:
    """A prompt or response: plain text, or chat turns each under its role."""
    if isinstance(value, str):
        return markdown_html(value)
    if len(value) == 1:
        return markdown_html(value[0].content)
    return "".join(f'<div class="turn"><div class="role">{html.escape(turn.role)}</div>'
                   f"{markdown_html(turn.content)}</div>" for turn in value)


def plain_html(text: str) -> str:
    """A short untrusted string (a user or model name) as escaped text, bidi marks visible."""
    return _BIDI.sub(_show_bidi, html.escape(text))


def markdown_escape(text: str) -> str:
    """An untrusted string made literal inside markdown that Gradio renders (admin panels)."""
    escaped = re.sub(r"([\\`*_{}\[\]()#+\-.!|<>&~$])", r"\\\1", text)
    return _BIDI.sub(lambda m: f"[{BIDI_CONTROLS[m.group()]}]", escaped)
