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
A caller who never left a number or an e-mail (anonymous, some Open311 requests) stays listed,
since a unit may still be waiting on them, but is marked unreachable (`reachable`).
Pages are cut by a keyset cursor on the queue's own order (since, ticket id, kind), so a row
called or added meanwhile neither shifts nor repeats the rows of the next page.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.errors import ValidationFailed, field_error
from app.open311.models import TicketFeedback
from app.tickets.cursors import pack, unpack
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

    def order(self) -> tuple[datetime, int, int]:
        """The queue's order: due (= since + CALLBACK_HOURS), then ticket id, then kind."""
        return (self.since, self.ticket_id, KINDS.index(self.kind))


# The position after a row: (since in UTC, ticket id, kind).
After = tuple[datetime, int, str]


def encode_cursor(row: Callback) -> str:
    """The position after `row` in the queue's order, opaque to the page (base64url JSON)."""
    return pack([row.since.astimezone(UTC).isoformat(), row.ticket_id, row.kind])


def decode_cursor(cursor: str) -> After:
    """What encode_cursor wrote; ValidationFailed naming `cursor` (422) for anything else."""
    try:
        at, ticket_id, kind = unpack(cursor)  # type: ignore[misc]
        since = datetime.fromisoformat(at)
        # Only what encode_cursor writes: an aware time, a real id (an integer column), a kind.
        if since.tzinfo is None or type(ticket_id) is not int or kind not in KINDS:
            raise ValueError("not a callback queue position")
        if not 0 <= ticket_id < 2**31:
            raise ValueError("ticket id out of range")
        return since.astimezone(UTC), ticket_id, kind
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(
            [field_error(["cursor"], "not a cursor from a previous page; start without it")]
        ) from exc


def reachable(ticket: Ticket) -> bool:
    """Whether the caller left a number or an e-mail to be called back by (the stored row,
    not a masked read: a confidential caller is reachable though hidden)."""
    return bool(ticket.caller_phone or ticket.caller_email)


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


def _waiting(started: Any, kind: str, after: After | None = None) -> Select[Any]:
    """(ticket_id, since) of each `kind` wait in `started` (ticket_id, eid) with no call recorded
    after its starting event; only those after the position `after` in the queue's order."""
    start, informed = aliased(TicketEvent), aliased(TicketEvent)
    later: list[Any] = []
    if after is not None:
        at, last_id, last_kind = after
        # Same since and ticket: this kind comes after the cursor's only if later in KINDS.
        same = (
            started.c.ticket_id > last_id
            if KINDS.index(kind) <= KINDS.index(last_kind)
            else started.c.ticket_id >= last_id
        )
        later.append((start.occurred_at > at) | ((start.occurred_at == at) & same))
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
        .where(~called, *later)
    )


def _waits(visible_to_units: list[str] | None, ticket_id: int | None) -> list[tuple[str, Any]]:
    """(kind, started (ticket_id, eid) subquery) of each kind, in KINDS order, for the scope."""
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
    return list(zip(KINDS, (asked, told, answered), strict=True))


async def callbacks_due(
    session: AsyncSession,
    *,
    visible_to_units: list[str] | None,
    limit: int = 100,
    ticket_id: int | None = None,
    after: After | None = None,
) -> list[Callback]:
    """The callbacks owed, most overdue first (earliest due; ties by ticket id, then kind in
    KINDS order), at most `limit`, starting after the position `after` (decode_cursor).

    `visible_to_units`: a unit agent's units (tickets they have ever been assigned or
    co-handled, as the ticket service scopes them), or None for roles that see every ticket.
    `ticket_id`: only that ticket's (is a call still owed?).
    """
    found: list[Callback] = []
    for kind, started in _waits(visible_to_units, ticket_id):
        stmt = _waiting(started, kind, after).order_by("since", started.c.ticket_id).limit(limit)
        for row in (await session.execute(stmt)).all():
            since_at: Any = row.since
            found.append(
                Callback(row.ticket_id, kind, since_at, since_at + timedelta(hours=CALLBACK_HOURS))
            )
    found.sort(key=Callback.order)
    return found[:limit]


async def callbacks_count(session: AsyncSession, *, visible_to_units: list[str] | None) -> int:
    """How many callbacks are owed in this scope (every page's rows together)."""
    total = 0
    for kind, started in _waits(visible_to_units, None):
        waiting = _waiting(started, kind).subquery()
        total += (await session.execute(select(func.count()).select_from(waiting))).scalar_one()
    return total


async def tickets_of(session: AsyncSession, ids: list[int]) -> list[Ticket]:
    """The Ticket rows of `ids` (any order), for the ticket service to read (and mask)."""
    if not ids:
        return []
    return list((await session.execute(select(Ticket).where(Ticket.id.in_(ids)))).scalars())
