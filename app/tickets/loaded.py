"""A ticket with its assignments and their pauses, loaded once for an action and its read."""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.sla import Pause
from app.tickets.models import Assignment, AssignmentPause, Ticket


@dataclass
class LoadedTicket:
    """`assignments` oldest first; `pauses` the pause rows per assignment id, oldest first.

    An action changes these in place (ends one, adds one, pauses the clock), so the read that
    follows it needs no second round trip.
    """

    ticket: Ticket
    assignments: list[Assignment]
    pauses: dict[int, list[AssignmentPause]] = field(default_factory=dict)

    @property
    def current(self) -> Assignment | None:
        """The open assignment (a ticket has at most one), None when no unit has it."""
        return next((a for a in reversed(self.assignments) if a.ended_at is None), None)

    def pauses_of(self, a: Assignment) -> list[Pause]:
        """The assignment's pauses as (started_at, ended_at or None), oldest first."""
        return [(p.started_at, p.ended_at) for p in self.pauses.get(a.id, [])]

    def pause_map(self) -> dict[int, list[Pause]]:
        """pauses_of for every assignment, by id."""
        return {a.id: self.pauses_of(a) for a in self.assignments}

    def open_pause(self, a: Assignment) -> AssignmentPause | None:
        """The running pause of `a`, while its clock is stopped."""
        return next((p for p in self.pauses.get(a.id, []) if p.ended_at is None), None)

    def rejected_units(self) -> frozenset[str]:
        """Units that rejected the ticket: routing must not pick them again."""
        return frozenset(a.unit_code for a in self.assignments if a.outcome == "rejected")

    def add(self, a: Assignment) -> None:
        """A new assignment (no pauses yet)."""
        self.assignments.append(a)
        self.pauses[a.id] = []


async def load(session: AsyncSession, ticket: Ticket) -> LoadedTicket:
    """The ticket's assignments and their pauses, in one statement (a ticket has a few
    assignments, and an assignment a few pauses)."""
    stmt = (
        select(Assignment, AssignmentPause)
        .outerjoin(AssignmentPause, AssignmentPause.assignment_id == Assignment.id)
        .where(Assignment.ticket_id == ticket.id)
        .order_by(Assignment.id, AssignmentPause.started_at)
    )
    loaded = LoadedTicket(ticket, [])
    for assignment, pause in (await session.execute(stmt)).all():
        if assignment.id not in loaded.pauses:
            loaded.add(assignment)
        if pause is not None:
            loaded.pauses[assignment.id].append(pause)
    return loaded


async def load_many(session: AsyncSession, tickets: list[Ticket]) -> dict[int, LoadedTicket]:
    """`load` for many tickets in one statement: ticket id -> LoadedTicket (every ticket
    given has one, with no assignments when it has none)."""
    loaded = {t.id: LoadedTicket(t, []) for t in tickets if t.id is not None}
    if not loaded:
        return {}
    stmt = (
        select(Assignment, AssignmentPause)
        .outerjoin(AssignmentPause, AssignmentPause.assignment_id == Assignment.id)
        .where(Assignment.ticket_id.in_(loaded))
        .order_by(Assignment.id, AssignmentPause.started_at)
    )
    for assignment, pause in (await session.execute(stmt)).all():
        one = loaded[assignment.ticket_id]
        if assignment.id not in one.pauses:
            one.add(assignment)
        if pause is not None:
            one.pauses[assignment.id].append(pause)
    return loaded
