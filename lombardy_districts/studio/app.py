"""The studio's web application (Starlette): the only part of the package that knows HTTP.

Pages and scripts come from the package (``studio/static/`` and the Leaflet shipped in ``maps/assets/``),
so the studio works with no internet. Every answer is JSON; every refused request says why, in the
words of the command line (``{"error": [lines]}``, status 400; 409 for an edit made on an old version,
with the latest state so the page can show it).

Safety: ``build_app`` takes the hosts the page may be reached at (DNS rebinding: another site's name
pointing at 127.0.0.1 is refused) and, when the studio listens beyond this machine, an access token
that every request must carry (``?token=`` once, then a cookie), as Jupyter does. Requests that change
anything must send the ``X-Studio`` header, which another site's page cannot send without asking
first, so a web page elsewhere cannot drive the studio.
"""

from __future__ import annotations

import json
import logging
import secrets
from importlib.resources import files as package_files

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from lombardy_districts.errors import InfeasibleError, InputError
from lombardy_districts.maps.offline import asset_text
from lombardy_districts.studio.files import MAX_UPLOAD, download_path
from lombardy_districts.studio.session import StaleEdit
from lombardy_districts.studio.state import StudioState

log = logging.getLogger(__name__)

TOKEN_COOKIE = "ld_studio_token"
STATIC = {"studio.js": "application/javascript", "studio.css": "text/css", "index.html": "text/html"}
VENDOR = {"leaflet.js": "application/javascript", "leaflet.css": "text/css", "L.Map.Sync.js": "application/javascript"}
NO_STORE = {"Cache-Control": "no-store"}


def _static(name: str) -> str:
    return package_files("lombardy_districts.studio").joinpath("static", name).read_text(encoding="utf-8")


def _json(data, status: int = 200) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return Response(body, status_code=status, media_type="application/json", headers=NO_STORE)


def _refused(problems, status: int = 400, **extra) -> Response:
    lines = problems if isinstance(problems, list) else str(problems).splitlines()
    return _json({"error": lines, **extra}, status)


class Guard:
    """ASGI middleware: allowed hosts, the access token, and the header every change must carry."""

    def __init__(self, app, hosts: set[str] | None, token: str | None):
        self.app, self.hosts, self.token = app, hosts, token

    async def __call__(self, scope, receive, send):
        """Answer a refused request here; pass the others on."""
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        problem = self._problem(request)
        if problem is not None:
            return await problem(scope, receive, send)
        await self.app(scope, receive, send)

    def _problem(self, request: Request) -> Response | None:
        host = request.headers.get("host", "")
        if self.hosts is not None and host not in self.hosts:
            return PlainTextResponse(f"The studio answers only at {', '.join(sorted(self.hosts))}; "
                                     f"this request came for {host!r}.", status_code=403)
        if self.token is not None and not self._has_token(request):
            return PlainTextResponse("This studio needs its access token: open the full address it printed "
                                     "when it started (ending in ?token=...).", status_code=403)
        if request.method not in ("GET", "HEAD"):
            origin = request.headers.get("origin")
            if request.headers.get("x-studio") != "1" or (origin and origin.split("://", 1)[-1] != host):
                return PlainTextResponse("Changes come only from the studio's own page.", status_code=403)
        return None

    def _has_token(self, request: Request) -> bool:
        given = (request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)
                 or request.headers.get("x-studio-token") or "")
        return self.token is not None and secrets.compare_digest(given.encode(), self.token.encode())


def _studio(request: Request) -> StudioState:
    return request.app.state.studio


async def index(request: Request) -> Response:
    """The page; with ``?token=``, the token is kept in a cookie for the requests that follow."""
    response = Response(_static("index.html"), media_type="text/html", headers=NO_STORE)
    token = request.app.state.token
    if token is not None and request.query_params.get("token"):
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
    return response


async def static(request: Request) -> Response:
    """The page's script and style, and the Leaflet shipped with the maps."""
    name = request.path_params["name"]
    if name in STATIC:
        return Response(_static(name), media_type=STATIC[name], headers=NO_STORE)
    if name in VENDOR:
        return Response(asset_text(name), media_type=VENDOR[name], headers={"Cache-Control": "max-age=3600"})
    return PlainTextResponse(f"no such file {name!r}", status_code=404)


