"""The OpenAPI document lists every error status an operation can answer, as problem+json.

Statuses come from what the layers around a route do, so that a new route is documented
without anyone remembering to: a signed-in route can answer 401 and (behind a permission) 403;
a route with parameters or a body 422; a body 400 (unparseable), 413 (too large) and 415 (not
JSON); a path parameter 404; every route that reads the database 503 (Retry-After) when the
database is lost. Statuses only some routes answer (409, 412, 429) are listed by
path in EXTRA_STATUSES. The fuzzer in `.ci/fuzz` checks the result against the running app.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "description": "422: one entry per field (`loc` is the path to it)",
            "items": {"type": "object"},
        },
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "The body could not be parsed",
    401: "Not signed in, or the token or API key is invalid (see WWW-Authenticate)",
    403: "Signed in, but this role or unit may not do this",
    404: "No such resource (or not visible to this caller)",
    409: "Not allowed in the current state, or it exists already",
    412: "If-Match names an older version of the ticket",
    413: "The body is over the size limit",
    415: "The body is not JSON (send Content-Type: application/json)",
    422: "Invalid input; `errors` names each field and what was expected",
    429: "Too many failed sign-ins; wait for Retry-After seconds",
    503: "The database is unreachable; retry after Retry-After seconds",
}

# (method, path) -> statuses beyond the generic ones.
_ACTIONS = "/api/v1/tickets/{ticket_id}/"
EXTRA_STATUSES: dict[tuple[str, str], set[int]] = {
    ("post", "/api/v1/auth/token"): {401, 429},
    ("post", "/api/v1/auth/refresh"): {401},
    ("post", "/api/v1/tickets"): {409},  # an Idempotency-Key reused with another body
    ("patch", "/api/v1/tickets/{ticket_id}"): {409, 412},
    ("post", "/api/v1/admin/users"): {409},
    ("post", "/api/v1/admin/rules/reload"): {422},  # the rule files have errors
}
NO_DATABASE = {("get", "/healthz"), ("get", "/readyz")}
ANY_SIGNED_IN = {("get", "/api/v1/auth/me")}  # no permission needed beyond signing in


def _statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    statuses = set(EXTRA_STATUSES.get((method, path), ()))
    if path.startswith(_ACTIONS):
        statuses.add(409)  # an action not allowed in the ticket's status
    if operation.get("security"):
        statuses.add(401)
        if (method, path) not in ANY_SIGNED_IN:
            statuses.add(403)
    if operation.get("parameters") or "requestBody" in operation:
        statuses.add(422)
    if "requestBody" in operation:
        statuses |= {400, 413}
        if "application/json" in operation["requestBody"].get("content", {}):
            statuses.add(415)
    if "{" in path:
        statuses.add(404)
    if (method, path) not in NO_DATABASE:
        statuses.add(503)
    return statuses


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the problem+json responses to every operation of an OpenAPI document (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    retry_after = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(method, path, operation)):
                entry = responses.setdefault(str(status), {"description": DESCRIPTIONS[status]})
                # FastAPI documents its own 422 as application/json; ours are problem+json.
                entry["content"] = problem
                if status in (429, 503):
                    entry["headers"] = retry_after
    return schema


def install_openapi(app: FastAPI) -> None:
    """Serve the documented schema at /openapi.json (built once, on first request)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
