"""ASGI middleware: refuse oversized bodies before they are read into memory; problem+json
responses for middleware."""

import json

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import PROBLEM_BASE, PROBLEM_JSON
from app.errors import clipped


class _TooLarge(HTTPException):
    """Raised from receive(); FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, limit: int):
        super().__init__(413, f"The body is over {limit} bytes; send attachments as URLs.")


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await self._reject(scope, send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        detail = f"The body is over {self.max_bytes} bytes; send attachments as URLs."
        body = problem_body(
            413, "Request body too large", detail, "body-too-large", scope.get("path", "")
        )
        await send_problem(send, 413, [], body)


def problem_body(status: int, title: str, detail: str, slug: str, path: str) -> bytes:
    """A problem+json body, for middleware that answers below FastAPI's handlers (clipped as
    app.api.problems.problem clips its answers)."""
    problem = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": path,
    }
    return json.dumps(clipped(problem), ensure_ascii=False).encode()


async def send_problem(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    start_headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
        *headers,
    ]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})
