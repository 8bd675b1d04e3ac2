"""Every ticket query lives here; the service stays about the lifecycle."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, insert, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import UTCDateTime, ids_in
from app.outbox.capture import insert_events as outbox_insert_events
from app.search.words import words_condition
from app.tickets.idempotency_keys import claim_idempotency_key, execute_without_orm
from app.tickets.intake_pg import write_intake_pg
from app.tickets.intake_rows import (
    NEW_ASSIGNMENT,
    NEW_TICKET,
    IntakeRows,
    NewId,
    RowsToWrite,
    rows_to_write,
    with_ids,
)
from app.tickets.models import (
    Assignment,
    AssignmentPause,
    CoHandler,
    IdempotencyKey,
    Ticket,
    TicketEvent,
)


@dataclass
class TicketFilter:
    statuses: Sequence[str] = ()
    units: Sequence[str] = ()
    areas: Sequence[str] = ()
    topics: Sequence[str] = ()
    priorities: Sequence[str] = ()
    channels: Sequence[str] = ()
    received_from: datetime | None = None
    received_to: datetime | None = None
    caller_phone: str | None = None
    # The same number's pseudonym: tickets whose caller retention anonymised (repeat callers).
    caller_pseudonym: str | None = None
    # `q`, read by app.search.text.read_query: every word begins a word of the search text...
    words: Sequence[str] = ()
    # ...or it names the ticket (a reference or part of one) or a caller's phone (E.164).
    ticket_id: int | None = None
    text_phone: str | None = None
    # Restrict to tickets one of these units has ever been assigned (agents' scope).
    visible_to_units: Sequence[str] | None = None
    # A confidential caller cannot be found by phone by those who may not see them.
    hide_confidential_callers: bool = False
    # on_track, warning, breached, paused: judged on the ticket's mirrored next due at `now`.
    sla_states: Sequence[str] = ()
    now: datetime | None = None


# Tickets with no running clock sort after every due time.
NO_DUE = datetime(9999, 12, 31, tzinfo=UTC)
_DUE_KEY = type_coerce(
    func.coalesce(Ticket.sla_due_at, bindparam("no_due", NO_DUE, type_=UTCDateTime())),
    UTCDateTime(),
)


# SLA states whose tickets all have a due (app.tickets.repository._sla_condition).
_STATES_WITH_DUE = frozenset({"breached", "warning", "on_track"})


def _due_key(flt: "TicketFilter") -> Any:
    """The sort=due key: the mirrored due, tickets without one last (NO_DUE). When the filter
    keeps only SLA states that have a due, the plain column: the same order, and the one
    ix_ticket_sla_due_at_id holds, so that `sla_state=breached&sort=due` reads the first page
    from that index instead of sorting every breached ticket."""
    if flt.sla_states and flt.now is not None and set(flt.sla_states) <= _STATES_WITH_DUE:
        return Ticket.sla_due_at
    return _DUE_KEY


def _sla_condition(state: str, now: datetime) -> Any:
    """The ticket's headline SLA state as its read shows it (app.sla.state: breached >
    warning > paused > on_track), from the mirrored earliest due and warning instants of its
    open targets. Each ticket with a running clock matches exactly one state.

    A paused clock has no due while the pause hides it (sla_due_at null); a pause begun after
    the due leaves the due in place, so that ticket reads, and filters, `breached`.
    """
    if state == "breached":
        return Ticket.sla_due_at < now
    if state == "warning":
        return and_(Ticket.sla_warn_at <= now, Ticket.sla_due_at >= now)
    if state == "on_track":
        return and_(Ticket.sla_warn_at > now, Ticket.sla_due_at >= now)
    # paused
    return and_(Ticket.status == "waiting_citizen", Ticket.sla_due_at.is_(None))


# Intake is the hot path: constant statements (compiled once, cached) with the row passed as
# parameters, rather than ORM flushes or a new .values() construct per request.
_INSERT_TICKET = insert(Ticket).returning(Ticket.id)
_INSERT_ASSIGNMENT = insert(Assignment).returning(Assignment.id)
_BIND_KEY = (
    update(IdempotencyKey)
    .where(IdempotencyKey.actor == bindparam("a"), IdempotencyKey.key == bindparam("k"))
    .values(ticket_id=bindparam("t"))
)


async def write_intake(session: AsyncSession, intake: IntakeRows) -> tuple[int, int | None] | None:
    """Write a new ticket's rows (app.tickets.intake_rows) atomically: (ticket id, assignment
    id), or None when the idempotency key was taken already (by an earlier or a concurrent
    request).

    PostgreSQL: one statement (app.tickets.intake_pg, which commits on its own unless the
    session has begun a transaction; the reason is there). Other databases (SQLite): the same
    rows in the session's transaction, which the request commits.
    Raises what the database raises (a broken foreign key: IntegrityError); no row of the
    intake stays once the transaction it ran in is rolled back.
    """
    rows = rows_to_write(intake)
    if session.bind.dialect.name == "postgresql":
        return await write_intake_pg(session, rows)
    return await write_intake_generic(session, rows)


async def write_intake_generic(
    session: AsyncSession, rows: RowsToWrite
) -> tuple[int, int | None] | None:
    """Write one intake's rows with one insert per table, in the session's transaction (any
    database): (ticket id, assignment id), or None when the idempotency key was taken already.

    The key row is claimed first without its ticket (other requests with the key wait on it or
    see it), and bound to the ticket once that exists. The caller commits or rolls back.
    """
    key = rows.key
    if key is not None and not await claim_idempotency_key(
        session,
        actor=key["actor"],
        key=key["key"],
        request_hash=key["request_hash"],
        created_at=key["created_at"],
    ):
        return None
    ids: dict[NewId, int | None] = {NEW_ASSIGNMENT: None}
    ids[NEW_TICKET] = (await execute_without_orm(session, _INSERT_TICKET, rows.ticket)).scalar_one()
    if rows.assignment is not None:
        assignment = with_ids(rows.assignment, ids)
        ids[NEW_ASSIGNMENT] = (
            await execute_without_orm(session, _INSERT_ASSIGNMENT, assignment)
        ).scalar_one()
    if rows.co_handlers:
        co_handlers = [with_ids(row, ids) for row in rows.co_handlers]
        await execute_without_orm(session, insert(CoHandler), co_handlers)
    await insert_events(session, rows=[with_ids(event, ids) for event in rows.events])
    if key is not None:
        bind = {"a": key["actor"], "k": key["key"], "t": ids[NEW_TICKET]}
        await execute_without_orm(session, _BIND_KEY, bind)
    return ids[NEW_TICKET], ids[NEW_ASSIGNMENT]


async def insert_events(session: AsyncSession, *, rows: list[dict[str, Any]]) -> None:
    """Append events and their outbox rows (app.outbox.capture), on the session's transaction."""
    await outbox_insert_events(await session.connection(), rows)


