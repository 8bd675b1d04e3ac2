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
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.db import UTCDateTime
from app.reference.models import AreaRow, TopicRow, UnitRow
from app.tickets.models import Assignment, Ticket, TicketEvent

A = Assignment.__table__
T = Ticket.__table__
U = UnitRow.__table__
E = TicketEvent.__table__

TARGETS = ("acknowledge", "resolve")
PERCENTILES = (("median", 0.5), ("p90", 0.9))
GROUP_KEYS = ("unit", "unit_kind", "area", "topic", "priority", "channel", "day", "week", "month")
_TICKET_KEYS = frozenset({"area", "topic", "priority", "channel"})
# Per-assignment counters, in the order the report lists them.
COUNTERS = (
    "assignments",
    "open_now",
    "acknowledge_on_time",
    "acknowledge_late",
    "acknowledge_open_overdue",
    "resolve_on_time",
    "resolve_late",
    "resolve_open_overdue",
    "resolved",
    "rejected",
    "transferred",
    "reopened",
)
PERCENTILE_COLUMNS = tuple(
    f"{target}_{name}_seconds" for target in TARGETS for name, _ in PERCENTILES
)


@dataclass(frozen=True)
class Scope:
    """The assignments a report covers: assigned in [start, end), every filter given holding.

    Filters are exact code lists (area and topic subtrees already expanded). `units` also
    carries a unit agent's scope. `now` judges what is open and overdue.
    """

    start: datetime
    end: datetime
    now: datetime
    timezone: str = "Asia/Ho_Chi_Minh"
    utc_offset_minutes: int = 420  # of `timezone`; SQLite's date functions need an offset
    units: Sequence[str] | None = None  # None: any unit; () matches nothing
    unit_kinds: Sequence[str] = ()
    areas: Sequence[str] = ()
    topics: Sequence[str] = ()
    priorities: Sequence[str] = ()
    channels: Sequence[str] = ()


@dataclass(frozen=True)
class Grouping:
    """Group keys (GROUP_KEYS), with the tree depth areas and topics roll up to (1 = top).

    A level of None groups by the ticket's own area or topic; an area or topic shallower than
    the level stands for itself.
    """

    keys: tuple[str, ...] = ()
    area_level: int | None = None
    topic_level: int | None = None


# -- building blocks --------------------------------------------------------------------------


def _level_tree(table: Any, level: int, name: str) -> Any:
    """CTE (code, ancestor): each node of a parent_code tree and its ancestor at depth `level`.

    Recursive from the roots (depth 1); works the same on PostgreSQL and SQLite.
    """
    depth_limit = literal_column(str(int(level)))
    roots = select(
        table.c.code.label("code"),
        table.c.code.label("ancestor"),
        literal_column("1").label("depth"),
    ).where(table.c.parent_code.is_(None))
    tree = roots.cte(name, recursive=True)
    child = table.alias(f"{name}_child")
    return tree.union_all(
        select(
            child.c.code,
            case((tree.c.depth < depth_limit, child.c.code), else_=tree.c.ancestor),
            tree.c.depth + 1,
        ).where(child.c.parent_code == tree.c.code)
    )


def _local_period(key: str, column: Any, scope: Scope, dialect: str) -> ColumnElement[Any]:
    """The local calendar day (YYYY-MM-DD), week (its Monday) or month (YYYY-MM) of an instant."""
    if dialect == "postgresql":
        local = func.timezone(scope.timezone, column)
        if key == "day":
            return func.to_char(local, "YYYY-MM-DD")
        if key == "week":
            return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
        return func.to_char(local, "YYYY-MM")
    shift = f"{scope.utc_offset_minutes:+d} minutes"
    if key == "day":
        return func.date(column, shift)
    if key == "week":
        # Back 6 days, then forward to the next Monday (or stay on it): the week's Monday.
        return func.date(column, shift, "-6 days", "weekday 1")
    return func.strftime("%Y-%m", column, shift)