async def territory(request: Request) -> Response:
    """Shapes, borders and ties (gzipped once, when the browser takes gzip)."""
    raw, packed = await run_in_threadpool(_studio(request).payload_bytes)
    headers = {"Cache-Control": "no-cache", "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(packed, media_type="application/json", headers={**headers, "Content-Encoding": "gzip"})
    return Response(raw, media_type="application/json", headers=headers)


async def get_state(request: Request) -> Response:
    """Everything the page shows."""
    return _json(_studio(request).state())


async def edit(request: Request) -> Response:
    """One edit: move, new plan, merge, rename, lock, unlock, undo, redo, restore a version."""
    return _json(_studio(request).edit(await _body(request)))


async def save_version(request: Request) -> Response:
    """Keep the current plan under a name."""
    return _json(_studio(request).save_version((await _body(request)).get("name")))


async def delete_version(request: Request) -> Response:
    """Forget a named version."""
    return _json(_studio(request).delete_version((await _body(request)).get("name")))


async def solve(request: Request) -> Response:
    """Start Complete, Repair or Merge."""
    body = await _body(request)
    return _json(_studio(request).start_job(str(body.get("action")), body.get("version"), body.get("time_limit")))


async def job(request: Request) -> Response:
    """The solver's progress, and its candidate when it has one."""
    return _json(_studio(request).job_status())


async def cancel(request: Request) -> Response:
    """Stop the solver."""
    return _json(_studio(request).cancel_job())


async def finish(request: Request) -> Response:
    """Stop the solver and take its best plan so far."""
    return _json(_studio(request).finish_job())


async def accept(request: Request) -> Response:
    """Make the candidate the current plan."""
    return _json(_studio(request).accept((await _body(request)).get("version")))


async def discard(request: Request) -> Response:
    """Drop the candidate."""
    return _json(_studio(request).discard())


async def upload(request: Request) -> Response:
    """Open a plan CSV sent by the page (raw body, at most ``MAX_UPLOAD`` bytes)."""
    size = request.headers.get("content-length", "")
    if size.isdigit() and int(size) > MAX_UPLOAD:
        return _refused(f"the file has {int(size):,} bytes, more than the {MAX_UPLOAD:,} accepted", 413)
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD:
            return _refused(f"the file is larger than the {MAX_UPLOAD:,} bytes accepted", 413)
    version = request.query_params.get("version", "")
    return _json(_studio(request).open_upload(request.query_params.get("name", ""), bytes(data),
                                              int(version) if version.isdigit() else version))


async def open_file(request: Request) -> Response:
    """Open a plan CSV of the workspace."""
    body = await _body(request)
    return _json(_studio(request).open_file(body.get("name"), body.get("version")))


async def write(request: Request) -> Response:
    """Write the current plan into the workspace (CSV, GeoPackage, GeoJSON or an offline map)."""
    state = _studio(request)
    body = await _body(request)
    plan, card = await run_in_threadpool(state.snapshot)
    path = await run_in_threadpool(state.write, body.get("kind"), body.get("name"), plan, card)
    return _json({**state.state(), "written": path.name})


async def download(request: Request) -> Response:
    """A file of the workspace."""
    path = download_path(_studio(request).workspace, request.path_params["name"])
    return FileResponse(path, filename=path.name, headers=NO_STORE)


async def on_error(request: Request, exc: Exception) -> Response:
    """Refusals in the command line's words; anything else logged and reported."""
    if isinstance(exc, StaleEdit):
        return _refused(exc.problems, 409, stale=True, state=_studio(request).state())
    if isinstance(exc, InputError):
        return _refused(exc.problems)
    if isinstance(exc, InfeasibleError):
        return _refused(str(exc).splitlines(), infeasible=True)
    log.exception("studio: %s %s failed", request.method, request.url.path)
    return _refused(f"the studio failed: {type(exc).__name__}: {exc}", 500)


ROUTES = [
    Route("/", index), Route("/static/{name}", static), Route("/api/territory", territory),
    Route("/api/state", get_state), Route("/api/edit", edit, methods=["POST"]),
    Route("/api/version", save_version, methods=["POST"]),
    Route("/api/version/delete", delete_version, methods=["POST"]), Route("/api/solve", solve, methods=["POST"]),
    Route("/api/job", job), Route("/api/job/cancel", cancel, methods=["POST"]),
    Route("/api/job/finish", finish, methods=["POST"]),
    Route("/api/candidate/accept", accept, methods=["POST"]),
    Route("/api/candidate/discard", discard, methods=["POST"]),
    Route("/api/upload", upload, methods=["POST"]), Route("/api/open", open_file, methods=["POST"]),
    Route("/api/write", write, methods=["POST"]), Route("/files/{name:path}", download),
]


def build_app(state: StudioState, *, hosts: set[str] | None = None, token: str | None = None) -> Starlette:
    """The ASGI application serving ``state``.

    Parameters
    ----------
    state
        What the studio edits.
    hosts
        ``host:port`` values the page may be reached at (None: any, as in tests).
    token
        Access token every request must carry (None: none needed, for a studio bound to this machine).
    """
    middleware = [Middleware(Guard, hosts=hosts, token=token),
                  Middleware(GZipMiddleware, minimum_size=2000, compresslevel=1)]
    app = Starlette(routes=ROUTES, middleware=middleware,
                    exception_handlers={Exception: on_error, InputError: on_error, InfeasibleError: on_error})
    app.state.studio = state
    app.state.token = token
    return app


async def _body(request: Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        raise InputError("the request body is not JSON") from None
    if not isinstance(body, dict):
        raise InputError("the request body must be a JSON object")
    return body


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (no token needed)."""
    return host in ("127.0.0.1", "localhost", "::1")


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """The ``Host`` headers a studio bound to ``host`` answers (None: any, for a studio open to the network)."""
    if not loopback(host):
        return None
    return {f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"}


def page_url(host: str, port: int, token: str | None) -> str:
    """The address to open."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")

