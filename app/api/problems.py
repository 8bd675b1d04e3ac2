"""The HTTP side of the error family: every error a client sees is application/problem+json
(RFC 9457), whatever raised it (app.errors, FastAPI's request validation, Starlette's 404/405).
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.api.plain_errors import plain_errors
from app.errors import AppError, Unauthorized, ValidationFailed, clipped, summarise

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://hotline1022.dev/problems/"
# What a 401 asks for (RFC 6750): a bearer token (or an X-API-Key, see docs).
CHALLENGE = 'Bearer realm="hotline1022"'


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The problem+json answer; no text in it quotes more than a clipped part of any input
    (app.errors.clipped)."""
    body = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    return JSONResponse(clipped(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


_STATUS_SLUGS = {
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    413: ("Request body too large", "body-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
}


# Where a client finds the codes a field error's `catalog_list` names (app.catalog.codes).
LISTS = {"topics": "/api/v1/topics", "units": "/api/v1/units"}


def pointing_to_lists(error: dict[str, Any]) -> dict[str, Any]:
    """A field error as the API answers it: its `catalog_list` (an unknown code with nothing
    close) becomes "; see GET <the list>" at the end of the message."""
    out = dict(error)
    catalog_list = out.pop("catalog_list", None)
    if catalog_list:
        out["msg"] += f"; see GET {LISTS[catalog_list]}"
    return out


def with_lists(exc: ValidationFailed) -> ValidationFailed:
    """`exc` with every field error pointing_to_lists (itself when none names a list); a
    summary made from the errors is made again, a detail of the service's own stays."""
    errors = exc.extra["errors"]
    if not any("catalog_list" in e for e in errors):
        return exc
    custom = exc.detail != ValidationFailed(errors).detail
    return ValidationFailed([pointing_to_lists(e) for e in errors], exc.detail if custom else None)


def http_headers(exc: AppError) -> dict[str, str]:
    """The headers an AppError's answer carries: Retry-After when the error says when to try
    again, and the challenge of a 401."""
    headers: dict[str, str] = {}
    if exc.retry_after_seconds is not None:
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, Unauthorized):
        headers.setdefault("WWW-Authenticate", CHALLENGE)
    return headers


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
    """Answer AppError, request validation errors and Starlette's HTTP errors as problems."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        if isinstance(exc, ValidationFailed):
            exc = with_lists(exc)
        return problem(
            request, exc.status, exc.title, exc.detail, exc.slug, http_headers(exc), **exc.extra
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = plain_errors(list(exc.errors()))
        return problem(
            request, 422, "Validation failed", summarise(errors), "validation", errors=errors
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
