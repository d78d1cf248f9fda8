"""The HTTP side of `label serve`: the Gradio app mounted inside a small guard.

What the guard does for every request, before Gradio sees it:

* **Host**: only loopback names, plus `--allowed-host` names, are served (DNS rebinding
  cannot reach the app through a name an attacker controls).
* **Origin**: a state-changing request (POST ...) from another site is refused (CSRF);
  no CORS header is ever sent, so other sites cannot read answers either.
* **Size**: a request body over `MAX_BODY` bytes is refused (413).
* **Paths**: only the routes the page and the API use are served; uploads, file reads
  by path and Gradio's other routes answer 404.
* **Login**: our own login page and sessions (`Store.create_session`): an HttpOnly,
  SameSite=Lax cookie (Secure over HTTPS), a lifetime, ended by logout, a password reset,
  `label users disable` or `remove`; attempts go through `LoginGuard` (rate limits,
  hashing in its own pool).
* **Headers**: a Content-Security-Policy without remote images, media, frames or off-site
  forms; `frame-ancestors 'none'` and `X-Frame-Options: DENY`; no referrer to other
  sites; no caching.
* **Exports**: files in a private folder (0700, files 0600), downloadable by admins only,
  deleted after `EXPORT_TTL` and when the server stops.

Gradio still checks its own login (`auth_dependency`) behind the guard.
"""

from __future__ import annotations

import asyncio
import errno
import html
import ipaddress
import json
import re
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from starlette.middleware.cors import CORSMiddleware

from labeling_app.login_guard import LoginGuard
from labeling_app.store import Store

COOKIE = "prefkit-session"
MAX_BODY = 64 * 1024
"""Bytes a request body may have: a vote with the longest rationale is ~20 kB."""
EXPORT_TTL = 3600.0
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


class PortInUse(OSError):
    """The port is taken (by another server, or another `label serve`)."""


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
        return name in LOOPBACK_NAMES or name in self.allowed_hosts or _is_loopback_ip(name)


def _host_name(host: str) -> str:
    """`Example.com:7860` -> `example.com`; `[::1]:80` -> `::1`."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _is_loopback_ip(name: str) -> bool:
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


# -- exports --------------------------------------------------------------------------------

@dataclass
class ExportFiles:
    """Export files in a private folder, each reachable by an unguessable token for an hour."""

    ttl: float = EXPORT_TTL
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="prefkit-exports-")))
    files: dict[str, tuple[Path, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def new_path(self, name: str) -> tuple[str, Path]:
        """A token and a fresh path (in its own 0700 folder) for an export named `name`."""
        self.expire()
        token = secrets.token_urlsafe(24)
        folder = self.folder / token
        folder.mkdir(mode=0o700)
        return token, folder / name

    def publish(self, token: str, path: Path) -> str:
        """Make a written file downloadable; returns its relative URL."""
        path.chmod(0o600)
        with self._lock:
            self.files[token] = (path, time.monotonic() + self.ttl)
        return f"prefkit/export/{token}/{path.name}"

    def get(self, token: str) -> Path | None:
        self.expire()
        with self._lock:
            entry = self.files.get(token)
        return entry[0] if entry else None

    def expire(self) -> None:
        now = time.monotonic()
        with self._lock:
            old = [token for token, (_, until) in self.files.items() if until <= now]
            for token in old:
                del self.files[token]
        for token in old:
            shutil.rmtree(self.folder / token, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self.files.clear()
        shutil.rmtree(self.folder, ignore_errors=True)


# -- the guard ------------------------------------------------------------------------------

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
        user = self.local_user if self.access.open_mode else \
            await asyncio.to_thread(self.store.session_user, _cookie(headers))
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


# -- login ----------------------------------------------------------------------------------

_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>prefkit label: log in</title><style>
body{{font-family:system-ui,sans-serif;background:#f8fafc;display:grid;place-items:center;
min-height:90vh;margin:0}} form{{background:#fff;border:1px solid #cbd5e1;border-radius:.6rem;
padding:1.5rem 2rem;width:20rem}} h1{{font-size:1.2rem;margin:0 0 .4rem}}
p{{color:#475569;font-size:.9rem}} label{{display:block;margin:.8rem 0 .2rem;font-weight:600}}
input{{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}}
button{{margin-top:1.2rem;width:100%;padding:.6rem;font-size:1rem;background:#4f46e5;
color:#fff;border:0;border-radius:.4rem;cursor:pointer}} .error{{color:#b91c1c}}
</style></head><body><form method="post" action="login">
<h1>prefkit label</h1><p>Log in with the name and password your admin gave you.</p>
<p class="error" role="alert">{error}</p>
<label for="username">User name</label>
<input id="username" name="username" autocomplete="username" required maxlength="64" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required
 maxlength="1024">
<button type="submit">Log in</button></form></body></html>
"""


def _login_page(error: str = "", status: int = 200, retry_after: float = 0.0) -> HTMLResponse:
    headers = {"Retry-After": str(int(retry_after) + 1)} if retry_after else None
    return HTMLResponse(_LOGIN_PAGE.format(error=html.escape(error)), status_code=status,
                        headers=headers)


