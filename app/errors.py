"""One error family, rendered as application/problem+json (RFC 9457) by one set of handlers."""

import sqlite3
from typing import Any

import asyncpg
import sqlalchemy.exc
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.api.plain_errors import plain_errors

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://hotline1022.dev/problems/"


class AppError(Exception):
    """Base of every error a client can act on; carries its HTTP status and problem fields."""

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


class NotFound(AppError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidTransition(Conflict):
    title, slug = "Action not allowed in the current status", "invalid-transition"


class PreconditionFailed(AppError):
    status, title, slug = 412, "Precondition failed", "stale-version"


class ValidationFailed(AppError):
    """A semantic validation error found after parsing: `errors` lists field paths."""

    status, title, slug = 422, "Validation failed", "validation"

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None):
        super().__init__(detail or _summarise(errors), errors=errors)


def field_error(loc: list[str | int], msg: str, **extra: Any) -> dict[str, Any]:
    return {"loc": loc, "msg": msg, **extra}


def _summarise(errors: list[dict[str, Any]]) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS_SLUGS = {
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    413: ("Request body too large", "body-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
}


# The server went away, restarted, refused or ran out of connections, the database was
# dropped, or the pool timed out: the client can retry, so these answer 503 rather than 500.
# Both the ORM's errors and the driver's are recognised: intake calls asyncpg directly on
# PostgreSQL, and a connection killed mid-statement surfaces there as "connection is closed"
# (InterfaceError), "cannot switch to state 12" (InternalClientError) or "connection does not
# exist" (ConnectionDoesNotExistError).
_UNAVAILABLE = (
    OSError,  # refused, reset, unreachable, timed out (TimeoutError is an OSError)
    sqlalchemy.exc.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.InvalidCatalogNameError,  # the database itself is gone
)
# SQLite's OperationalError covers syntax errors too: only these messages mean "unavailable".
_SQLITE_UNAVAILABLE = ("unable to open database", "database is locked", "disk i/o error")


def _unavailable_one(exc: BaseException) -> bool:
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return str(exc).lower().startswith(_SQLITE_UNAVAILABLE)
    return isinstance(exc, _UNAVAILABLE)


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc`, or an error that caused it, says the database cannot be reached."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if _unavailable_one(current):
            return True
        orig = getattr(current, "orig", None)
        pending += [orig if isinstance(orig, BaseException) else None]
        pending += [current.__cause__, current.__context__]
    return False


_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers on this path. Starlette's own Allow header names only
    the first route that matched the path, e.g. POST but not GET on /tickets."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] == Match.FULL for r in routes)
    ]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return problem(
            request, exc.status, exc.title, exc.detail, exc.slug, exc.headers, **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = plain_errors(list(exc.errors()))
        return problem(
            request, 422, "Validation failed", _summarise(errors), "validation", errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, slug = _STATUS_SLUGS.get(exc.status_code, ("Error", f"http-{exc.status_code}"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"There is no resource at {request.url.path}; see /docs for the API."
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = (
                f"{request.method} is not allowed on {request.url.path}; "
                f"it answers {', '.join(allowed)}."
            )
        return problem(request, exc.status_code, title, detail, slug, headers)
