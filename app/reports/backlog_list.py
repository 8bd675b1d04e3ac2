"""The assignments one backlog cell counts (the dashboard's drill-down from age × state).

The same FROM, WHERE and age/state expressions as GET /api/v1/reports/backlog
(`app.reports.backlog.backlog_source`), narrowed to one age bucket and/or SLA state: the list
has exactly as many lines as the cell's count (`total`), one per open assignment, oldest
assigned first. No caller data: reference, unit, topic, area, status, assigned and due times.
"""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.backlog import AGE_BUCKETS, STATES, backlog_source
from app.reports.source import A, Scope, T

AGES = tuple(label for label, _ in AGE_BUCKETS)


async def backlog_cell(
    session: AsyncSession,
    *,
    scope: Scope,
    age: str | None,
    state: str | None,
    limit: int = 500,
) -> tuple[int, list[dict[str, Any]]]:
    """(total, up to `limit` rows) of the open assignments in the cell; an age or state of
    None (or not one of AGES / STATES) leaves that side open. Rows: assignment_id, ticket_id,
    received_at, status, unit_code, topic_code, area_code, assigned_at, due_at (UTC)."""
    connection = await session.connection()
    source, where, age_expr, state_expr = backlog_source(scope, connection.dialect.name)
    if age in AGES:
        where.append(age_expr == age)
    if state in STATES:
        where.append(state_expr == state)
    total = (
        await connection.execute(select(func.count()).select_from(source).where(*where))
    ).scalar_one()
    stmt = (
        select(
            A.c.id.label("assignment_id"),
            A.c.ticket_id,
            T.c.received_at,
            T.c.status,
            A.c.unit_code,
            T.c.topic_code,
            T.c.area_code,
            A.c.assigned_at,
            T.c.sla_due_at.label("due_at"),
        )
        .select_from(source)
        .where(*where)
        .order_by(A.c.assigned_at, A.c.id)
        .limit(limit)
    )
    rows = [dict(r) for r in (await connection.execute(stmt)).mappings()]
    return int(total), rows
