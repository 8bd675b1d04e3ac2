"""What a report counts and how it groups it, as SQL building blocks shared by the SLA report,
the breach list and the backlog (app.reports.repository, app.reports.backlog).

`Scope` says which assignments (assigned in [start, end), the filters holding), `Grouping` by
what; `assignments_in_scope` joins and filters them; `target_states` says, per target, which
are on time, late or open-overdue as of `now` (definitions: docs/reports.md and the module
docstring of app.reports.repository). Both dialects, one meaning.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from app.catalog.vocabulary import DEFAULT_TIMEZONE
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
    timezone: str = DEFAULT_TIMEZONE  # IANA name: PostgreSQL groups days in it (Settings.timezone)
    utc_offset_minutes: int = 420  # of `timezone`; SQLite's date functions need an offset
    units: Sequence[str] | None = None  # None: any unit; () matches nothing
    unit_kinds: Sequence[str] = ()
    areas: Sequence[str] = ()
    topics: Sequence[str] = ()
    priorities: Sequence[str] = ()
    channels: Sequence[str] = ()

    def applied_filters(self) -> dict[str, list[str]]:
        """The filters a report says it applied ({"unit": [...], ...}), the empty ones left out."""
        filters = {
            "unit": list(self.units) if self.units is not None else [],
            "unit_kind": list(self.unit_kinds),
            "area": list(self.areas),
            "topic": list(self.topics),
            "priority": list(self.priorities),
            "channel": list(self.channels),
        }
        return {k: v for k, v in filters.items() if v}


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


def assignments_in_scope(
    scope: Scope, grouping: Grouping, dialect: str, *, with_ticket: bool = False
) -> Any:
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
