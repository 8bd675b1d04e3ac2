"""Volume by period (GET /api/v1/reports/volume): tickets received per day, week or month.

What is counted: **tickets**, by their local `received_at` date (Asia/Ho_Chi_Minh), every
status included (cancelled and duplicate tickets too: they were calls). The same tickets
the ticket search (GET /api/v1/tickets) lists for `received_from` = the bucket's first
instant, `received_to` = its end, and the same filters: so a bar drills down to exactly the
tickets it counts. The filters are the SLA report's (unit, unit kind, area with its sub-areas,
topic with its subtopics, priority, channel); `unit` and `unit_kind` are judged on the
ticket's **current** unit, as the ticket search's `unit` filter judges it (a closed ticket no
longer has one), and a unit agent's report is scoped to tickets currently with their units.
Area, topic, priority and channel are the ticket's current values.

A week is the ISO week (its Monday names it), a month `YYYY-MM`; buckets at the edges of the
period are clipped to it (each row says the local dates it covers). Counting is done by the
database (`count(*) ... GROUP BY`), on PostgreSQL and SQLite alike.
"""

import difflib
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed, field_error
from app.reference.models import AreaRow, TopicRow
from app.reports.parameters import split_values
from app.reports.schemas import Period
from app.reports.service import ReportService
from app.reports.source import GROUP_KEYS, Scope, T, U, _level_tree, _local_period
from app.timefmt import InstantOut

PERIODS = ("day", "week", "month")
SPLITS = ("topic", "area", "channel")
assert set(PERIODS) | set(SPLITS) <= set(GROUP_KEYS)
TOTAL_LABEL = "TOTAL"

VolumeBy = Literal["day", "week", "month"]


class VolumeRow(BaseModel):
    period: str = Field(
        description="The bucket: a local date (day), the Monday of the ISO week (week) or "
        "YYYY-MM (month)"
    )
    first_day: date = Field(description="First local date the row covers (clipped to the period)")
    last_day: date = Field(description="Last local date the row covers (clipped to the period)")
    group: dict[str, str | None] = Field(
        description="The split's key columns: topic_code + topic_name, area_code + area_name, "
        "or channel; empty without a split"
    )
    tickets: int = Field(description="Tickets received in the bucket (in the group)")


class VolumeReport(BaseModel):
    period: Period = Field(description="Tickets received between these local dates")
    as_of: InstantOut
    by: VolumeBy
    group_by: list[str] = Field(description="The split: [], [topic], [area] or [channel]")
    area_level: int | None
    topic_level: int | None
    filters: dict[str, list[str]] = Field(description="The filters applied (expanded codes)")
    rows: list[VolumeRow] = Field(description="Sorted by period, then by the split's key")
    total: int = Field(description="Every ticket of the report (the sum of the rows)")


@dataclass(frozen=True)
class VolumeQuery:
    by: str = "day"
    split: str | None = None
    area_level: int | None = None
    topic_level: int | None = None


def volume_statement(scope: Scope, query: VolumeQuery, dialect: str) -> Any:
    """(key_period, [key_<split>], n) per bucket: tickets received in [scope.start, scope.end)."""
    source: Any = T
    period = _local_period(query.by, T.c.received_at, scope, dialect).label("key_period")
    keys: list[Any] = [period]
    if query.split == "channel":
        keys.append(T.c.channel.label("key_channel"))
    elif query.split in ("area", "topic"):
        column = T.c.area_code if query.split == "area" else T.c.topic_code
        level = query.area_level if query.split == "area" else query.topic_level
        if level is None:
            keys.append(column.label(f"key_{query.split}"))
        else:
            table = AreaRow.__table__ if query.split == "area" else TopicRow.__table__
            tree = _level_tree(table, level, f"{query.split}_at_level")
            source = source.outerjoin(tree, tree.c.code == column)
            keys.append(tree.c.ancestor.label(f"key_{query.split}"))
    columns = [*keys, func.count().label("n")]
    where: list[Any] = [T.c.received_at >= scope.start, T.c.received_at < scope.end]
    if scope.units is not None:
        where.append(T.c.current_unit_code.in_(list(scope.units)))
    if scope.unit_kinds:
        source = source.join(U, U.c.code == T.c.current_unit_code)
        where.append(U.c.kind.in_(list(scope.unit_kinds)))
    for values, column_name in (
        (scope.areas, "area_code"),
        (scope.topics, "topic_code"),
        (scope.priorities, "priority"),
        (scope.channels, "channel"),
    ):
        if values:
            where.append(T.c[column_name].in_(list(values)))
    group = [k.element for k in keys]
    return (
        select(*columns)
        .select_from(source)
        .where(*where)
        .group_by(*group)
        .order_by(*(g.asc().nulls_last() for g in group))
    )