def _routes(app: FastAPI, *, store: Store, access: Access, guard: LoginGuard,
            exports: ExportFiles) -> None:
    @app.get("/login")
    async def login_page(request: Request) -> Any:
        if access.open_mode or request.state.prefkit_user:
            return RedirectResponse("./", status_code=303)
        return _login_page()

    @app.post("/login")
    async def login(request: Request) -> Any:
        form = await request.form()
        name, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
        browser = "text/html" in request.headers.get("accept", "")
        address = request.client.host if request.client else "?"
        outcome = await guard.attempt(name[:64], password[:1024], address)
        if not outcome.ok:
            if outcome.retry_after:
                reason = ("the server is busy checking logins" if outcome.busy
                          else "too many failed logins")
                message = f"{reason}: try again in {int(outcome.retry_after) + 1} s"
                status, headers = 429 if not outcome.busy else 503, \
                    {"Retry-After": str(int(outcome.retry_after) + 1)}
            else:
                message, status, headers = "wrong user name or password", 401, None
            if browser:
                return _login_page(message, status, outcome.retry_after)
            return JSONResponse({"detail": message}, status_code=status, headers=headers)
        token = await asyncio.to_thread(store.create_session, name,
                                        lifetime=access.session_hours * 3600)
        response = RedirectResponse("./", status_code=303) if browser else \
            JSONResponse({"success": True})
        response.set_cookie(COOKIE, token, max_age=int(access.session_hours * 3600),
                            httponly=True, samesite="lax", path="/",
                            secure=request.url.scheme == "https")
        return response

    @app.get("/logout")
    @app.post("/logout")
    async def logout(request: Request) -> Any:
        token = request.cookies.get(COOKIE)
        if token:
            await asyncio.to_thread(store.end_session, token)
        response = RedirectResponse("login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/prefkit/export/{token}/{name}")
    async def download(token: str, name: str, request: Request) -> Any:
        user = request.state.prefkit_user
        path = exports.get(token)
        if store.role(user) != "admin" or path is None or path.name != name:
            return JSONResponse({"detail": "no such export (they last an hour)"},
                                status_code=404)
        return FileResponse(path, filename=name)


# -- running --------------------------------------------------------------------------------

@dataclass
class Running:
    """A server started by `serve`; `close()` stops it and deletes its export files."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread
    blocks: gr.Blocks
    guard: LoginGuard
    exports: ExportFiles

    def close(self) -> None:
        self.blocks.close(verbose=False)
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.guard.close()
        self.exports.close()

    def wait(self) -> None:
        """Block until SIGINT or SIGTERM, then stop cleanly (export files deleted)."""
        import signal

        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        while not stop.is_set() and self.thread.is_alive():
            stop.wait(0.5)


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on `port`, or on the first free port from 7860; `PortInUse`
    with a clear message when a given port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([port] if port else range(7860, 7960)):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if exc.errno != errno.EADDRINUSE:
                raise OSError(f"cannot listen on {host}:{candidate}: {exc.strerror}") from None
            continue
        sock.listen(2048)
        return sock
    where = f"port {port}" if port else "ports 7860-7959"
    raise PortInUse(f"{where} on {host} already in use (another server?): pick a free one "
                    "with --port")


def serve(blocks: gr.Blocks, *, store: Store, access: Access, exports: ExportFiles,
          local_user: str, host: str = "127.0.0.1", port: int | None = None,
          theme: Any = None, css: str = "", head: str = "") -> Running:
    """Start the guarded app in a background thread; returns once it answers."""
    sock = bind(host, port)
    guard = LoginGuard(store.check_password)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    # A CORS middleware on the parent turns Gradio's own off (it allows localhost origins
    # with credentials); this one allows no origin at all.
    app.add_middleware(CORSMiddleware, allow_origins=[])
    _routes(app, store=store, access=access, guard=guard, exports=exports)
    gr.mount_gradio_app(
        app, blocks, path="/", auth_dependency=lambda request: request.state.prefkit_user,
        footer_links=[], run_history=False, ssr_mode=False, show_error=True,
        max_file_size=1, theme=theme, css=css, head=head, mcp_server=False)
    config = uvicorn.Config(Guard(app, store=store, access=access, local_user=local_user,
                                  blocks=blocks),
                            log_level="warning", proxy_headers=True, server_header=False,
                            forwarded_allow_ips=list(access.trusted_proxies),
                            timeout_graceful_shutdown=3, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name="prefkit-server")
    thread.start()
    started = time.monotonic()
    while not server.started:
        if not thread.is_alive() or time.monotonic() - started > 60:
            raise RuntimeError("the server did not start")
        time.sleep(0.02)
    bound_host, bound_port = sock.getsockname()[:2]
    shown = "localhost" if _is_loopback_ip(bound_host) or bound_host == "0.0.0.0" \
        else bound_host
    return Running(f"http://{shown}:{bound_port}/", server, thread, blocks, guard, exports)
