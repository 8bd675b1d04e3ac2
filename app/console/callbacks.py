"""The operators' callback queue: callers waiting for a call back, most overdue first.

Three kinds (docs/console.md), each starting at one event of the ticket's history:
- `info_requested`: the unit asked the citizen for information (status waiting_citizen);
  waiting since the latest `info_requested` event;
- `outcome_requested`: the caller asked to be told the outcome (`ticket.callback_requested`,
  set at intake or corrected) and the ticket is resolved (or closed after it); waiting since
  the latest `resolved` event;
- `not_fixed`: the citizen answered the resolution's follow-up "not fixed" (Open311 feedback
  or an operator's callback, `ticket_feedback.fixed = 'no'`), which reopened the ticket
  (app.open311.feedback), and no unit has resolved it again since: the ticket is open and
  no later assignment ended resolved. Waiting since the answer's `feedback` event.
A wait ends when an operator records the call (`caller-informed` action: a `caller_informed`
event written after the event that started it; event ids order the history as it was written,
so a back-dated call still counts, and a new request after a call starts a new wait), or when
its cause ends (information received, the ticket reopened or resolved again).
Each waits CALLBACK_HOURS from its start; the queue is ordered by that due, the oldest (most
overdue) first. Tickets a unit agent may not see are left out by the ticket service's scope.
A ticket whose caller was anonymised (retention's pseudonyms or an erasure's blanks,
app.privacy.anonymise: `caller_anonymised_at` set) is owed no call of any kind: no number or
e-mail is left to reach the person by, and an erased caller asked not to be kept on file.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.open311.models import TicketFeedback
from app.tickets.lifecycle import OPEN, Status
from app.tickets.models import Assignment, CoHandler, Ticket, TicketEvent

CALLBACK_HOURS = 24  # a caller waiting longer than a day is overdue for a call
KINDS = ("info_requested", "outcome_requested", "not_fixed")
INFORMED = "caller_informed"  # the event of the `caller-informed` action
_TOLD = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Callback:
    ticket_id: int
    kind: str  # one of KINDS
    since: datetime  # UTC: when the caller started waiting for the call
    due: datetime  # since + CALLBACK_HOURS

    def overdue_seconds(self, now: datetime) -> float:
        """Seconds past the due at `now` (negative while still within CALLBACK_HOURS)."""
        return (now - self.due).total_seconds()


def _latest_event(kind: str, *where: Any) -> Any:
    """Per ticket matching `where`, the id of its latest `kind` event (subquery ticket_id, eid)."""
    T, E = Ticket, TicketEvent
    return (
        select(T.id.label("ticket_id"), func.max(E.id).label("eid"))
        .join(E, (E.ticket_id == T.id) & (E.kind == kind))
        .where(*where)
        .group_by(T.id)
        .subquery()
    )


def _waiting(started: Any) -> Select[Any]:
    """(ticket_id, since) of each wait in `started` (ticket_id, eid) with no call recorded after
    its starting event."""
    start, informed = aliased(TicketEvent), aliased(TicketEvent)
    called = (
        select(informed.id)
        .where(
            informed.ticket_id == started.c.ticket_id,
            informed.kind == INFORMED,
            informed.id > started.c.eid,
        )
        .exists()
    )
    return (
        select(started.c.ticket_id, start.occurred_at.label("since"))
        .join(start, start.id == started.c.eid)
        .where(~called)
    )


async def callbacks_due(
    session: AsyncSession,
    *,
    visible_to_units: list[str] | None,
    limit: int = 100,
    ticket_id: int | None = None,
) -> list[Callback]:
    """The callbacks owed, most overdue first (earliest due), at most `limit`.

    `visible_to_units`: a unit agent's units (tickets they have ever been assigned or
    co-handled, as the ticket service scopes them), or None for roles that see every ticket. `ticket_id`: only that ticket's (is a call still owed?).
    """
    T, E, A, F = Ticket, TicketEvent, Assignment, TicketFeedback
    # Anonymised callers cannot be reached (a pseudonym is not a number): no call is owed.
    scope: list[Any] = [T.caller_anonymised_at.is_(None)]
    if ticket_id is not None:
        scope.append(T.id == ticket_id)
    if visible_to_units is not None:  # the ticket service's scope: owners and co-handlers
        scope.append(
            T.id.in_(select(A.ticket_id).where(A.unit_code.in_(visible_to_units)))
            | T.id.in_(select(CoHandler.ticket_id).where(CoHandler.unit_code.in_(visible_to_units)))
        )
    asked = _latest_event("info_requested", T.status == Status.WAITING_CITIZEN, *scope)
    told = _latest_event(
        "resolved",
        T.callback_requested == True,  # noqa: E712 (SQL; matches the partial index's predicate)
        T.status.in_(_TOLD),
        *scope,
    )
    resolved_again = (
        select(A.id)
        .where(A.ticket_id == T.id, A.id > F.assignment_id, A.outcome == "resolved")
        .exists()
    )
    answered = (
        select(T.id.label("ticket_id"), func.max(E.id).label("eid"))
        .join(F, F.ticket_id == T.id)
        .join(
            E,
            (E.ticket_id == T.id) & (E.kind == "feedback") & (E.assignment_id == F.assignment_id),
        )
        .where(F.fixed == "no", T.status.in_(sorted(OPEN)), ~resolved_again, *scope)
        .group_by(T.id)
        .subquery()
    )
    found: list[Callback] = []
    for kind, started in (
        ("info_requested", asked),
        ("outcome_requested", told),
        ("not_fixed", answered),
    ):
        stmt = _waiting(started).order_by("since", started.c.ticket_id).limit(limit)
        for row in (await session.execute(stmt)).all():
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
