"""Serving the studio with uvicorn: in the foreground until Ctrl-C, or in a background thread."""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import threading
import time
import webbrowser

from lombardy_districts.errors import InputError
from lombardy_districts.studio import DEFAULT_PORT
from lombardy_districts.studio.app import allowed_hosts, build_app, loopback, page_url
from lombardy_districts.studio.state import StudioState

log = logging.getLogger(__name__)


def run(state: StudioState, *, host: str = "127.0.0.1", port: int | None = None, open_browser: bool = True) -> None:
    """Serve ``state`` until Ctrl-C; a host other than this machine gets a random access token."""
    import uvicorn

    state.warm()  # shapes, borders and the first scorecard ready before the page asks
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = None if loopback(host) else secrets.token_urlsafe(24)
    url = page_url(host, port, token)
    server = uvicorn.Server(uvicorn.Config(build_app(state, hosts=allowed_hosts(host, port), token=token),
                                           log_level="warning", lifespan="off"))
    print(f"studio: {len(state.territory.codes):,} municipalities; workspace {state.workspace.resolve()}")
    print(f"studio: {state.notice}")
    print(f"studio: open {url}  (Ctrl-C to stop)", flush=True)
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(server, url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn shut down cleanly, then passed Ctrl-C on: stopping is what was asked
    finally:
        state.close()
        sock.close()
    print("studio: stopped; your session is saved in the workspace and reopens next time")


@contextlib.contextmanager
def background(state: StudioState, token: str | None = None):
    """Serve ``state`` on a free port of 127.0.0.1 in a thread; yield the page's address, stop after."""
    import uvicorn

    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    app = build_app(state, hosts=allowed_hosts("127.0.0.1", port), token=token)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the studio server did not start")
        time.sleep(0.02)
    try:
        yield page_url("127.0.0.1", port, token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        state.close()
        sock.close()


def bind(host: str, port: int | None) -> socket.socket:
    """A listening socket on ``host``: ``port``, or 8765, or else any free port when ``port`` is None."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for candidate in ([port] if port is not None else [DEFAULT_PORT, 0]):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if port is not None:
                raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}. Fix: pick another --port, or "
                                 "leave it out to use a free one") from None
            continue
        sock.listen(128)
        return sock
    raise InputError(f"cannot listen on {host}: no free port")


def _open_when_ready(server, url: str) -> None:
    for _ in range(200):
        if server.started:
            webbrowser.open(url)
            return
        time.sleep(0.05)
