"""Request validation errors in plain words: which field, what was expected, what to do.

Pydantic's messages are written for programmers ("Value should have at least 1 item after
validation, not 0"); a 422 from this API says "needs at least 1 item". The caller's input is
never echoed back: it may be a password, or personal data that does not belong in a log line
or a proxy's cache. Every message is safe to render as JSON (no NaN, no lone surrogates).
"""

import math
from collections.abc import Callable
from typing import Any

Ctx = dict[str, Any]


def _n(count: Any, noun: str) -> str:
    return f"{count} {noun}" if str(count) == "1" else f"{count} {noun}s"


def _too_short_text(ctx: Ctx) -> str:
    n = ctx.get("min_length", 1)
    return "must not be empty" if str(n) == "1" else f"must be at least {_n(n, 'character')} long"


def _choices(ctx: Ctx) -> str:
    return f"must be one of {ctx.get('expected', 'the documented values')}"


_DATETIME = "must be a date and time in ISO 8601, e.g. 2026-11-26T14:30:00+07:00"
_NUMBER = "must be a number, e.g. 21.0285"
_WHOLE = "must be a whole number, e.g. 42"

# Pydantic error type -> message; unknown types keep pydantic's own wording.
MESSAGES: dict[str, Callable[[Ctx], str]] = {
    "missing": lambda c: "is required",
    "extra_forbidden": lambda c: "is not a field of this request; remove it (check the spelling)",
    "string_type": lambda c: "must be text (a JSON string)",
    "string_too_short": _too_short_text,
    "string_too_long": lambda c: f"must be at most {_n(c.get('max_length'), 'character')} long",
    "string_pattern_mismatch": lambda c: f"does not have the expected form {c.get('pattern')}",
    # Also raised for text checked after a validator ran: then it counts characters.
    "too_short": lambda c: (
        _too_short_text(c) if c["text"] else f"needs at least {_n(c.get('min_length'), 'item')}"
    ),
    "too_long": lambda c: (
        f"must be at most {_n(c.get('max_length'), 'character')} long"
        if c["text"]
        else f"takes at most {_n(c.get('max_length'), 'item')}"
    ),
    "enum": _choices,
    "literal_error": _choices,
    "int_type": lambda c: _WHOLE,
    "int_parsing": lambda c: _WHOLE,
    "int_from_float": lambda c: _WHOLE,
    "int_parsing_size": lambda c: "is far too large a number",
    "float_type": lambda c: _NUMBER,
    "float_parsing": lambda c: _NUMBER,
    "finite_number": lambda c: "must be a finite number (not NaN or infinity)",
    "greater_than_equal": lambda c: f"must be {c.get('ge')} or more",
    "greater_than": lambda c: f"must be more than {c.get('gt')}",
    "less_than_equal": lambda c: f"must be {c.get('le')} or less",
    "less_than": lambda c: f"must be less than {c.get('lt')}",
    "bool_type": lambda c: "must be true or false",
    "bool_parsing": lambda c: "must be true or false",
    "datetime_type": lambda c: _DATETIME,
    "datetime_parsing": lambda c: _DATETIME,
    "datetime_from_date_parsing": lambda c: _DATETIME,
    "datetime_object_invalid": lambda c: _DATETIME,
    "date_type": lambda c: "must be a date, e.g. 2026-11-26",
    "date_parsing": lambda c: "must be a date, e.g. 2026-11-26",
    "date_from_datetime_parsing": lambda c: "must be a date, e.g. 2026-11-26",
    "dict_type": lambda c: "must be a JSON object",
    "model_type": lambda c: "must be a JSON object",
    "model_attributes_type": lambda c: "must be a JSON object",
    "list_type": lambda c: "must be a list (a JSON array)",
    "url_type": lambda c: "must be a web address (http:// or https://)",
    "url_parsing": lambda c: "must be a web address (http:// or https://)",
    "url_scheme": lambda c: "must be a web address starting with http:// or https://",
    "url_too_long": lambda c: f"must be at most {_n(c.get('max_length'), 'character')} long",
    "json_invalid": lambda c: (
        f"is not valid JSON at character {c['at']}: {c.get('error', 'cannot parse it')}"
        if "at" in c
        else f"is not valid JSON ({c.get('error', 'cannot parse it')})"
    ),
    "json_type": lambda c: "must be JSON text",
}


def safe_text(value: Any) -> str:
    """Text that any JSON encoder takes: lone surrogates replaced, floats finite or spelt out."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return str(value).encode("utf-8", "replace").decode("utf-8")


def plain_message(err: dict[str, Any]) -> str:
    kind = err.get("type", "")
    ctx: Ctx = {k: safe_text(v) for k, v in (err.get("ctx") or {}).items()}
    ctx["text"] = isinstance(err.get("input"), str)
    if kind == "json_invalid" and err.get("msg", "").startswith("is not valid JSON"):
        return err["msg"]  # app.api.checked_route.not_json: already says where and why
    loc = list(err.get("loc", ()))
    if kind == "json_invalid" and loc and isinstance(loc[-1], int):
        ctx["at"] = str(loc[-1] + 1)  # FastAPI's loc ["body", <offset from 0>]
    if kind == "value_error":
        # Our own validators' messages are already plain; drop pydantic's prefix.
        return safe_text(err.get("msg", "is not valid")).removeprefix("Value error, ")
    message = MESSAGES.get(kind)
    return message(ctx) if message else safe_text(err.get("msg", "is not valid"))


def plain_errors(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`errors` of a 422: each with `loc` (without the leading 'body'), `msg` and `type`."""
    errors = []
    for err in raw:
        loc = [p if isinstance(p, int) else safe_text(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            loc = []  # the offset is told in the message: it is no field
        loc = [p for p in loc if p != "body"] or ["body"]
        item: dict[str, Any] = {"loc": loc, "msg": plain_message(err), "type": err.get("type")}
        expected = (err.get("ctx") or {}).get("expected")
        if expected:
            item["expected"] = safe_text(expected)
        if "suggestions" in err:  # ours (app.api.checked_route): known names, never input
            item["suggestions"] = [safe_text(s) for s in err["suggestions"]]
        errors.append(item)
    return errors
