"""The ticket state machine as data: which action is allowed from which status, and where it leads.

Pure: the service asks `target_status` before touching anything.
"""

from app.catalog.vocabulary import Status
from app.errors import InvalidTransition, ValidationFailed, field_error

S = Status
OPEN = frozenset({S.NEW, S.ASSIGNED, S.ACKNOWLEDGED, S.IN_PROGRESS, S.WAITING_CITIZEN})
WORKING = frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS})
ALL = frozenset(Status)

# action -> (statuses it is allowed from, status it leads to; None = decided by routing/unchanged)
TRANSITIONS: dict[str, tuple[frozenset[Status], Status | None]] = {
    "acknowledge": (frozenset({S.ASSIGNED}), S.ACKNOWLEDGED),
    # Starting work on an unacknowledged ticket acknowledges it too.
    "start": (frozenset({S.ASSIGNED, S.ACKNOWLEDGED}), S.IN_PROGRESS),
    "request-info": (WORKING, S.WAITING_CITIZEN),
    "info-received": (frozenset({S.WAITING_CITIZEN}), S.IN_PROGRESS),
    "resolve": (frozenset({S.ASSIGNED, S.WAITING_CITIZEN}) | WORKING, S.RESOLVED),
    # A rejection sends the ticket back to routing: assigned to the next unit, or new.
    "reject": (frozenset({S.ASSIGNED}) | WORKING, None),
    "transfer": (OPEN, S.ASSIGNED),
    # Back to routing, e.g. after the rules changed: assigned to what routing picks, or new.
    "reroute": (OPEN, None),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "reopen": (frozenset({S.RESOLVED, S.CLOSED}), S.ASSIGNED),
    "cancel": (OPEN, S.CANCELLED),
    "duplicate": (OPEN, S.DUPLICATE),
    "notes": (ALL, None),
    # An operator called the caller back (told the outcome, asked for the information, answered
    # a "not fixed"): status unchanged; it takes the ticket off the callback queue.
    "caller-informed": (ALL, None),
    # Settle an area kept as candidates at intake (status unchanged; re-routes if unacknowledged).
    "confirm-area": (OPEN, None),
}

ACTIONS = tuple(TRANSITIONS)

# Actions that change no assignment, so its SLA clock needs no re-planning afterwards.
CLOCK_NEUTRAL = frozenset({"notes", "close", "caller-informed"})


# Actions offered only when the ticket needs them (the status allows them regardless).
_AREA_UNSETTLED_ONLY = frozenset({"confirm-area"})


def allowed_actions(status: str, *, area_unsettled: bool = False) -> list[str]:
    """Actions the status allows; `confirm-area` only while the area is a set of candidates."""
    return [
        action
        for action, (sources, _) in TRANSITIONS.items()
        if status in sources and (area_unsettled or action not in _AREA_UNSETTLED_ONLY)
    ]


def statuses_meant(values: list[str]) -> list[str]:
    """The statuses a `status` filter names; `open` is every status still being worked
    (OPEN: new to waiting_citizen; not resolved, which waits for the operator to close it).
    Raises ValidationFailed naming the unknown value and the allowed ones."""
    out: set[str] = set()
    for value in values:
        if value == "open":
            out |= OPEN
        elif value in Status.__members__.values():
            out.add(value)
        else:
            allowed = ", ".join(["open", *Status])
            raise ValidationFailed(
                [field_error(["status"], f"unknown status '{value}'; one of: {allowed}")]
            )
    return sorted(out)


def check_transition(action: str, status: str) -> Status | None:
    """The status the action leads to; raises InvalidTransition (409) naming what is allowed."""
    sources, target = TRANSITIONS[action]
    if status not in sources:
        allowed = allowed_actions(status)
        raise InvalidTransition(
            f"Cannot {action} a ticket that is {status}; allowed now: {', '.join(allowed)}.",
            current_status=status,
            allowed_actions=allowed,
        )
    return target
