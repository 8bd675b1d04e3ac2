"""Every route refuses text that cannot be stored, before any handler sees it.

PostgreSQL refuses the NUL character in text, and a lone UTF-16 surrogate (JSON allows
`"\\ud800"`) cannot be encoded as UTF-8 at all; either used to surface as a 500 deep in a
handler. `CheckedRoute` looks once at every string a request carries — path and query
parameters, JSON bodies (keys and values, at any depth) and form fields — and answers 422
naming the field. Routers pass it as `route_class`.
"""

import json
import re
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

# Python strings hold a valid surrogate pair as one code point, so any surrogate is a lone one.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored; remove it"
)


def unstorable(value: Any, loc: list[str | int]) -> Iterator[list[str | int]]:
    """Locations of strings in a decoded JSON value (keys included) that cannot be stored."""
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            if UNSTORABLE.search(key):
                yield [*loc, UNSTORABLE.sub("\ufffd", key)]
            else:
                yield from unstorable(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable(item, [*loc, index])


def _error(loc: list[str | int]) -> dict[str, Any]:
    return {"type": "text_unstorable", "loc": tuple(loc), "msg": MESSAGE}


def not_json(exc: ValueError) -> dict[str, Any]:
    """The error of a body that does not parse as JSON: where (line, column: what an editor
    shows, both from 1) and the parser's own words. A character offset is no field name."""
    if isinstance(exc, json.JSONDecodeError):
        where = f"at line {exc.lineno}, column {exc.colno}: {exc.msg}"
    else:  # bytes that are not UTF-8 (or UTF-16/32) text
        where = "as its bytes are not UTF-8 text"
    msg = f"is not valid JSON {where}; send a JSON object (Content-Type: application/json)"
    return {"type": "json_invalid", "loc": ("body",), "msg": msg}


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


async def unstorable_in_request(request: Request, reads_body: bool) -> list[dict[str, Any]]:
    """RequestValidationError items for every unstorable string in the request, or the one
    saying that a JSON body does not parse."""
    locs: list[list[str | int]] = []
    for name, value in request.path_params.items():
        locs += unstorable(value, ["path", name])
    for name, value in request.query_params.multi_items():
        locs += unstorable(value, ["query", UNSTORABLE.sub("\ufffd", name)])
    if reads_body:
        content_type = request.headers.get("content-type", "")
        if _is_json(content_type):
            body = await request.body()
            try:
                data = json.loads(body) if body else None
            except ValueError as exc:
                return [not_json(exc)]
            else:
                # Starlette's own cache: the handler's request.json() reuses this decoding.
                request._json = data
            locs += unstorable(data, ["body"])
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form()
            for name, value in form.multi_items():
                if isinstance(value, str):
                    locs += unstorable(value, ["body", UNSTORABLE.sub("\ufffd", name)])
    return [_error(loc) for loc in locs]


class CheckedRoute(APIRoute):
    """An APIRoute that answers 422 for unstorable text anywhere in the request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reads_body = self.body_field is not None

        async def checked(request: Request) -> Response:
            errors = await unstorable_in_request(request, reads_body)
            if errors:
                raise RequestValidationError(errors)
            return await handler(request)

        return checked