def bucket_days(key: str, by: str, start: date, end: date) -> tuple[date, date]:
    """The local dates a bucket covers, clipped to [start, end] (both inclusive)."""
    if by == "day":
        first = last = date.fromisoformat(key)
    elif by == "week":
        first = date.fromisoformat(key)
        last = first + timedelta(days=6)
    else:
        year, month = (int(p) for p in key.split("-"))
        first = date(year, month, 1)
        following = date(year + month // 12, month % 12 + 1, 1)
        last = following - timedelta(days=1)
    return max(first, start), min(last, end)


async def volume_rows(
    session: AsyncSession, *, scope: Scope, query: VolumeQuery
) -> list[dict[str, Any]]:
    """[{key_period, key_<split>?, n}] in period and key order, counted by the database."""
    connection = await session.connection()
    stmt = volume_statement(scope, query, connection.dialect.name)
    return [dict(row) for row in (await connection.execute(stmt)).mappings()]


def volume_query(
    service: ReportService,
    by: str | None,
    group_by: list[str] | None,
    area_level: str | None,
    topic_level: str | None,
) -> VolumeQuery:
    """Check `by` (day, week, month; default day) and the split (at most one of topic, area,
    channel), with the levels the SLA report takes; raises ValidationFailed naming each."""
    errors: list[dict[str, Any]] = []
    period = (by or "day").strip().lower()
    if period not in PERIODS:
        close = difflib.get_close_matches(period, PERIODS, n=1, cutoff=0.5)
        hint = f"; did you mean {close[0]}?" if close else ""
        errors.append(
            field_error(
                ["by"],
                f"unknown period '{period}'{hint} (one of: {', '.join(PERIODS)})",
                suggestions=close,
            )
        )
    split = [k.lower() for k in split_values(group_by)]
    for key in split:
        if key not in SPLITS:
            close = difflib.get_close_matches(key, SPLITS, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]}?" if close else ""
            errors.append(
                field_error(
                    ["group_by"],
                    f"cannot split volume by '{key}'{hint} (one of: {', '.join(SPLITS)})",
                    suggestions=close,
                )
            )
    if len(set(split)) > 1:
        errors.append(
            field_error(
                ["group_by"],
                f"one split at a time, not {', '.join(split)}; pick one of: {', '.join(SPLITS)}",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    grouping = service.grouping(split[:1] or [period], area_level, topic_level)
    return VolumeQuery(
        by=period,
        split=split[0] if split else None,
        area_level=grouping.area_level,
        topic_level=grouping.topic_level,
    )


def _name(service: ReportService, kind: str, code: str | None) -> str | None:
    """The catalog's name of an area or topic code (the code itself if since removed)."""
    if code is None:
        return None
    table: Any = service.catalog.areas if kind == "area" else service.catalog.topics
    item = table.get(code)
    return item.name if item else code


async def volume_report(
    service: ReportService, period: tuple[date, date], scope: Scope, query: VolumeQuery
) -> VolumeReport:
    """The report: rows named from the catalog, each with the local dates it covers."""
    found = await volume_rows(service.session, scope=scope, query=query)
    keys = [query.split] if query.split else []
    rows = []
    for row in found:
        first, last = bucket_days(str(row["key_period"]), query.by, *period)
        group: dict[str, str | None] = {}
        for key in keys:
            value = row[f"key_{key}"]
            if key == "channel":
                group["channel"] = value
            else:
                group[f"{key}_code"] = value
                group[f"{key}_name"] = _name(service, key, value)
        rows.append(
            VolumeRow(
                period=str(row["key_period"]),
                first_day=first,
                last_day=last,
                group=group,
                tickets=int(row["n"]),
            )
        )
    return VolumeReport(
        period=Period(from_=period[0], to=period[1], timezone=service.timezone),
        as_of=service.now,
        by=query.by,  # type: ignore[arg-type]
        group_by=keys,
        area_level=query.area_level,
        topic_level=query.topic_level,
        filters=scope.applied_filters(),
        rows=rows,
        total=sum(r.tickets for r in rows),
    )


def volume_csv_rows(report: VolumeReport) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the CSV twin: the period column, the split's columns, `tickets`;
    the last line is the total (its first column TOTAL)."""
    split_columns = {
        "topic": ["topic_code", "topic_name"],
        "area": ["area_code", "area_name"],
        "channel": ["channel"],
    }
    columns = [c for key in report.group_by for c in split_columns[key]]
    header = [report.by, *columns, "tickets"]
    rows = [[r.period, *(r.group.get(c) for c in columns), r.tickets] for r in report.rows]
    rows.append([TOTAL_LABEL, *([""] * len(columns)), report.total])
    return header, rows
