"""The checks every request passes before the Gradio app sees it (see `labeling_app.server`).

* **Host**: only loopback names, plus `--allowed-host` names, are served (DNS rebinding
  cannot reach the app through a name an attacker controls).
* **Origin**: a state-changing request (POST ...) from another site is refused (CSRF);
  no CORS header is ever sent, so other sites cannot read answers either.
* **Size**: a request body over `MAX_BODY` bytes is refused (413).
* **Paths and events**: only the routes the page and the API use are served (uploads, file
  reads by path and Gradio's other routes answer 404); a call of an event handler that
  does not exist, or with the wrong number of inputs, answers 4xx (Gradio answers 500).
* **Session**: the user of the session cookie (`Store.session_user`), checked on every
  request, so a password reset or `label users disable` ends a login at once.
* **Headers**: a Content-Security-Policy without remote images, media, frames or off-site
  forms; `frame-ancestors 'none'` and `X-Frame-Options: DENY`; no referrer to other sites;
  no caching.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import gradio as gr
from fastapi.responses import RedirectResponse

from labeling_app.store import Store

COOKIE = "prefkit-session"
MAX_BODY = 64 * 1024
"""Bytes a request body may have: a vote with the longest rationale is ~20 kB."""
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; "
       "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
       "connect-src 'self'; media-src 'none'; object-src 'none'; frame-src 'none'; "
       "worker-src 'self' blob:; form-action 'self'; base-uri 'self'; frame-ancestors 'none'")
_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
            (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"),
            (b"cross-origin-opener-policy", b"same-origin"),
            (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
_PUBLIC = frozenset({"/login", "/logout", "/favicon.ico", "/robots.txt"})
# The routes the page and gradio_client use; everything else of Gradio's answers 404.
_GRADIO_ROUTES = re.compile(
    r"/(|config|theme\.css|favicon\.ico|manifest\.json|robots\.txt"
    r"|(assets|static|svelte)/.+"
    r"|gradio_api/(info|app_id|user|login_check|startup-events|theme\.css|cancel|reset"
    r"|heartbeat/[\w-]+|queue/join|queue/data|run/\w+))/?")
_EVENT = re.compile(r"/gradio_api/(run/(?P<name>\w+)|queue/join)/?")
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class Access:
    """Who may reach the server, and how sessions behave."""

    open_mode: bool = False
    allowed_hosts: tuple[str, ...] = ()  # besides loopback names; "*" allows any
    session_hours: float = 12.0
    trusted_proxies: tuple[str, ...] = ("127.0.0.1",)

    def host_allowed(self, host: str) -> bool:
        if "*" in self.allowed_hosts and not self.open_mode:
            return True
        name = _host_name(host)
        return name in LOOPBACK_NAMES or name in self.allowed_hosts or is_loopback_ip(name)


def _host_name(host: str) -> str:
    """`Example.com:7860` -> `example.com`; `[::1]:80` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def is_loopback_ip(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _netloc(value: str) -> str:
    """A host[:port] without the default port, lower case, for comparing Origin and Host."""
    value = value.lower()
    for default in (":80", ":443"):
        if value.endswith(default):
            return value[: -len(default)]
    return value


class Guard:
    """ASGI middleware around the whole app: host, origin, size, paths, session, events."""

    def __init__(self, app: Callable[..., Awaitable[None]], *, store: Store, access: Access,
                 local_user: str, blocks: gr.Blocks) -> None:
        self.app, self.store, self.access, self.local_user = app, store, access, local_user
        self.inputs = {index: len(fn.inputs) for index, fn in blocks.fns.items()}
        self.api_names = {fn.api_name: index for index, fn in blocks.fns.items()
                          if isinstance(fn.api_name, str)}

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        send = _with_headers(send)
        path, method = scope["path"], scope["method"]
        if not self.access.host_allowed(headers.get("host", "")):
            await _plain(send, 421, "unknown host name: start the server with --allowed-host "
                         "NAME for the name labelers use")
            return
        if method not in _SAFE_METHODS and not _same_origin(headers):
            await _plain(send, 403, "cross-site request refused")
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            await _plain(send, 413, f"request body over {MAX_BODY:,} bytes")
            return
        known = path in _PUBLIC or path.startswith("/prefkit/") or _GRADIO_ROUTES.fullmatch(path)
        if not known:
            await _plain(send, 404, "not found")
            return
        token = _cookie(headers)
        if self.access.open_mode:
            user = self.local_user
        else:  # no cookie (a login flood): no thread hop, no database read
            user = await asyncio.to_thread(self.store.session_user, token) if token else None
        scope.setdefault("state", {})["prefkit_user"] = user
        if user is None and path not in _PUBLIC:
            if method == "GET" and path == "/":
                await RedirectResponse("login", status_code=303)(scope, receive, send)
            else:
                await _plain(send, 401, "not logged in")
            return
        if method in _SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await _plain(send, 413, f"request body over {MAX_BODY:,} bytes")
            return
        problem = self.event_problem(path, body)
        if problem:
            await _plain(send, 404 if problem.startswith("no ") else 422, problem)
            return
        await self.app(scope, _replay(body, receive), send)

    def event_problem(self, path: str, body: bytes) -> str | None:
        """Why a call of an event handler names no handler of this app (Gradio answers those
        with a 500 or a dropped connection), or None."""
        match = _EVENT.fullmatch(path)
        if match is None:
            return None
        name = match["name"]
        if name and name != "predict" and name not in self.api_names:
            return f"no endpoint {name!r}"
        try:
            payload = json.loads(body)
        except ValueError:
            return "the body must be JSON"
        if not isinstance(payload, dict):
            return "the body must be a JSON object"
        fn_index = payload.get("fn_index", self.api_names.get(name))
        if fn_index is None:
            return "no fn_index: say which event handler to run"
        if fn_index not in self.inputs:
            return f"no event handler {fn_index!r}"
        data = payload.get("data")
        if not isinstance(data, list) or len(data) != self.inputs[fn_index]:
            return f"data: a list of {self.inputs[fn_index]} input values"
        return None


def _same_origin(headers: dict[str, str]) -> bool:
    """False for a browser request sent by another site (Sec-Fetch-Site or Origin tell)."""
    if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:  # not a browser (curl, gradio_client), or a same-origin GET
        return True
    return _netloc(urlsplit(origin).netloc) == _netloc(headers.get("host", ""))


def _cookie(headers: dict[str, str]) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def _with_headers(send: Callable) -> Callable:
    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            names = {name.lower() for name, _ in message.get("headers", [])}
            extra = [(k, v) for k, v in _HEADERS if k not in names]
            if b"cache-control" not in names:
                extra.append((b"cache-control", b"no-store"))
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


async def _read_body(receive: Callable) -> bytes | None:
    """The whole request body, or None once it passes `MAX_BODY` (also without a
    Content-Length). Bodies here are small: reading them first costs nothing."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes, receive: Callable) -> Callable:
    sent = False

    async def wrapped() -> dict:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


async def _plain(send: Callable, status: int, text: str) -> None:
    body = json.dumps({"detail": text}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