async def insert_co_handlers(
    session: AsyncSession, *, ticket_id: int, assignment_id: int, units: Sequence[str]
) -> None:
    """Record the units informed of an assignment."""
    rows = [{"ticket_id": ticket_id, "assignment_id": assignment_id, "unit_code": u} for u in units]
    await execute_without_orm(session, insert(CoHandler), rows)


async def get_ticket(
    session: AsyncSession, *, ticket_id: int, for_update: bool = False
) -> Ticket | None:
    """One ticket by id, row-locked when about to change it.

    A locked read refreshes a ticket the session already holds: the values read before the
    lock was granted may be stale (a concurrent request changed the row meanwhile).
    """
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


def filter_conditions(flt: TicketFilter, dialect: str) -> list[Any]:
    """The WHERE conditions of a ticket filter (cursor and order apart)."""
    conditions = []
    if flt.statuses:
        conditions.append(Ticket.status.in_(flt.statuses))
    if flt.units:
        conditions.append(Ticket.current_unit_code.in_(flt.units))
    if flt.areas:
        conditions.append(Ticket.area_code.in_(flt.areas))
    if flt.topics:
        conditions.append(Ticket.topic_code.in_(flt.topics))
    if flt.priorities:
        conditions.append(Ticket.priority.in_(flt.priorities))
    if flt.channels:
        conditions.append(Ticket.channel.in_(flt.channels))
    if flt.received_from:
        conditions.append(Ticket.received_at >= flt.received_from)
    if flt.received_to:
        conditions.append(Ticket.received_at < flt.received_to)
    if flt.caller_phone:
        phones = [p for p in (flt.caller_phone, flt.caller_pseudonym) if p]
        conditions.append(Ticket.caller_phone.in_(phones))
        if flt.hide_confidential_callers:
            conditions.append(Ticket.confidential.is_(False))
    if flt.words or flt.ticket_id or flt.text_phone:
        matches = []
        if flt.words:
            matches.append(words_condition(dialect, flt.words))
        if flt.ticket_id:
            matches.append(Ticket.id == flt.ticket_id)
        if flt.text_phone:
            # Never a confidential caller's tickets by their number (the masking rule).
            matches.append(
                and_(Ticket.caller_phone == flt.text_phone, Ticket.confidential.is_(False))
            )
        conditions.append(or_(*matches))
    if flt.visible_to_units is not None:
        units = flt.visible_to_units
        conditions.append(
            or_(
                Ticket.id.in_(select(Assignment.ticket_id).where(Assignment.unit_code.in_(units))),
                Ticket.id.in_(select(CoHandler.ticket_id).where(CoHandler.unit_code.in_(units))),
            )
        )
    if flt.sla_states and flt.now is not None:
        conditions.append(or_(*(_sla_condition(s, flt.now) for s in flt.sla_states)))
    return conditions