def _seconds_between(a: Any, b: Any, dialect: str) -> ColumnElement[Any]:
    """b - a in (wall-clock) seconds, as a number."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", b - a), Float)
    return (func.julianday(b) - func.julianday(a)) * 86400.0


def target_done(target: str) -> Any:
    """When the unit responded to the target (NULL while not done), as stamped on the row."""
    return A.c.acknowledge_done_at if target == "acknowledge" else A.c.resolve_done_at


def target_due(target: str) -> Any:
    return A.c.acknowledge_due_at if target == "acknowledge" else A.c.resolve_due_at


def target_states(target: str, now: datetime) -> dict[str, ColumnElement[bool]]:
    """on_time / late / open_overdue conditions of one target of the assignment row.

    Plain comparisons (a NULL due or done instant makes them NULL, i.e. not counted).
    """
    done, due = target_done(target), target_due(target)
    return {
        "on_time": done <= due,
        "late": or_(done > due, and_(done.is_(None), A.c.ended_at > due)),
        "open_overdue": and_(done.is_(None), A.c.ended_at.is_(None), due < now),
    }


def _row_conditions(now: datetime) -> dict[str, ColumnElement[bool] | None]:
    """The condition each counter counts (None: every row)."""
    conditions: dict[str, ColumnElement[bool] | None] = {
        "assignments": None,
        "open_now": A.c.ended_at.is_(None),
    }
    for target in TARGETS:
        for state, condition in target_states(target, now).items():
            conditions[f"{target}_{state}"] = condition
    # A reopen records a `reopened` event against the assignment whose resolution it undoes;
    # those are few, so this is a hashed set on PostgreSQL, not a lookup per row.
    reopened = select(E.c.assignment_id).where(E.c.kind == "reopened")
    conditions["resolved"] = A.c.outcome == "resolved"
    conditions["rejected"] = A.c.outcome == "rejected"
    conditions["transferred"] = A.c.outcome == "transferred"
    conditions["reopened"] = and_(A.c.outcome == "resolved", A.c.id.in_(reopened))
    return conditions


def _seconds_column(target: str) -> Any:
    return (
        A.c.acknowledge_working_seconds if target == "acknowledge" else A.c.resolve_working_seconds
    )


def _source(scope: Scope, grouping: Grouping, dialect: str, *, with_ticket: bool = False) -> Any:
    """(FROM clause, WHERE conditions, {key: expression}) for the scope and grouping."""
    keys = grouping.keys
    need_ticket = (
        with_ticket
        or bool(scope.areas or scope.topics or scope.priorities or scope.channels)
        or bool(_TICKET_KEYS.intersection(keys))
    )
    source: Any = A
    if need_ticket:
        source = source.join(T, T.c.id == A.c.ticket_id)
    if "unit_kind" in keys or scope.unit_kinds:
        source = source.join(U, U.c.code == A.c.unit_code)
    exprs: dict[str, Any] = {}
    for key in keys:
        if key == "unit":
            exprs[key] = A.c.unit_code
        elif key == "unit_kind":
            exprs[key] = U.c.kind
        elif key in ("area", "topic"):
            column = T.c.area_code if key == "area" else T.c.topic_code
            level = grouping.area_level if key == "area" else grouping.topic_level
            if level is None:
                exprs[key] = column
            else:
                table = AreaRow.__table__ if key == "area" else TopicRow.__table__
                tree = _level_tree(table, level, f"{key}_at_level")
                source = source.outerjoin(tree, tree.c.code == column)
                exprs[key] = tree.c.ancestor
        elif key in ("priority", "channel"):
            exprs[key] = T.c[key]
        else:
            exprs[key] = _local_period(key, A.c.assigned_at, scope, dialect)
    where: list[Any] = [A.c.assigned_at >= scope.start, A.c.assigned_at < scope.end]
    if scope.units is not None:
        where.append(A.c.unit_code.in_(list(scope.units)))
    if scope.unit_kinds:
        where.append(U.c.kind.in_(list(scope.unit_kinds)))
    for values, column in (
        (scope.areas, "area_code"),
        (scope.topics, "topic_code"),
        (scope.priorities, "priority"),
        (scope.channels, "channel"),
    ):
        if values:
            where.append(T.c[column].in_(list(values)))
    return source, where, exprs


# -- the report -------------------------------------------------------------------------------


def counters_statement(scope: Scope, grouping: Grouping, dialect: str) -> Any:
    """COUNTERS per group (`key_<name>` columns first), in key order: one pass, both databases.

    (`count(*) FILTER (WHERE ...)` is standard SQL; SQLite has it since 3.30.)
    """
    source, where, keys = _source(scope, grouping, dialect)
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
    source, where, keys = _source(scope, grouping, dialect)
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
    from app.reports.percentiles_pg import fill_percentiles  # one pass per target (PostgreSQL)

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
    source, where, _ = _source(scope, Grouping(), dialect, with_ticket=True)
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
