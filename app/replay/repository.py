"""Streaming reads for replays: ticket facts and assignments of a period, chunk by chunk.

Nothing is loaded whole: each query runs on a server-side cursor (PostgreSQL; SQLite steps
through its result) and hands out lists of `chunk` items, so a replay of a year holds one
chunk in memory at a time. Read-only.
"""

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.routing import TicketFacts
from app.sla import DueTimes
from app.sla.whatif import AssignmentFacts
from app.tickets.models import Assignment, AssignmentPause, Ticket

T = Ticket.__table__
A = Assignment.__table__
P = AssignmentPause.__table__

CHUNK = 5000


async def _stream(session: AsyncSession, stmt: Any, chunk: int) -> AsyncIterator[list[Any]]:
    connection = await session.connection()
    result = await connection.stream(stmt.execution_options(yield_per=chunk))
    async for rows in result.partitions(chunk):
        yield rows


async def stream_ticket_facts(
    session: AsyncSession, *, start: datetime, end: datetime, chunk: int = CHUNK
) -> AsyncIterator[list[tuple[int, TicketFacts]]]:
    """(ticket id, the routing facts it holds now) of every ticket received in [start, end),
    oldest first, in lists of up to `chunk`. `received_at` is aware (UTC)."""
    stmt = (
        select(
            T.c.id,
            T.c.topic_code,
            T.c.area_code,
            T.c.channel,
            T.c.priority,
            T.c.description,
            T.c.received_at,
            T.c.confidential,
        )
        .where(T.c.received_at >= start, T.c.received_at < end)
        .order_by(T.c.received_at, T.c.id)
    )
    async for rows in _stream(session, stmt, chunk):
        yield [(r[0], TicketFacts(*r[1:])) for r in rows]


async def stream_assignments(
    session: AsyncSession,
    *,
    start: datetime,
    end: datetime,
    unit: str | None = None,
    chunk: int = CHUNK,
) -> AsyncIterator[list[AssignmentFacts]]:
    """Every assignment assigned in [start, end) (of `unit`, if given), by id, with its
    ticket's current topic, priority and channel, its pauses (oldest first) and what its
    planning stored. One pass: pauses come in by an outer join, rows grouped per assignment."""
    conditions = [A.c.assigned_at >= start, A.c.assigned_at < end]
    if unit is not None:
        conditions.append(A.c.unit_code == unit)
    stmt = (
        select(
            A.c.id,
            A.c.ticket_id,
            A.c.unit_code,
            T.c.topic_code,
            T.c.priority,
            T.c.channel,
            A.c.rule_id,
            A.c.assigned_at,
            A.c.acknowledged_at,
            A.c.resolved_at,
            A.c.ended_at,
            A.c.outcome,
            A.c.sla_policy,
            A.c.acknowledge_due_at,
            A.c.resolve_due_at,
            P.c.started_at,
            P.c.ended_at.label("pause_ended_at"),
        )
        .select_from(A.join(T, T.c.id == A.c.ticket_id).outerjoin(P, P.c.assignment_id == A.c.id))
        .where(*conditions)
        .order_by(A.c.id, P.c.started_at)
    )
    pending: list[Any] = []  # rows of the assignment the last chunk ended in
    async for rows in _stream(session, stmt, chunk):
        out: list[AssignmentFacts] = []
        for row in rows:
            if pending and pending[0][0] != row[0]:
                out.append(_facts(pending))
                pending = []
            pending.append(row)
        if out:
            yield out
    if pending:
        yield [_facts(pending)]


def _facts(rows: list[Any]) -> AssignmentFacts:
    r = rows[0]
    pauses = tuple((p[15], p[16]) for p in rows if p[15] is not None)
    return AssignmentFacts(
        assignment_id=r[0],
        ticket_id=r[1],
        unit_code=r[2],
        topic=r[3],
        priority=r[4],
        channel=r[5],
        rule_id=r[6],
        assigned_at=r[7],
        acknowledged_at=r[8],
        resolved_at=r[9],
        ended_at=r[10],
        outcome=r[11],
        pauses=pauses,
        stored_policy=r[12],
        stored_due=DueTimes(r[13], r[14]),
    )