async def list_tickets(
    session: AsyncSession,
    *,
    flt: TicketFilter,
    sort: str,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Ticket]:
    """A page of tickets in (sort key, id) order, starting after the cursor position.

    sort: "-received_at" (newest first), "received_at", or "due" (earliest next due first).
    """
    conditions = filter_conditions(flt, session.bind.dialect.name)
    key = (
        _due_key(flt)
        if sort == "due"
        else Ticket.reports_count
        if sort == "-reports"
        else Ticket.received_at
    )
    descending = sort.startswith("-")
    if after is not None:
        at, last_id = after
        if descending:
            conditions.append(or_(key < at, and_(key == at, Ticket.id < last_id)))
        else:
            conditions.append(or_(key > at, and_(key == at, Ticket.id > last_id)))
    stmt = select(Ticket)
    if conditions:
        stmt = stmt.where(*conditions)
    order = (key.desc(), Ticket.id.desc()) if descending else (key.asc(), Ticket.id.asc())
    stmt = stmt.order_by(*order).limit(limit)
    return list((await session.scalars(stmt)).all())


async def count_tickets(session: AsyncSession, *, flt: TicketFilter) -> int:
    """How many tickets match the filter (the WHERE of list_tickets, without a cursor)."""
    stmt = select(func.count()).select_from(Ticket)
    conditions = filter_conditions(flt, session.bind.dialect.name)
    if conditions:
        stmt = stmt.where(*conditions)
    return int((await session.scalar(stmt)) or 0)


async def open_assignments(
    session: AsyncSession, *, ticket_ids: Sequence[int]
) -> dict[int, Assignment]:
    """The open assignment of each ticket, by ticket id."""
    if not ticket_ids:
        return {}
    stmt = select(Assignment).where(
        ids_in(session, Assignment.ticket_id, list(ticket_ids)), Assignment.ended_at.is_(None)
    )
    return {a.ticket_id: a for a in (await session.scalars(stmt)).all()}


async def assignments_of(session: AsyncSession, *, ticket_id: int) -> list[Assignment]:
    """All assignments of a ticket, oldest first."""
    stmt = select(Assignment).where(Assignment.ticket_id == ticket_id).order_by(Assignment.id)
    return list((await session.scalars(stmt)).all())


async def open_pause(session: AsyncSession, *, assignment_id: int) -> AssignmentPause | None:
    """The running pause of an assignment, if the clock is stopped."""
    stmt = select(AssignmentPause).where(
        AssignmentPause.assignment_id == assignment_id, AssignmentPause.ended_at.is_(None)
    )
    return (await session.scalars(stmt)).one_or_none()


async def latest_events(
    session: AsyncSession, *, ticket_ids: Sequence[int], kinds: Sequence[str]
) -> dict[tuple[int, str], TicketEvent]:
    """The latest event of each kind per ticket, by (ticket id, kind); one round trip."""
    if not ticket_ids or not kinds:
        return {}
    latest = (
        select(func.max(TicketEvent.id))
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.kind.in_(kinds))
        .group_by(TicketEvent.ticket_id, TicketEvent.kind)
    )
    rows = await session.scalars(select(TicketEvent).where(TicketEvent.id.in_(latest)))
    return {(e.ticket_id, e.kind): e for e in rows.all()}


async def events_of(session: AsyncSession, *, ticket_id: int) -> list[TicketEvent]:
    """A ticket's history in the order it was written."""
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    return list((await session.scalars(stmt)).all())


async def units_involved(session: AsyncSession, *, ticket_id: int) -> set[str]:
    """Every unit the ticket has ever been assigned to or co-handled by."""
    owners = select(Assignment.unit_code).where(Assignment.ticket_id == ticket_id)
    informed = select(CoHandler.unit_code).where(CoHandler.ticket_id == ticket_id)
    return set((await session.scalars(owners.union(informed))).all())


# pg_advisory_xact_lock key: "duplicate marking" (any constant; only this module uses it).
_DUPLICATE_MARKING_LOCK = 0x10220D0B


async def serialise_duplicate_marking(session: AsyncSession) -> None:
    """Take the transaction-scoped lock that marks duplicates one at a time (PostgreSQL; on
    SQLite the single connection serialises every write already).

    Marking reads a chain of originals and locks its root: without this, two markings at once
    (A as a duplicate of B, B of A) each see the other live and leave a cycle. Marking is rare
    (an operator's decision), so one lock for all of them costs nothing. Must be taken before
    any ticket row lock of the transaction, so that it never waits while holding one.
    """
    if session.bind.dialect.name == "postgresql":
        await session.execute(
            select(func.pg_advisory_xact_lock(bindparam("k", _DUPLICATE_MARKING_LOCK)))
        )


async def rejected_units(session: AsyncSession, *, ticket_id: int) -> set[str]:
    """Units that already rejected this ticket: routing must not pick them again."""
    stmt = select(Assignment.unit_code).where(
        Assignment.ticket_id == ticket_id, Assignment.outcome == "rejected"
    )
    return set((await session.scalars(stmt)).all())
