"""Queries of the Open311 adapter: what the public may list, latest assignments, public events,
the lookup throttle."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.open311.models import LookupThrottle, TicketFeedback
from app.tickets.models import Assignment, Ticket, TicketEvent


@dataclass
class RequestFilter:
    ids: Sequence[int] = ()
    topics: Sequence[str] = ()
    statuses: Sequence[str] = ()  # ticket statuses
    received_from: datetime | None = None
    received_to: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    include_private: bool = False


def _visible(include_private: bool) -> Any:
    """Never a confidential ticket; others only if public, unless the setting lists them all."""
    condition = Ticket.confidential.is_(False)
    return condition if include_private else and_(condition, Ticket.public.is_(True))


async def list_requests(
    session: AsyncSession, *, flt: RequestFilter, offset: int, limit: int
) -> list[Ticket]:
    """Visible tickets matching every filter, newest first."""
    stmt = select(Ticket).where(_visible(flt.include_private))
    if flt.ids:
        stmt = stmt.where(Ticket.id.in_(flt.ids))
    if flt.topics:
        stmt = stmt.where(Ticket.topic_code.in_(flt.topics))
    if flt.statuses:
        stmt = stmt.where(Ticket.status.in_(flt.statuses))
    for column, op, value in (
        (Ticket.received_at, "ge", flt.received_from),
        (Ticket.received_at, "le", flt.received_to),
        (Ticket.updated_at, "gt", flt.updated_after),
        (Ticket.updated_at, "lt", flt.updated_before),
    ):
        if value is not None:
            stmt = stmt.where(getattr(column, f"__{op}__")(value))
    stmt = stmt.order_by(Ticket.received_at.desc(), Ticket.id.desc()).offset(offset).limit(limit)
    return list((await session.scalars(stmt)).all())


async def latest_assignments(
    session: AsyncSession, *, ticket_ids: Sequence[int]
) -> dict[int, Assignment]:
    """The newest assignment of each ticket (open or ended)."""
    if not ticket_ids:
        return {}
    newest = (
        select(func.max(Assignment.id))
        .where(Assignment.ticket_id.in_(ticket_ids))
        .group_by(Assignment.ticket_id)
    )
    rows = await session.scalars(select(Assignment).where(Assignment.id.in_(newest)))
    return {a.ticket_id: a for a in rows}


async def last_resolution(session: AsyncSession, *, ticket_id: int) -> TicketEvent | None:
    stmt = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "resolved")
        .order_by(TicketEvent.id.desc())
        .limit(1)
    )
    return (await session.scalars(stmt)).first()


async def public_events(
    session: AsyncSession,
    *,
    kinds: Sequence[str],
    since: datetime,
    until: datetime,
    include_private: bool,
    ticket_ids: Sequence[int] = (),
    offset: int = 0,
    limit: int = 1000,
) -> list[tuple[TicketEvent, Ticket]]:
    """Events of these kinds recorded in [since, until) on visible tickets, in id order (the
    order they were written: a new one only ever comes last), `limit` after the first
    `offset`."""
    stmt = (
        select(TicketEvent, Ticket)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            _visible(include_private),
            TicketEvent.kind.in_(kinds),
            TicketEvent.recorded_at >= since,
            TicketEvent.recorded_at < until,
        )
    )
    if ticket_ids:
        stmt = stmt.where(TicketEvent.ticket_id.in_(ticket_ids))
    stmt = stmt.order_by(TicketEvent.id).offset(offset).limit(limit)
    return [(e, t) for e, t in (await session.execute(stmt)).all()]


async def count_lookup(
    session: AsyncSession, *, client: str, now: datetime, window: timedelta
) -> int:
    """Count one lookup by `client`; the lookups in its current window, this one included.

    One upsert, so that concurrent lookups on several instances are all counted."""
    dialect = session.bind.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = LookupThrottle.__table__
    stale = table.c.window_started_at <= now - window
    stmt = insert(table).values(client=client, count=1, window_started_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.client],
        set_={
            "count": case((stale, 1), else_=table.c.count + 1),
            "window_started_at": case((stale, now), else_=table.c.window_started_at),
        },
    ).returning(table.c.count)
    return int((await session.execute(stmt)).scalar_one())


async def feedback_of(session: AsyncSession, *, assignment_id: int) -> TicketFeedback | None:
    stmt = select(TicketFeedback).where(TicketFeedback.assignment_id == assignment_id)
    return (await session.scalars(stmt)).first()


async def unanswered_resolutions(
    session: AsyncSession, *, resolved_before: datetime, limit: int
) -> list[tuple[Ticket, int]]:
    """Resolved tickets whose latest assignment was resolved before the instant and has no
    feedback: (ticket, assignment id), row-locked, skipping rows another instance holds."""
    latest = (
        select(func.max(Assignment.id))
        .where(Assignment.ticket_id == Ticket.id)
        .correlate(Ticket)
        .scalar_subquery()
    )
    answered = select(TicketFeedback.id).where(TicketFeedback.assignment_id == Assignment.id)
    stmt = (
        select(Ticket, Assignment.id)
        .join(Assignment, Assignment.id == latest)
        .where(
            Ticket.status == "resolved",
            Assignment.outcome == "resolved",
            Assignment.resolved_at < resolved_before,
            ~answered.exists(),
        )
        .order_by(Ticket.id)
        .limit(limit)
        .with_for_update(of=Ticket, skip_locked=True)
    )
    return [(t, a) for t, a in (await session.execute(stmt)).all()]


async def satisfaction(
    session: AsyncSession, *, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Per unit, feedback recorded in [since, until): answers, fixed yes/partly/no, ratings."""
    fb = TicketFeedback
    stmt = (
        select(
            fb.unit_code,
            func.count(),
            func.sum(case((fb.fixed == "yes", 1), else_=0)),
            func.sum(case((fb.fixed == "partly", 1), else_=0)),
            func.sum(case((fb.fixed == "no", 1), else_=0)),
            func.avg(fb.rating),
            func.count(fb.rating),
        )
        .where(fb.recorded_at >= since, fb.recorded_at < until)
        .group_by(fb.unit_code)
        .order_by(fb.unit_code)
    )
    keys = ("unit", "answers", "fixed", "partly", "not_fixed", "mean_rating", "ratings")
    return [dict(zip(keys, row, strict=True)) for row in (await session.execute(stmt)).all()]
