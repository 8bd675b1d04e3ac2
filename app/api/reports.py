"""/api/v1/reports: SLA reports for supervisors (JSON, or CSV with `Accept: text/csv`).

Definitions of every number: docs/reports.md (also in each field's description below).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.checked_route import CheckedRoute
from app.api.deps import NowDep, ReadSessionDep, require, runtime_of
from app.api.problems import pointing_to_lists
from app.errors import ValidationFailed
from app.reports.backlog import BacklogReport, backlog, backlog_csv_rows
from app.reports.csv_export import breaches_csv, csv_text, report_csv
from app.reports.parameters import ReportFilters, split_values
from app.reports.repository import BreachQuery
from app.reports.schemas import METRIC_DOCS, BreachItem, BreachPage, SlaReport
from app.reports.service import ReportService
from app.reports.source import GROUP_KEYS
from app.reports.volume import VolumeReport, volume_csv_rows, volume_query, volume_report
from app.runtime import Runtime
from app.users.principal import Principal

router = APIRouter(route_class=CheckedRoute, prefix="/reports", tags=["reports"])


# Where a client finds the codes an unknown one may be a typo of (app.reports.parameters).
def _in_query(error: dict[str, Any]) -> dict[str, Any]:
    out = pointing_to_lists(error)
    out["loc"] = ["query", *out["loc"]]
    return out


@contextmanager
def parameters_in_query() -> Iterator[None]:
    """The report service names a bad parameter by itself (["unit"]); here every parameter is
    in the query string: ["query", "unit"], with the list to look in for an unknown code."""
    try:
        yield
    except ValidationFailed as exc:
        raise ValidationFailed([_in_query(e) for e in exc.extra["errors"]]) from None


Reader = Annotated[Principal, require("reports:read", "read reports")]
CSV_MEDIA = "text/csv"


def _responses(csv_columns: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": "JSON by default; CSV (UTF-8 with BOM) with `Accept: text/csv` or "
            f"`format=csv`. CSV columns: {csv_columns}",
            "content": {CSV_MEDIA: {"schema": {"type": "string"}}},
        },
        403: {"description": "Not allowed (e.g. a unit agent asking for another unit)"},
        422: {
            "description": "Invalid parameters; `errors` lists each with suggestions",
            "content": {"application/problem+json": {}},
        },
    }


async def report_service(
    request: Request, session: ReadSessionDep, now: NowDep, user: Reader
) -> ReportService:
    return build_report_service(runtime_of(request), session, now, user)


def build_report_service(
    runtime: Runtime, session: AsyncSession, now: datetime, user: Principal
) -> ReportService:
    """The report service for one request, from the runtime (shared with the console)."""
    return ReportService(
        session=session,
        catalog=runtime.catalog,
        sla=runtime.sla,
        now=now,
        principal=user,
        reference_prefix=runtime.settings.reference_prefix,
        timezone=runtime.settings.timezone,
    )


ServiceDep = Annotated[ReportService, Depends(report_service)]

DateFrom = Annotated[
    str | None,
    Query(
        alias="from",
        description="First local date (YYYY-MM-DD, Asia/Ho_Chi_Minh), inclusive, by the "
        "assignment's assigned_at. Default: 29 days before `to`",
        examples=["2026-03-01"],
    ),
]
DateTo = Annotated[
    str | None,
    Query(
        alias="to",
        description="Last local date (YYYY-MM-DD), inclusive. Default: today",
        examples=["2026-03-31"],
    ),
]


def _filters(
    unit: Annotated[
        list[str] | None, Query(description="Unit code(s); repeat or separate with commas")
    ] = None,
    unit_kind: Annotated[
        list[str] | None, Query(description="Unit kind(s): ubnd, so, cong-ty, cong-an, ...")
    ] = None,
    area: Annotated[
        list[str] | None,
        Query(description="Area code or name (accents optional); includes the areas under it"),
    ] = None,
    topic: Annotated[
        list[str] | None, Query(description="Topic code(s); includes subtopics")
    ] = None,
    priority: Annotated[list[str] | None, Query(description="low, normal, high, urgent")] = None,
    channel: Annotated[
        list[str] | None,
        Query(description="phone, sms, zalo, web, email, app, walk_in, open311"),
    ] = None,
) -> ReportFilters:
    return ReportFilters(
        units=unit or (),
        unit_kinds=unit_kind or (),
        areas=area or (),
        topics=topic or (),
        priorities=priority or (),
        channels=channel or (),
    )


FiltersDep = Annotated[ReportFilters, Depends(_filters)]


@dataclass(frozen=True)
class Asked:
    """What a report over a period was asked: its local dates as given (checked by the
    service, app.reports.period) and its filters. One declaration for /sla, /sla/breaches and
    /volume."""

    date_from: str | None
    date_to: str | None
    filters: ReportFilters


def _asked(filters: FiltersDep, date_from: DateFrom = None, date_to: DateTo = None) -> Asked:
    return Asked(date_from, date_to, filters)


AskedDep = Annotated[Asked, Depends(_asked)]
AreaLevel = Annotated[
    str | None,
    Query(
        description="With group_by=area: the depth areas roll up to, 1 = the city, or a "
        "level name (city, ward, commune). Default: the ticket's own area"
    ),
]
TopicLevel = Annotated[
    str | None,
    Query(
        description="With group_by=topic: the depth topics roll up to, 1 = topic groups "
        "(moi-truong, giao-thong...). Default: the ticket's own topic"
    ),
]


def _wants_csv(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    accept = request.headers.get("accept", "").lower()
    return CSV_MEDIA in accept and "application/json" not in accept.split(CSV_MEDIA)[0]


def _csv_response(body: str, filename: str) -> Response:
    return Response(
        content=body.encode("utf-8"),
        media_type=f"{CSV_MEDIA}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


Format = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="Overrides the Accept header: json or csv"),
]


@router.get(
    "/sla",
    response_model=SlaReport,
    responses=_responses(
        "the group's key columns (unit_code, unit_name, unit_kind, area_code, area_name, "
        "topic_code, topic_name, priority, channel, day, week, month: those asked for), then "
        + ", ".join(METRIC_DOCS)
        + "; the last line is the totals row, its first column TOTAL"
    ),
)
async def sla_report(
    request: Request,
    service: ServiceDep,
    asked: AskedDep,
    group_by: Annotated[
        list[str] | None,
        Query(
            description="One or more of: "
            + ", ".join(GROUP_KEYS)
            + " (comma-separated or repeated; default unit). Rows are sorted by these keys.",
            examples=["unit", "unit,month", "area,topic"],
        ),
    ] = None,
    area_level: AreaLevel = None,
    topic_level: TopicLevel = None,
    percentiles: Annotated[
        bool,
        Query(
            description="false: leave out the median and p90 minutes (null), for views that "
            "only count; the counts are the same and the report is cheaper"
        ),
    ] = True,
    fmt: Format = None,
) -> Any:
    """SLA performance per group of assignments assigned in a period, plus a totals row.

    A row counts **assignments** (one unit's piece of work on one ticket) by their local
    `assigned_at` date. Per target (acknowledge, resolve): on time (done ≤ due), late (done
    after the due, or ended without a response after it), open and overdue (not done, due <
    now), the on-time rate = on time ÷ (on time + late + open-overdue), and the median and p90
    working minutes the unit took (SLA clock, pauses left out). Also: still open now, resolved,
    rejected, transferred, reopened. Unit agents see only their units' assignments; no caller
    data is ever included. Full definitions: docs/reports.md.
    """
    with parameters_in_query():
        period = service.period(asked.date_from, asked.date_to)
        grouping = service.grouping(group_by, area_level, topic_level)
        scope = service.scope(*period, asked.filters)
    report = await service.sla_report(period, scope, grouping, percentiles)
    if _wants_csv(request, fmt):
        name = f"sla-{'-'.join(grouping.keys)}-{period[0]}-{period[1]}.csv"
        return _csv_response(report_csv(report), name)
    return report


@router.get(
    "/sla/breaches",
    response_model=BreachPage,
    responses=_responses(", ".join(BreachItem.model_fields)),
)
async def sla_breaches(
    request: Request,
    service: ServiceDep,
    asked: AskedDep,
    target: Annotated[
        list[Literal["acknowledge", "resolve"]] | None,
        Query(description="Only this target (default both)"),
    ] = None,
    state: Annotated[
        list[Literal["late", "open_overdue"]] | None,
        Query(description="late (done after the due) or open_overdue (default both)"),
    ] = None,
    sort: Annotated[
        Literal["due", "-overdue"],
        Query(description="due: oldest due first (default); -overdue: most overdue first"),
    ] = "due",
    limit: Annotated[int, Query(ge=1, le=10000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
    fmt: Format = None,
) -> Any:
    """Every target missed or open and overdue, one row per assignment and target.

    Same period (by assigned_at) and filters as the report. `overdue_minutes` is wall-clock
    time past the due; `overdue_working_minutes` the same on the SLA clock. Paginated with
    limit/offset (`total` counts every row). Unit agents see only their units' assignments.
    """
    with parameters_in_query():
        period = service.period(asked.date_from, asked.date_to)
        scope = service.scope(*period, asked.filters)
    query = BreachQuery(
        targets=tuple(dict.fromkeys(split_values(target))) or ("acknowledge", "resolve"),
        states=tuple(dict.fromkeys(split_values(state))) or ("late", "open_overdue"),
        sort=sort,
        limit=limit,
        offset=offset,
    )
    page = await service.breaches(scope, query)
    if _wants_csv(request, fmt):
        return _csv_response(breaches_csv(page), f"sla-breaches-{period[0]}-{period[1]}.csv")
    return page


@router.get(
    "/backlog",
    response_model=BacklogReport,
    responses=_responses("age, state, assignments (every age × state pair, zeros included)"),
)
async def backlog_report(
    request: Request, service: ServiceDep, filters: FiltersDep, fmt: Format = None
) -> Any:
    """Backlog ageing: the assignments open now, by age since assigned (0-1d, 1-3d, 3-7d,
    7-30d, 30d+) and SLA state now (on_track, warning, breached, paused).

    A snapshot: no period; the filters and a unit agent's scope apply as in the SLA report.
    Definitions: docs/reports.md.
    """
    with parameters_in_query():
        scope = service.scope(*service.period(None, None), filters)
    report = await backlog(service.session, scope=scope)
    if _wants_csv(request, fmt):
        header, rows = backlog_csv_rows(report)
        return _csv_response(csv_text(header, rows), "backlog.csv")
    return report


@router.get(
    "/volume",
    response_model=VolumeReport,
    responses=_responses(
        "the period column (day, week or month, as asked), the split's columns (topic_code, "
        "topic_name | area_code, area_name | channel), tickets; the last line is the total, "
        "its first column TOTAL"
    ),
)
async def volume(
    request: Request,
    service: ServiceDep,
    asked: AskedDep,
    by: Annotated[
        str | None, Query(description="day (default), week (ISO, named by its Monday) or month")
    ] = None,
    group_by: Annotated[
        list[str] | None,
        Query(description="Split each period by one of: topic, area, channel (default none)"),
    ] = None,
    area_level: AreaLevel = None,
    topic_level: TopicLevel = None,
    fmt: Format = None,
) -> Any:
    """Tickets received per day, week or month (local `received_at`), optionally split by
    topic, area or channel, with the SLA report's filters.

    Each row counts the tickets GET /api/v1/tickets lists for `received_from`/`received_to` =
    the row's first and last day and the same filters (`unit` = the ticket's current unit).
    Definitions: docs/reports.md.
    """
    with parameters_in_query():
        period = service.period(asked.date_from, asked.date_to)
        query = volume_query(service, by, group_by, area_level, topic_level)
        scope = service.scope(*period, asked.filters)
    report = await volume_report(service, period, scope, query)
    if _wants_csv(request, fmt):
        header, rows = volume_csv_rows(report)
        name = f"volume-{query.by}-{period[0]}-{period[1]}.csv"
        return _csv_response(csv_text(header, rows), name)
    return report
