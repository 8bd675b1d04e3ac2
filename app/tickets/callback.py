"""What an operator taking a callback needs on the ticket itself: the question the citizen is
being asked (while waiting_citizen) and how the unit resolved it (once resolved or closed),
taken from the ticket's latest info_requested / resolved events."""

from collections.abc import Mapping

from app.tickets.lifecycle import Status
from app.tickets.models import Ticket, TicketEvent
from app.tickets.schemas import PendingQuestionRead, ResolutionRead

ASKED, RESOLVED = "info_requested", "resolved"
EVENT_KINDS = (ASKED, RESOLVED)
_RESOLVED_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED})


def needs_events(ticket: Ticket) -> bool:
    """Whether the ticket's read shows a question or a resolution (so its events are read)."""
    return ticket.status == Status.WAITING_CITIZEN or ticket.status in _RESOLVED_STATUSES


def pending_question(
    ticket: Ticket, latest: Mapping[tuple[int, str], TicketEvent]
) -> PendingQuestionRead | None:
    if ticket.status != Status.WAITING_CITIZEN:
        return None
    event = latest.get((ticket.id, ASKED))  # type: ignore[arg-type]
    if event is None:
        return None
    return PendingQuestionRead(
        question=event.details.get("question"), asked_at=event.occurred_at, asked_by=event.actor
    )


def resolution(
    ticket: Ticket, latest: Mapping[tuple[int, str], TicketEvent]
) -> ResolutionRead | None:
    if ticket.status not in _RESOLVED_STATUSES:
        return None
    event = latest.get((ticket.id, RESOLVED))  # type: ignore[arg-type]
    if event is None:
        return None
    return ResolutionRead(
        text=event.details.get("resolution") or "",
        resolved_at=event.occurred_at,
        resolved_by=event.actor,
        unit=event.details.get("unit"),
    )
