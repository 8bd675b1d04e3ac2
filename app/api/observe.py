"""ASGI middleware: a request id for every request, one access log line, HTTP metrics.

The id comes from the client's (or the load balancer's) X-Request-ID when it is a plain token
of up to 128 characters, otherwise a new one is made; it is returned in X-Request-ID, kept in
`request.state.request_id`, and stamped on every log line written while the request runs.

The access line (logger hotline.access, INFO) names the route template, never the path, so no
ticket reference or phone number lands in the logs through the URL; the query string is kept
with caller data redacted (app.logs.redact_query). Caller data in bodies is never logged.
"""

import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import activity, metrics
from app.logs import redact_query, request_id_var

log = logging.getLogger("hotline.access")
HEADER = b"x-request-id"
_ACCEPTABLE_ID = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")
UNMATCHED = "unmatched"  # the route label of requests no route matched (404s, scanners)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER:
            if _ACCEPTABLE_ID.fullmatch(value):
                return value.decode()
            break
    return uuid.uuid4().hex


class ObserveMiddleware:
    """templates: full path templates of routes included under a prefix, by id(route)
    (FastAPI leaves the route's own path, without the prefix, in scope["route"])."""

    def __init__(self, app: ASGIApp, templates: dict[int, str] | None = None):
        self.app = app
        self.templates = templates or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        status = 500  # if the app fails before answering
        encoded_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (HEADER, encoded_id)]
            await send(message)

        activity.started()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            activity.finished()
            self._record(scope, status, time.perf_counter() - started, request_id)
            request_id_var.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        matched = scope.get("route")
        route = self.templates.get(id(matched)) or getattr(matched, "path", None) or UNMATCHED
        method = scope["method"]
        metrics.HTTP_REQUESTS.labels(route, method, metrics.status_class(status)).inc()
        metrics.HTTP_DURATION.labels(route, method).observe(seconds)
        if not log.isEnabledFor(logging.INFO):
            return
        state = scope.get("state", {})
        query = redact_query(scope.get("query_string", b"").decode("latin-1"))
        duration_ms = round(seconds * 1000, 1)
        log.info(
            "%s %s%s %d %.1fms",
            method,
            route,
            f"?{query}" if query else "",
            status,
            duration_ms,
            extra={
                "request_id": request_id,
                "method": method,
                "route": route,
                "query": query or None,
                "status": status,
                "duration_ms": duration_ms,
                "user_id": state.get("user_id"),
                "api_key_id": state.get("api_key_id"),
            },
        )
