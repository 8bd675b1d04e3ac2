"""Counts of open assignments by unit and SLA state, for the hotline_open_assignments gauge."""

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.tickets.models import Assignment


async def open_assignment_counts(
    session: AsyncSession, *, now: datetime
) -> dict[tuple[str, str], int]:
    """{(unit_code, sla_state): count} over open assignments (ended_at IS NULL).

    The state is judged as ticket search judges it, on the earliest open target's due and
    warning instants at `now` (UTC): paused (no due while waiting for the citizen), breached,
    warning or on_track. Reads only open assignments (the partial unique index on ended_at IS
    NULL), so its cost follows the open workload, not the history.
    """
    pending_ack = Assignment.acknowledged_at.is_(None)
    due = case((pending_ack, Assignment.acknowledge_due_at), else_=Assignment.resolve_due_at)
    warn = case((pending_ack, Assignment.acknowledge_warn_at), else_=Assignment.resolve_warn_at)
    state = case(
        (Assignment.resolve_due_at.is_(None), "paused"),
        (due < now, "breached"),
        (and_(warn.is_not(None), warn <= now), "warning"),
        else_="on_track",
    ).label("state")
    stmt = (
        select(Assignment.unit_code, state, func.count())
        .where(Assignment.ended_at.is_(None))
        .group_by(Assignment.unit_code, state)
    )
    rows = (await session.execute(stmt)).all()
    return {(unit, st): n for unit, st, n in rows}
