"""One error family for every mistake a client can act on; no web framework here.

Services and pure cores raise these; app.api.problems renders them as application/problem+json
(RFC 9457), the console as pages, Open311 as its own error list, the CLI as a line of text.
Each class carries the HTTP status it maps to, a title and a slug (the problem type's last
path segment) as plain data.
"""

import re
from typing import Any

# How much of a value a client sent an error may quote back (ECHO_LIMIT characters), and
# how long any one text of an error may be at all (TEXT_LIMIT): a 60 KB query parameter must
# not come back as a 60 KB problem, nor fill a log line or a proxy's cache.
ECHO_LIMIT = 200
TEXT_LIMIT = 2000
# A quoted run longer than ECHO_LIMIT: no sentence of ours quotes that much, so it is input.
_LONG_QUOTE = re.compile(f"'([^']{{{ECHO_LIMIT + 1},}})'")


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
    parts = [f"{'.'.join(clip(str(p)) for p in e['loc'])}: {e['msg']}" for e in errors[:5]]
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """`text` itself when at most `limit` characters, else its first `limit` characters, an
    ellipsis and the full length: "aaaa… (60000 characters in all)"."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters in all)"


def clip_echoes(message: str) -> str:
    """A message with every long quoted value ('…') clipped, and then clipped as a whole to
    TEXT_LIMIT: the rest of the sentence (the expectation, the suggestion) stays."""
    return clip(_LONG_QUOTE.sub(lambda m: f"'{clip(m[1])}'", message), TEXT_LIMIT)


def clipped(value: Any, key: str | None = None) -> Any:
    """An error body (dicts, lists, strings at any depth) with no long echo of input: the
    sentences (`detail`, `msg`, `title`, `description`) through clip_echoes, every other text
    (a loc's name, a `part`, an `instance` path) clipped to ECHO_LIMIT."""
    if isinstance(value, str):
        return clip_echoes(value) if key in _SENTENCES else clip(value)
    if isinstance(value, dict):
        return {clip(str(k)): clipped(v, k) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clipped(item, key if key in _SENTENCES else None) for item in value]
    return value


_SENTENCES = {"detail", "msg", "title", "description"}
