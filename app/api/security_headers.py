"""Headers every response carries, errors and docs included.

- `X-Content-Type-Options: nosniff`: a browser never runs a JSON body as a script or page.
- `X-Frame-Options: DENY` and `Content-Security-Policy: frame-ancestors 'none'`: no page of
  ours can be framed by another site (clickjacking). The CSP says nothing else, so the docs'
  inline start-up script still runs.
- `Referrer-Policy: no-referrer`: ticket ids and search words in our URLs stay here.
- `Strict-Transport-Security` only when HOTLINE_HSTS_SECONDS > 0, i.e. when TLS terminates in
  front of the app: announcing HSTS over plain HTTP in development would be wrong.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BASE_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, hsts_seconds: int = 0):
        self.app = app
        self.headers = list(BASE_HEADERS)
        if hsts_seconds > 0:
            hsts = f"max-age={hsts_seconds}; includeSubDomains".encode()
            self.headers.append((b"strict-transport-security", hsts))
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = [(k, v) for k, v in message.get("headers", []) if k.lower() not in self.names]
                message["headers"] = own + self.headers
            await send(message)

        await self.app(scope, receive, with_headers)
