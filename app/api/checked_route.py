"""Every route refuses text that cannot be stored, and query parameters it does not take,
before any handler sees them.

PostgreSQL refuses the NUL character in text, and a lone UTF-16 surrogate (JSON allows
`"\\ud800"`) cannot be encoded as UTF-8 at all; either used to surface as a 500 deep in a
handler. `CheckedRoute` looks once at every string a request carries — path and query
parameters, JSON bodies (keys and values, at any depth) and form fields — and answers 422
naming the field. A query parameter the route does not declare (a typo: `unti=` for `unit=`)
is a 422 too, naming it with the close declared ones: ignored, it would answer as if no filter
had been given. Routers pass it as `route_class`.
"""

import difflib
import json
import re
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

# Python strings hold a valid surrogate pair as one code point, so any surrogate is a lone one.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = (
    "contains a NUL character or an unpaired UTF-16 surrogate, which cannot be stored; remove it"
)
# C0 control characters other than tab, line feed and carriage return: invisible in a list or
# a console page, they break CSV exports and terminals, and no one types them in free text.
CONTROL = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f]")
# How such a character can reach a string of a JSON body that parses: as an escape (\b, \f,
# \u0000-\u001f, \ud800-\udfff), as a surrogate's UTF-8 bytes (json.loads decodes with
# surrogatepass), or in a UTF-16/32 body (every one of those has NUL bytes). Raw control
# characters in a string, and NUL anywhere, are refused by the parser itself (not_json). A body
# with none of these needs no walk; an escaped backslash before "b" or "u00" only costs one.
_MAY_HOLD = re.compile(rb"\\(?:[bf]|u00[01]|u[dD][89a-fA-F])|\xed[\xa0-\xbf]|\x00")


def may_hold_bad_text(body: bytes) -> bool:
    """Whether a JSON body's strings may hold what text_problem refuses (when False they
    cannot: see _MAY_HOLD)."""
    return _MAY_HOLD.search(body) is not None


def text_problem(value: str) -> str | None:
    """What is wrong with a text a client sent, or None: a NUL or lone surrogate (unstorable),
    else the first C0 control character other than TAB, LF and CR, with its position (the
    character's number, from 1)."""
    if UNSTORABLE.search(value):
        return MESSAGE
    bad = CONTROL.search(value)
    if bad is None:
        return None
    return (
        f"contains the control character U+{ord(bad.group()):04X} at character "
        f"{bad.start() + 1}; remove it (of the control characters only tab, line feed and "
        "carriage return are allowed in text)"
    )


def shown_name(name: str) -> str:
    """A key or parameter name fit for a loc: unstorable and control characters replaced."""
    return CONTROL.sub("\ufffd", UNSTORABLE.sub("\ufffd", name))


def unstorable(value: Any, loc: list[str | int]) -> Iterator[tuple[list[str | int], str]]:
    """(location, problem) of every string in a decoded JSON value (keys included) that cannot
    be stored or holds a control character (text_problem)."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem:
            yield loc, problem
    elif isinstance(value, dict):
        for key, item in value.items():
            problem = text_problem(key)
            if problem:
                yield [*loc, shown_name(key)], problem
            else:
                yield from unstorable(item, [*loc, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from unstorable(item, [*loc, index])


def _error(found: tuple[list[str | int], str]) -> dict[str, Any]:
    loc, msg = found
    kind = "text_unstorable" if msg == MESSAGE else "text_control"
    return {"type": kind, "loc": tuple(loc), "msg": msg}


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
    locs: list[tuple[list[str | int], str]] = []
    for name, value in request.path_params.items():
        locs += unstorable(value, ["path", name])
    for name, value in request.query_params.multi_items():
        locs += unstorable(value, ["query", shown_name(name)])
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
            if may_hold_bad_text(body):
                locs += unstorable(data, ["body"])
        # Media types are case-insensitive (RFC 9110), as the form parser reads them.
        elif content_type.lower().startswith(
            ("multipart/form-data", "application/x-www-form-urlencoded")
        ):
            form = await request.form()
            for name, value in form.multi_items():
                if isinstance(value, str):
                    locs += unstorable(value, ["body", shown_name(name)])
    return [_error(loc) for loc in locs]


def query_names(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a route declares, its own and its dependencies', by the name a
    client sends (the alias: `from`, not `date_from`)."""
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        names.update(field.alias for field in current.query_params)
        stack.extend(current.dependencies)
    return frozenset(names)


def unknown_parameters(request: Request, known: frozenset[str]) -> list[dict[str, Any]]:
    """RequestValidationError items for each query parameter not in `known`, with the close
    known names as `suggestions` (difflib, as the reports' unknown values)."""
    errors = []
    for name in dict.fromkeys(request.query_params.keys()):
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(close)}?" if close else "remove it"
        takes = f" (it takes: {', '.join(sorted(known))})" if known else " (it takes none)"
        errors.append(
            {
                "type": "query_unknown",
                "loc": ("query", shown_name(name)),
                "msg": f"is not a parameter of this endpoint; {hint}{takes}",
                "suggestions": close,
            }
        )
    return errors


class CheckedRoute(APIRoute):
    """An APIRoute that answers 422 for unstorable text anywhere in the request and for a
    query parameter it does not take."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        reads_body = self.body_field is not None
        known = query_names(self.dependant)

        async def checked(request: Request) -> Response:
            errors = unknown_parameters(request, known)
            errors += await unstorable_in_request(request, reads_body)
            if errors:
                raise RequestValidationError(errors)
            return await handler(request)

        return checked
