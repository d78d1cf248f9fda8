"""The HTTP side of `label serve`: the Gradio app mounted in a FastAPI app of ours, behind
`labeling_app.guard.Guard`, run by uvicorn in a background thread.

Ours: the login page and sessions (an HttpOnly, SameSite=Lax cookie, Secure over HTTPS,
with a lifetime; attempts through `LoginGuard`: rate limits, hashing in its own pool),
logout, and the download route of exports (`labeling_app.exports`). Gradio still checks
the login itself (`auth_dependency`) behind the guard.
"""

from __future__ import annotations

import asyncio
import errno
import html
import signal
import socket
import threading
import time
from dataclasses import dataclass
from importlib.resources import files
from string import Template
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from starlette.middleware.cors import CORSMiddleware

from labeling_app.exports import ExportFiles
from labeling_app.guard import COOKIE, Access, Guard, is_loopback_ip
from labeling_app.login_guard import LoginGuard
from labeling_app.passwords import MAX_LENGTH
from labeling_app.store import Store

TARPIT = 2.0
"""Seconds at most that a refused login (rate limit, full hashing queue) waits for its answer."""


class PortInUse(OSError):
    """The port is taken (by another server, or another `label serve`)."""


# -- login -------------------------------------------------------------------------------

_LOGIN_PAGE = Template((files("labeling_app") / "assets" / "login.html").read_text("utf-8"))


def _login_page(error: str = "", status: int = 200, retry_after: float = 0.0) -> HTMLResponse:
    headers = {"Retry-After": str(int(retry_after) + 1)} if retry_after else None
    page = _LOGIN_PAGE.substitute(error=html.escape(error), max_length=MAX_LENGTH)
    return HTMLResponse(page, status_code=status, headers=headers)


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
        outcome = await guard.attempt(name[:64], password[:MAX_LENGTH], address)
        if not outcome.ok:
            if outcome.retry_after:
                # A refusal is held a moment (a tarpit): a flooding client's connections sit
                # idle instead of costing the event loop a request each as fast as it can.
                await asyncio.sleep(min(outcome.retry_after, TARPIT))
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

    def handle_signals(self) -> threading.Event:
        """From now on SIGINT and SIGTERM ask `wait` to return (call it before announcing
        the server, so that a signal sent on the announcement stops it cleanly)."""
        self._stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._stop.set())
        return self._stop

    def wait(self) -> None:
        """Block until SIGINT or SIGTERM, then stop cleanly (export files deleted)."""
        stop = getattr(self, "_stop", None) or self.handle_signals()
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
                            timeout_graceful_shutdown=3, access_log=False,
                            # A labeler votes every few seconds: keep the connection (as
                            # nginx does upstream) instead of a new one per vote.
                            timeout_keep_alive=75)
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
    shown = "127.0.0.1" if is_loopback_ip(bound_host) or bound_host in ("0.0.0.0", "::") \
        else f"[{bound_host}]" if ":" in bound_host else bound_host
    return Running(f"http://{shown}:{bound_port}/", server, thread, blocks, guard, exports)
