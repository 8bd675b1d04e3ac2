"""Who may do what: roles to permissions, as data. Pure."""

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    UNIT_AGENT = "unit_agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    # Citizen apps: file through Open311 and vouch for their user's feedback, nothing else.
    INTEGRATION = "integration"


# The work a responding unit does on its own assignment.
UNIT_WORK = frozenset(
    {"acknowledge", "start", "request-info", "info-received", "resolve", "reject", "confirm-area"}
)

_READ = {"tickets:read", "reference:read"}
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OPERATOR: frozenset(
        _READ
        | {"tickets:create", "tickets:update", "routing:explain", "callers:reveal"}
        | {"callers:history", "tickets:similar", "tickets:feedback"}
        | {
            f"act:{a}"
            for a in (
                "transfer",
                "reroute",
                "close",
                "reopen",
                "cancel",
                "duplicate",
                "notes",
                "confirm-area",
                "caller-informed",
            )
        }
    ),
    Role.UNIT_AGENT: frozenset(
        _READ | {"reports:read"} | {f"act:{a}" for a in UNIT_WORK | {"notes"}}
    ),
    Role.SUPERVISOR: frozenset(
        _READ
        | {"reports:read", "routing:explain", "rules:replay", "callers:reveal", "audit:read"}
        | {"tickets:legal-hold", "webhooks:read"}
        | {"callers:history", "tickets:similar"}
        | {f"act:{a}" for a in ("transfer", "reroute", "reopen", "notes")}
    ),
    Role.ADMIN: frozenset(
        _READ
        | {"users:manage", "apikeys:manage", "rules:reload", "routing:explain", "reports:read"}
        | {"rules:replay", "audit:read", "callers:rights"}
        | {"webhooks:manage", "webhooks:read"}
    ),
    Role.INTEGRATION: frozenset({"open311:submit", "open311:feedback"}),
}


def allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(Role(role), frozenset())
