"""What the ticket services' errors say over HTTP.

The services name a field relative to what they were given and do not know the API's paths
or headers; here a search parameter's error is placed in the query string (loc ["query", …]),
and an unknown code without close matches points to the list of codes (a request to retry
gets Retry-After from the error itself: app.api.problems.http_headers). The problem+json
bodies are the ones the API has always answered.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.api.problems import LISTS, pointing_to_lists
from app.errors import ValidationFailed
from app.tickets.queries import NoUnitsOfYourOwn


def _field(exc: ValidationFailed, error: dict[str, Any], in_query: bool) -> dict[str, Any]:
    out = pointing_to_lists(error)
    if isinstance(exc, NoUnitsOfYourOwn):
        out["msg"] += f" (see GET {LISTS['units']})"
    if in_query and out["loc"][:1] != ["query"]:
        out["loc"] = ["query", *out["loc"]]
    return out


@contextmanager
def speaking_http(*, in_query: bool = False) -> Iterator[None]:
    """Let a service's errors through as the API answers them; `in_query`: the service was
    given the request's query parameters."""
    try:
        yield
    except ValidationFailed as exc:
        errors = exc.extra["errors"]
        answered = [_field(exc, e, in_query) for e in errors]
        if answered == errors:
            raise
        # A detail of the service's own stays; the summary of the fields is made again.
        custom = exc.detail != ValidationFailed(errors).detail
        raise ValidationFailed(answered, exc.detail if custom else None) from exc
