"""The last answer for an exception no handler took: 503 for a lost database, else 500.

Why a middleware and not `app.exception_handler(Exception)`: Starlette runs that handler and
then re-raises the exception to the server, which logs "Exception in ASGI application" with a
traceback and drops the client's keep-alive connection without `Connection: close`. Answering
here, inside the server error middleware, ends the request normally: the connection stays
usable, and we decide what is logged:

- a lost database: one WARNING line (method, path, request id, exception type), no traceback;
- anything else: one ERROR record with a traceback of frames and exception *types* only. The
  messages are left out because drivers put the data in them (PostgreSQL's "Failing row
  contains (…, +84912345001, …)", SQLAlchemy's statement parameters).
"""

import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.middleware import problem_body, send_problem
from app.db_errors import database_unavailable
from app.logs import redacted_traceback

log = logging.getLogger("hotline.errors")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")
RETRY_AFTER_SECONDS = 2


def request_id(scope: Scope) -> str | None:
    """The request id set by the request-id middleware (request.state.request_id), else the
    client's X-Request-ID header when it is a plain token; None otherwise."""
    state = scope.get("state") or {}
    rid = state.get("request_id") if isinstance(state, dict) else None
    if rid is None:
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                rid = value.decode("latin-1")
                break
    return rid if isinstance(rid, str) and _REQUEST_ID.match(rid) else None


def where(scope: Scope) -> str:
    """'POST /api/v1/tickets (request 1f2e…)': for one-line logs. No query string: it may carry
    a phone number."""
    rid = request_id(scope)
    text = f"{scope.get('method', '?')} {scope.get('path', '?')}"
    return f"{text} (request {rid})" if rid else text


def unavailable_response(path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = problem_body(
        503,
        "Database unavailable",
        "The database cannot be reached right now and this request was not completed. "
        "Retry in a moment; with the same Idempotency-Key a retry never files a ticket twice.",
        "database-unavailable",
        path,
    )
    return 503, [(b"retry-after", str(RETRY_AFTER_SECONDS).encode())], body


def internal_response(path: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = problem_body(
        500,
        "Internal server error",
        "Something went wrong on our side; nothing was saved. Please retry or report it.",
        "internal",
        path,
    )
    return 500, [], body


class FailsafeMiddleware:
    """Answers 503 (Retry-After) or 500 as problem+json for exceptions no handler took."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if database_unavailable(exc):
                log.warning("database unavailable on %s: %s", where(scope), type(exc).__qualname__)
                status, headers, body = unavailable_response(scope.get("path", ""))
            else:
                log.error("unhandled error on %s\n%s", where(scope), redacted_traceback(exc))
                status, headers, body = internal_response(scope.get("path", ""))
            if started:
                return  # the response is under way; the server closes the connection
            await send_problem(send, status, headers, body)
