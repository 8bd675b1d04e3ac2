"""Backlog ageing: the open assignments now, by age and SLA state (GET /reports/backlog).

An open assignment is one not ended (the unit still holds the ticket). Its age is wall-clock
time since it was assigned; its SLA state is the ticket's headline state at `now`, judged on
the due and warning instants the ticket mirrors from that assignment (the same rule as the
ticket search's `sla_state` filter): paused while waiting for the citizen, breached after
the due, warning after the warning instant, else on track. The report's period does not
apply (a backlog is a snapshot); every other filter and a unit agent's scope do.
"""

from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import case, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.reports.source import A, Grouping, Scope, T, assignments_in_scope

# (label, lower bound in days inclusive); the last bucket has no upper bound.
AGE_BUCKETS = (("0-1d", 0), ("1-3d", 1), ("3-7d", 3), ("7-30d", 7), ("30d+", 30))
STATES = ("on_track", "warning", "breached", "paused")


class BacklogCell(BaseModel):
    age: str = Field(
        description="Age bucket since assigned_at: " + ", ".join(a for a, _ in AGE_BUCKETS)
    )
    state: str = Field(description="SLA state now: " + ", ".join(STATES))
    assignments: int


class BacklogReport(BaseModel):
    as_of: datetime = Field(description="The instant the backlog was judged at (UTC)")
    ages: list[str]
    states: list[str]
    cells: list[BacklogCell] = Field(description="Every age × state pair, zeros included")
    total: int


def backlog_source(scope: Scope, dialect: str):  # type: ignore[no-untyped-def]
    """(FROM, WHERE, age, state): the open assignments of `scope` (its period not used), and
    the age-bucket and SLA-state expressions the report groups by (its drill-down filters)."""
    now = scope.now
    everything = replace(
        scope, start=datetime(1970, 1, 1, tzinfo=now.tzinfo), end=now + timedelta(days=1)
    )
    source, where, _ = assignments_in_scope(everything, Grouping(), dialect, with_ticket=True)
    # Youngest first: the first bucket whose lower bound the age has not reached.
    age = case(
        (A.c.assigned_at > now - timedelta(days=AGE_BUCKETS[1][1]), literal(AGE_BUCKETS[0][0])),
        *[
            (A.c.assigned_at > now - timedelta(days=AGE_BUCKETS[i + 1][1]), literal(label))
            for i, (label, _) in enumerate(AGE_BUCKETS[1:-1], start=1)
        ],
        else_=literal(AGE_BUCKETS[-1][0]),
    )
    state = case(
        (T.c.status == "waiting_citizen", literal("paused")),
        (T.c.sla_due_at < now, literal("breached")),
        (T.c.sla_warn_at <= now, literal("warning")),
        else_=literal("on_track"),
    )
    return source, [*where, A.c.ended_at.is_(None)], age, state


def backlog_statement(scope: Scope, dialect: str):  # type: ignore[no-untyped-def]
    """(age, state, count) of open assignments, every filter of `scope` except its period."""
    source, where, age, state = backlog_source(scope, dialect)
    return (
        select(age.label("age"), state.label("state"), func.count().label("n"))
        .select_from(source)
        .where(*where)
        .group_by(age, state)
    )


async def backlog(session: AsyncSession, *, scope: Scope) -> BacklogReport:
    """The backlog report for `scope` (filters and unit scope; the period is not used)."""
    connection = await session.connection()
    rows = (await connection.execute(backlog_statement(scope, connection.dialect.name))).all()
    counts = {(r.age, r.state): int(r.n) for r in rows}
    ages = [label for label, _ in AGE_BUCKETS]
    cells = [
        BacklogCell(age=a, state=s, assignments=counts.get((a, s), 0)) for a in ages for s in STATES
    ]
    return BacklogReport(
        as_of=scope.now,
        ages=ages,
        states=list(STATES),
        cells=cells,
        total=sum(counts.values()),
    )


def backlog_csv_rows(report: BacklogReport) -> tuple[list[str], list[list[object]]]:
    """Header and rows of the CSV twin: age, state, assignments."""
    return ["age", "state", "assignments"], [[c.age, c.state, c.assignments] for c in report.cells]
