"""Legal hold: a supervisor keeps a ticket out of retention and erasure until it is lifted
(an investigation, a court case, a denunciation being verified). Flushes only."""

from app.errors import Conflict
from app.privacy.access_log import AccessLog
from app.tickets.assignment_clock import event_row
from app.tickets.models import Ticket, TicketEvent


async def set_hold(ticket: Ticket, *, reason: str, log: AccessLog, route: str) -> None:
    """Put the ticket on hold with `reason`; 409 if it is on hold already."""
    if ticket.legal_hold_at is not None:
        raise Conflict(
            f"The ticket is on legal hold already (since {ticket.legal_hold_at.isoformat()}, "
            f"by {ticket.legal_hold_by}); lift it first to change the reason."
        )
    ticket.legal_hold_reason, ticket.legal_hold_by, ticket.legal_hold_at = (
        reason,
        log.actor,
        log.now,
    )
    await _written(ticket, "legal_hold", reason, log, route)


async def lift_hold(ticket: Ticket, *, reason: str, log: AccessLog, route: str) -> None:
    """End the hold; 409 if the ticket is not on hold. Retention catches up on its next run."""
    if ticket.legal_hold_at is None:
        raise Conflict("The ticket is not on legal hold.")
    ticket.legal_hold_reason = ticket.legal_hold_by = ticket.legal_hold_at = None
    await _written(ticket, "legal_hold_lifted", reason, log, route)


async def _written(ticket: Ticket, kind: str, reason: str, log: AccessLog, route: str) -> None:
    ticket.version += 1
    ticket.updated_at = log.now
    row = event_row(ticket.id, None, kind, log.now, log.now, log.actor, {"reason": reason})
    log.session.add(TicketEvent(**row))
    await log.record(kind, route, ticket_id=ticket.id, reason=reason)
    await log.session.flush()
