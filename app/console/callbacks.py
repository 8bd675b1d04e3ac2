"""The operators' callback queue: callers waiting for a call back, most overdue first.

Two kinds today (docs/console.md):
- `info_requested`: the unit asked the citizen for information (status waiting_citizen);
  waiting since the latest `info_requested` event;
- `not_fixed`: the citizen answered the resolution's follow-up "not fixed" (Open311 feedback
  or an operator's callback, `ticket_feedback.fixed = 'no'`), which reopened the ticket
  (app.open311.feedback), and no unit has resolved it again since: the ticket is open and
  no later assignment ended resolved. Waiting since the answer was recorded.
Each waits CALLBACK_HOURS from its start; the queue is ordered by that due, the oldest (most
overdue) first. Tickets a unit agent may not see are left out by the ticket service's scope.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.open311.models import TicketFeedback
from app.tickets.lifecycle import OPEN, Status
from app.tickets.models import Assignment, Ticket, TicketEvent

CALLBACK_HOURS = 24  # a caller waiting longer than a working day is overdue for a call
KINDS = ("info_requested", "not_fixed")


@dataclass(frozen=True)
class Callback:
    ticket_id: int
    kind: str  # one of KINDS
    since: datetime  # UTC: when the caller started waiting for the call
    due: datetime  # since + CALLBACK_HOURS


async def callbacks_due(
    session: AsyncSession, *, visible_to_units: list[str] | None, limit: int = 100
) -> list[Callback]:
    """The callbacks owed, most overdue first (earliest due), at most `limit`.

    `visible_to_units`: a unit agent's units (tickets they have ever been assigned), or None
    for roles that see every ticket.
    """
    T, E, A, F = Ticket, TicketEvent, Assignment, TicketFeedback
    asked = (
        select(
            T.id.label("ticket_id"),
            func.max(E.occurred_at).label("since"),
        )
        .join(E, (E.ticket_id == T.id) & (E.kind == "info_requested"))
        .where(T.status == Status.WAITING_CITIZEN)
        .group_by(T.id)
    )
    resolved_again = (
        select(A.id)
        .where(A.ticket_id == T.id, A.id > F.assignment_id, A.outcome == "resolved")
        .exists()
    )
    not_fixed = (
        select(T.id.label("ticket_id"), F.recorded_at.label("since"))
        .join(F, F.ticket_id == T.id)
        .where(F.fixed == "no", T.status.in_(sorted(OPEN)), ~resolved_again)
    )
    if visible_to_units is not None:
        mine = select(A.ticket_id).where(A.unit_code.in_(visible_to_units))
        asked = asked.where(T.id.in_(mine))
        not_fixed = not_fixed.where(T.id.in_(mine))
    found: list[Callback] = []
    for kind, stmt in (("info_requested", asked), ("not_fixed", not_fixed)):
        for row in (await session.execute(stmt.order_by("since").limit(limit))).all():
            since: Any = row.since
            found.append(
                Callback(row.ticket_id, kind, since, since + timedelta(hours=CALLBACK_HOURS))
            )
    found.sort(key=lambda c: (c.due, c.ticket_id))
    return found[:limit]


async def tickets_of(session: AsyncSession, ids: list[int]) -> list[Ticket]:
    """The Ticket rows of `ids` (any order), for the ticket service to read (and mask)."""
    if not ids:
        return []
    return list((await session.execute(select(Ticket).where(Ticket.id.in_(ids)))).scalars())
