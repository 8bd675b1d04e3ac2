"""One error family for every mistake a client can act on; no web framework here.

Services and pure cores raise these; app.api.problems renders them as application/problem+json
(RFC 9457), the console as pages, Open311 as its own error list, the CLI as a line of text.
Each class carries the HTTP status it maps to, a title and a slug (the problem type's last
path segment) as plain data.
"""

from typing import Any


class AppError(Exception):
    """Base of every error a client can act on; carries its HTTP status and problem fields."""

    status = 400
    title = "Bad request"
    slug = "bad-request"
    # Seconds after which the same request may succeed (a throttle, a request in progress);
    # the adapter says so its own way (HTTP: Retry-After).
    retry_after_seconds: int | None = None

    def __init__(self, detail: str, *, retry_after_seconds: int | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        if retry_after_seconds is not None:
            self.retry_after_seconds = retry_after_seconds
        self.extra = extra


class NotFound(AppError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(AppError):
    status, title, slug = 409, "Conflict", "conflict"


class InvalidTransition(Conflict):
    title, slug = "Action not allowed in the current status", "invalid-transition"


class Unauthorized(AppError):
    """Not signed in, or the token or API key is not valid (401). The API layer adds the
    WWW-Authenticate challenge."""

    status, title, slug = 401, "Not signed in", "unauthorized"


class Forbidden(AppError):
    """Signed in, but the role or the unit scope does not allow it (403)."""

    status, title, slug = 403, "Not allowed", "forbidden"


class PreconditionFailed(AppError):
    status, title, slug = 412, "Precondition failed", "stale-version"


class ValidationFailed(AppError):
    """A semantic validation error found after parsing: `errors` lists field paths."""

    status, title, slug = 422, "Validation failed", "validation"

    def __init__(self, errors: list[dict[str, Any]], detail: str | None = None):
        super().__init__(detail or summarise(errors), errors=errors)


def field_error(loc: list[str | int], msg: str, **extra: Any) -> dict[str, Any]:
    """One entry of ValidationFailed.errors: where (`loc`, a path such as ["body", "area"]),
    what is wrong and what to do (`msg`), and any extra fields (suggestions, candidates)."""
    return {"loc": loc, "msg": msg, **extra}


def summarise(errors: list[dict[str, Any]]) -> str:
    """The first five field errors as one sentence: 'body.area: ...; query.from: ...'."""
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more
