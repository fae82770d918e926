"""Building a FastAPI app from routers and a process's adapters; request-size limits; errors."""
from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, Iterable
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.exception_handlers import http_exception_handler
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from ..domain.registry import COMMAND_TYPES
from ..settings import Settings
from .deps import Ports
from .letters import UPLOAD_PATH
from .signin import install as install_signin, signout_router


class BodyLimit:
    """ASGI middleware: a body over the limit gets a clear 413, whether it announces its
    length or streams without one. Bulk routes (imports) have a limit of their own."""

    def __init__(self, app, limit: int, bulk_limit: int, bulk_paths: tuple[str, ...] = (),
                 streamed: tuple[re.Pattern[str], ...] = ()):
        self.app, self.default, self.bulk_limit, self.bulk_paths = app, limit, bulk_limit, bulk_paths
        self.streamed = streamed  # routes that count their bodies as they stream (letters)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or any(p.fullmatch(scope.get("path", ""))
                                           for p in self.streamed):
            return await self.app(scope, receive, send)
        limit = self.bulk_limit if scope.get("path") in self.bulk_paths else self.default
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._too_large(send, limit)
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._too_large(send, limit)

    async def _too_large(self, send, limit: int):
        body = (b'{"detail":{"code":"too_large","message":"\\u8bf7\\u6c42\\u4f53\\u8fc7\\u5927",'
                b'"message_en":"request body too large (limit %d bytes)"}}' % limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _TooLarge(BaseException):  # not Exception: FastAPI turns those into a 400
    pass


class AccessLog:
    """ASGI middleware: one line per request on the `banli.access` logger, once it is answered
    (a live feed's when it ends): the client's address, the method, the path as sent (still
    percent-encoded: a line cannot be forged into the log), the status and the time taken.
    Never the query string (a sign-in's code travels there), a header (tokens) or a body."""

    def __init__(self, app, logger: logging.Logger | None = None):
        self.app = app
        self.logger = logger or logging.getLogger("banli.access")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.logger.isEnabledFor(logging.INFO):
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), 0

        async def noting_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        except Exception:
            status = status or 500  # answered 500 by Starlette's outermost middleware
            raise
        finally:
            path = scope.get("raw_path") or quote(scope.get("path", ""))
            if isinstance(path, bytes):
                path = path.decode("ascii", "backslashreplace")
            client = (scope.get("client") or ("-",))[0]
            self.logger.info('%s "%s %s" %s %.0fms', client, scope.get("method"), path,
                             status or "-", (time.perf_counter() - started) * 1000)


# The page loads only its own scripts and styles, is framed by no one, and sends no referrer.
# (FastAPI's /docs page is Swagger UI from its CDN, with an inline script: it gets a policy of
# its own that allows just that.)
STRICT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
              "form-action 'self'; frame-ancestors 'none'")
DOCS_CSP = ("default-src 'self'; script-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; "
            "style-src 'self' https://cdn.jsdelivr.net 'unsafe-inline'; img-src 'self' data: "
            "https://fastapi.tiangolo.com; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc", "/docs/oauth2-redirect")


class SecurityHeaders:
    """ASGI middleware: every answer (the page, the API, errors, the live feed) carries a strict
    Content-Security-Policy, `frame-ancestors 'none'` and X-Frame-Options, nosniff and
    `Referrer-Policy: no-referrer`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = DOCS_CSP if scope.get("path") in DOCS_PATHS else STRICT_CSP
        extra = [(b"content-security-policy", csp.encode()),
                 (b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                 (b"referrer-policy", b"no-referrer")]

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = message.get("headers", [])
                # a route that sets its own policy (a letter's download: sandboxed) keeps it
                own = {name.lower() for name, _ in headers} & {b"content-security-policy",
                                                              b"x-content-type-options"}
                message = {**message, "headers": [*headers, *(h for h in extra
                                                               if h[0] not in own)]}
            await send(message)

        await self.app(scope, receive, with_headers)


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route takes, its dependencies' included."""
    return frozenset({p.alias for p in dependant.query_params}.union(
        *(_query_names(d) for d in dependant.dependencies)))


