"""SLA report queries: every count, rate input and percentile is computed by the database.

One meaning on both databases (definitions: docs/reports.md). A report is one pass for the
counters (`count(*) FILTER (WHERE ...)`) and one per target for its percentiles:
`percentile_cont` on PostgreSQL; on SQLite the same linear interpolation built from window
functions (`row_number` and `count` per group) and summed in the aggregate. No assignment row
is ever loaded into Python.

A report covers the assignments *assigned* in [start, end) (the clock start of each unit's
piece of work). Targets are judged from the instants stamped on each assignment: the due times
(which already include pauses) and the done times (`app.sla.done_times`):

- done: `acknowledge` at acknowledged_at, or at ended_at when the assignment ended by the
  unit's response (resolved, rejected, transferred); `resolve` at ended_at for those outcomes.
- on time: done <= due. late: done > due, or the assignment ended without a response
  (cancelled, duplicate, rerouted) after the due had passed (`missed` in docs/sla.md).
- open-overdue: not done, still open, due < now. A paused clock has no due: never overdue.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import UTCDateTime
from app.reports.percentiles_pg import fill_percentiles  # one pass per target (PostgreSQL)
from app.reports.source import (
    COUNTERS,
    PERCENTILES,
    TARGETS,
    A,
    Grouping,
    Scope,
    T,
    _row_conditions,
    _seconds_between,
    _seconds_column,
    assignments_in_scope,
    target_done,
    target_due,
    target_states,
)

# -- the report -------------------------------------------------------------------------------


def counters_statement(scope: Scope, grouping: Grouping, dialect: str) -> Any:
    """COUNTERS per group (`key_<name>` columns first), in key order: one pass, both databases.

    (`count(*) FILTER (WHERE ...)` is standard SQL; SQLite has it since 3.30.)
    """
    source, where, keys = assignments_in_scope(scope, grouping, dialect)
    columns: list[Any] = [expr.label(f"key_{name}") for name, expr in keys.items()]
    for name, condition in _row_conditions(scope.now).items():
        count = func.count() if condition is None else func.count().filter(condition)
        columns.append(count.label(name))
    stmt = select(*columns).select_from(source).where(*where)
    if keys:
        stmt = stmt.group_by(*keys.values()).order_by(
            *(expr.asc().nulls_last() for expr in keys.values())
        )
    return stmt


def _interpolated(value: Any, rank: Any, count: Any, fraction: float) -> Any:
    """percentile_cont(fraction) of `value` in a group, from each row's rank and the count.

    The value at 0-based position p = fraction * (count - 1), interpolated linearly between
    the ranks floor(p) + 1 and floor(p) + 2; NULL when the group has no value.
    """
    position = (count - 1) * literal(fraction, Float())
    lower = cast(position, Integer)  # positions are >= 0: truncation is floor
    share = position - lower
    return func.sum(
        case(
            (rank == lower + 1, value * (1 - share)),
            (rank == lower + 2, value * share),
        )
    )


def percentiles_statement(scope: Scope, grouping: Grouping, target: str, dialect: str) -> Any:
    """PERCENTILES of the target's working seconds per group, over the targets done.

    PostgreSQL: `percentile_cont`; with group_by=unit (or none) it reads the partial
    (unit_code, seconds) or (seconds) index in order, so the aggregate's sort is of presorted
    input. SQLite: the same interpolation from row_number() and count() per group.
    """
    source, where, keys = assignments_in_scope(scope, grouping, dialect)
    seconds = _seconds_column(target)
    where = [*where, seconds.is_not(None)]
    group = list(keys.values())
    if dialect == "postgresql":
        # The values in (group, value) order: from the index when there is one, otherwise
        # one sort; percentile_cont's own sort of each group then finds its input in order.
        done = (
            select(
                *(expr.label(f"key_{name}") for name, expr in keys.items()), seconds.label("value")
            )
            .select_from(source)
            .where(*where)
            .order_by(*group, seconds)
            .subquery("done")
        )
        by = [done.c[f"key_{name}"] for name in keys]
        stmt = select(
            *by,
            *(
                func.percentile_cont(fraction).within_group(done.c.value).label(name)
                for name, fraction in PERCENTILES
            ),
        )
        return stmt.group_by(*by) if by else stmt
    ranked = (
        select(
            *(expr.label(f"key_{name}") for name, expr in keys.items()),
            seconds.label("value"),
            func.row_number().over(partition_by=group or None, order_by=seconds).label("rank"),
            func.count().over(partition_by=group or None).label("count"),
        )
        .select_from(source)
        .where(*where)
        .subquery("ranked")
    )
    by = [ranked.c[f"key_{name}"] for name in keys]
    stmt = select(
        *by,
        *(
            _interpolated(ranked.c.value, ranked.c.rank, ranked.c.count, fraction).label(name)
            for name, fraction in PERCENTILES
        ),
    )
    return stmt.group_by(*by) if by else stmt


@dataclass
class ReportRows:
    """Per group: `key_<name>` values, COUNTERS, and `<target>_<percentile>_seconds`."""

    rows: list[dict[str, Any]]
    totals: dict[str, Any]


async def sla_report_rows(
    session: AsyncSession, *, scope: Scope, grouping: Grouping, percentiles: bool = True
) -> ReportRows:
    """The report's numbers, every one computed by the database.

    With percentiles=False only the counters statement runs (the percentile columns are None):
    the counts are the same numbers, for views that show no percentiles.

    Three statements per grouping: the counters, and the percentiles of each target (each
    its own pass, so that an index can give it presorted input). The totals row's counters
    are the sums of the groups' (the groups partition the assignments); its percentiles are
    computed over all the assignments, by the database too.
    """
    connection = await session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # For this transaction only: room for the sorts of a year of assignments in memory,
        # and plans made for the actual period (a generic plan of a prepared statement cannot
        # tell a month from a year).
        await connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        await connection.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    names = [f"key_{name}" for name in grouping.keys]

    def key(row: Any) -> tuple[Any, ...]:
        return tuple(row[name] for name in names)

    result = await connection.execute(counters_statement(scope, grouping, dialect))
    rows = [dict(row) for row in result.mappings()]
    totals: dict[str, Any] = {name: sum(row[name] for row in rows) for name in COUNTERS}
    combined = percentiles and await fill_percentiles(connection, scope, grouping, rows, totals)
    for target in TARGETS if percentiles and not combined else ():
        for stmt_grouping, into in ((grouping, rows), (Grouping(), [totals])):
            stmt = percentiles_statement(scope, stmt_grouping, target, dialect)
            found = {
                key(r) if stmt_grouping.keys else (): r for r in await _mappings(connection, stmt)
            }
            for row in into:
                values = found.get(key(row) if stmt_grouping.keys else ())
                for name, _ in PERCENTILES:
                    row[f"{target}_{name}_seconds"] = None if values is None else values[name]
    if not percentiles:
        for row in [*rows, totals]:
            row.update({f"{t}_{name}_seconds": None for t in TARGETS for name, _ in PERCENTILES})
    return ReportRows(rows=rows, totals=totals)


async def _mappings(connection: Any, stmt: Any) -> list[Any]:
    return list((await connection.execute(stmt)).mappings())


# -- breaches ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BreachQuery:
    targets: Sequence[str] = TARGETS
    states: Sequence[str] = ("late", "open_overdue")
    sort: str = "due"  # or "-overdue"
    limit: int = 50
    offset: int = 0


def _breach_branch(target: str, scope: Scope, states: Sequence[str], dialect: str) -> Any:
    source, where, _ = assignments_in_scope(scope, Grouping(), dialect, with_ticket=True)
    conditions = target_states(target, scope.now)
    wanted = [conditions[s] for s in states]
    done, due = target_done(target), target_due(target)
    open_overdue = conditions["open_overdue"]
    # Late: when the unit responded, or when the assignment ended without a response.
    ended = type_coerce(
        case((open_overdue, None), else_=func.coalesce(done, A.c.ended_at)), UTCDateTime()
    )
    until = func.coalesce(ended, literal(scope.now, UTCDateTime()))
    return (
        select(
            A.c.id.label("assignment_id"),
            A.c.ticket_id,
            T.c.received_at.label("ticket_received_at"),
            A.c.unit_code,
            T.c.topic_code,
            T.c.area_code,
            T.c.priority,
            T.c.channel,
            literal(target).label("target"),
            A.c.sla_policy,
            A.c.assigned_at,
            due.label("due_at"),
            ended.label("done_at"),
            case((open_overdue, "open_overdue"), else_="late").label("state"),
            _seconds_between(due, until, dialect).label("overdue_seconds"),
        )
        .select_from(source)
        .where(*where, or_(*wanted))
    )


async def breach_rows(
    session: AsyncSession, *, scope: Scope, query: BreachQuery
) -> tuple[int, list[dict[str, Any]]]:
    """(total, one page) of late and open-overdue targets, one row per assignment and target."""
    dialect = (await session.connection()).dialect.name
    branches = [_breach_branch(t, scope, query.states, dialect) for t in query.targets]
    union = union_all(*branches).subquery("breaches")
    total = (await session.execute(select(func.count()).select_from(union))).scalar_one()
    order: list[Any] = []
    if query.sort == "-overdue":
        order.append(union.c.overdue_seconds.desc())
    order += [union.c.due_at.asc(), union.c.assignment_id.asc(), union.c.target.asc()]
    stmt = select(union).order_by(*order).limit(query.limit).offset(query.offset)
    rows = [dict(row) for row in (await session.execute(stmt)).mappings()]
    return total, rows