async def known_query(request: Request) -> None:
    """An API route refuses query parameters it does not take (a typo, `bureua=`, would
    otherwise be silently ignored and answer for every bureau): 422, naming them."""
    route = request.scope.get("route")
    if route is None or not request.url.path.startswith("/api/"):
        return
    names = _QUERY_NAMES.get(id(route))  # routes live as long as their app
    if names is None:
        names = _QUERY_NAMES[id(route)] = _query_names(route.dependant)
    unknown = sorted(set(request.query_params.keys()) - names)
    if unknown:
        raise RequestValidationError([{"loc": ("query", name), "type": "extra_forbidden",
                                       "msg": "this route takes no such parameter"}
                                      for name in unknown])


def _across_fields(error: dict[str, Any]) -> bool:
    """An error of a whole command (its fields each fine, together not: a reassignment that
    changes nothing), not of one field."""
    loc = tuple(error.get("loc", ()))
    return error.get("type") == "value_error" and (
        loc in ((), ("body",)) or (len(loc) <= 2 and loc[-1] in COMMAND_TYPES))


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{k: v for k, v in err.items() if k in ("loc", "msg", "type")}
              for err in exc.errors()]
    if errors and all(_across_fields(e) for e in errors):
        return JSONResponse(status_code=422, content={"detail": {
            "code": "inconsistent", "message": "各字段之间不一致",
            "message_en": "the fields do not fit together", "errors": _plain(errors)}})
    return JSONResponse(status_code=422, content={"detail": {
        "code": "malformed", "message": "请求格式错误", "message_en": "malformed request",
        "errors": _plain(errors)}})


async def _http_error(request: Request, exc: Exception) -> Response:
    """FastAPI answers a body it cannot even decode (not UTF-8, not JSON) with a bare 400; the
    API answers every malformed request alike, with its 422 shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 405:
        # routers of several services may share a path (GET and POST /api/bureaus): the first
        # route to match knows only its own methods; Allow names every route's
        methods = sorted({m for route in request.app.router.routes
                          if route.matches(request.scope)[0] != Match.NONE
                          for m in getattr(route, "methods", None) or ()})
        return JSONResponse(status_code=405, headers={"Allow": ", ".join(methods)}, content={
            "detail": {"code": "method_not_allowed", "message": "不支持该请求方法",
                       "message_en": f"method not allowed here; allowed: {', '.join(methods)}"}})
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return JSONResponse(status_code=422, content={"detail": {
            "code": "malformed", "message": "请求格式错误", "message_en": "malformed request",
            "errors": [{"loc": ["body"], "msg": "the body could not be decoded",
                        "type": "body_decode"}]}})
    return await http_exception_handler(request, exc)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def build_app(title: str, routers: Iterable[APIRouter], ports: Ports,
              settings: Settings, lifespan=None, signin: bool = False,
              on_stop: Iterable[Callable[[], None]] = ()) -> FastAPI:
    """An app of these routers over a process's adapters (`ports`), with the request limits,
    the security headers and the CORS origins of its settings, the access log, sign-out, and,
    where it serves the page (`signin`), sign-in through the identity provider its settings
    name. `on_stop` are called (in the server's loop) when the server begins to shut down
    (banli.web.serve.Server): what keeps answers open ends them then."""
    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan,
                  dependencies=[Depends(known_query)],
                  description="Banli 办理 — deputies' suggestions and CPPCC proposals. Every "
                              "request needs `Authorization: Bearer <token>` (`banli token`).")
    app.state.ports = ports  # read by banli.web.deps.ports_of only
    app.state.on_stop = list(on_stop)  # read by banli.web.serve.Server only
    for router in routers:
        app.include_router(router)
    if signin:
        install_signin(app, ports, settings)
    else:
        app.include_router(signout_router)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes,
                       bulk_limit=settings.max_import_bytes,
                       bulk_paths=("/api/import", "/api/sheets/assignments", "/api/sheets/replies"),
                       streamed=(UPLOAD_PATH,))
    origins = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
    if origins:  # off unless BANLI_CORS_ORIGINS names them
        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(SecurityHeaders)
    app.add_middleware(AccessLog)  # outermost of ours: every answer is logged, 413s included

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
