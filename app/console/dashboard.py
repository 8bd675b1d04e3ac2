"""The supervisor dashboard: filters, then panels that each load on their own (htmx).

Every number on it comes from the report service, called exactly as GET /api/v1/reports/sla
and /api/v1/reports/sla/breaches call it for the same filter; each panel has a CSV twin
rendered by the API's own CSV functions, and each bar, cell and row links to the list of
assignments it counts (the breach list for the same filter narrowed to that group).
"""

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.datastructures import QueryParams
from starlette.responses import Response

from app.console.deps import ConsoleDep, ConsoleRoute
from app.reports.backlog import BacklogReport, backlog, backlog_csv_rows
from app.reports.csv_export import breaches_csv, csv_text, report_csv
from app.reports.parameters import ReportFilters
from app.reports.repository import BreachQuery
from app.reports.schemas import SlaReport
from app.reports.service import ReportService

router = APIRouter(route_class=ConsoleRoute)

FILTER_KEYS = ("from", "to", "unit", "unit_kind", "area", "topic", "channel", "volume_by", "target")

# panel -> (group_by, area_level, topic_level) of the SLA report it draws.
REPORT_PANELS: dict[str, tuple[list[str], str | None, str | None]] = {
    "ontime": (["unit"], None, None),
    "volume": (["day"], None, None),
    "matrix": (["area", "topic"], None, "1"),
}


def _filters(params: QueryParams) -> ReportFilters:
    def values(key: str) -> list[str]:
        return [v for v in params.getlist(key) if v.strip()]

    return ReportFilters(
        units=values("unit"),
        unit_kinds=values("unit_kind"),
        areas=values("area"),
        topics=values("topic"),
        channels=values("channel"),
    )


def filter_query(params: QueryParams, **narrow: str | None) -> str:
    """The dashboard's filter as a query string, optionally narrowed (a drill-down)."""
    pairs = [
        (k, v) for k in FILTER_KEYS for v in params.getlist(k) if v.strip() and k not in narrow
    ]
    pairs += [(k, v) for k, v in narrow.items() if v]
    return urlencode(pairs)


# The volume panel's split: none, or a second group key (topics rolled up to their groups).
VOLUME_BY: dict[str, tuple[list[str], str | None, str | None]] = {
    "topic": (["day", "topic"], None, "1"),
    "area": (["day", "area"], None, None),
    "channel": (["day", "channel"], None, None),
}
VOLUME_SERIES = 8  # the largest keys get a series each; the rest are summed as "Khác"


def _grouping_of(panel: str, params: QueryParams) -> tuple[list[str], str | None, str | None]:
    if panel == "volume" and params.get("volume_by") in VOLUME_BY:
        return VOLUME_BY[params["volume_by"]]
    return REPORT_PANELS[panel]


def volume_series(report: SlaReport, by: str | None) -> dict[str, Any]:
    """Assignments per day, one series per key of `by` (the largest VOLUME_SERIES, the rest
    summed as 'Khác'), from the report's rows; the totals row is left out."""
    rows = [r for r in report.rows if r.group.get("day")]
    days = sorted({r.group["day"] for r in rows})
    if by not in VOLUME_BY:
        per_day = {r.group["day"]: r.assignments for r in rows}
        return {"days": days, "series": {"Tổng": [per_day.get(d, 0) for d in days]}}

    def name(r: Any) -> str:
        return r.group.get(f"{by}_name") or r.group.get(f"{by}_code") or r.group.get(by) or "—"

    totals: dict[str, int] = {}
    for r in rows:
        totals[name(r)] = totals.get(name(r), 0) + r.assignments
    kept = sorted(totals, key=lambda k: -totals[k])[:VOLUME_SERIES]
    series: dict[str, list[int]] = {k: [0] * len(days) for k in kept}
    index = {d: i for i, d in enumerate(days)}
    for r in rows:
        key = name(r) if name(r) in series else "Khác"
        series.setdefault(key, [0] * len(days))[index[r.group["day"]]] += r.assignments
    return {"days": days, "series": series}


async def _report(service: ReportService, params: QueryParams, panel: str) -> SlaReport:
    group_by, area_level, topic_level = _grouping_of(panel, params)
    period = service.period(params.get("from") or None, params.get("to") or None)
    scope = service.scope(*period, _filters(params))
    # Volume and matrix show counts only: the report without its percentiles (the same counts).
    return await service.sla_report(
        period,
        scope,
        service.grouping(group_by, area_level, topic_level),
        percentiles=panel == "ontime",
    )


@router.get("/dashboard")
async def dashboard(console: ConsoleDep) -> Response:
    """The filter form and empty panels; each panel fetches itself (hx-trigger=load)."""
    service = console.reports()
    params = console.request.query_params
    start, end = service.period(params.get("from") or None, params.get("to") or None)
    catalog = console.runtime.catalog
    return console.page(
        "dashboard.html",
        {
            "title": "Bảng điều khiển giám sát",
            "start": start,
            "end": end,
            "f": params,
            "query": filter_query(params),
            "units": sorted(catalog.units.values(), key=lambda u: u.name),
            "kinds": sorted({u.kind for u in catalog.units.values()}),
            "topics": sorted(catalog.topics.values(), key=lambda t: t.code),
        },
    )


def _ontime_chart(report: SlaReport) -> str:
    rows = [r for r in report.rows if r.group.get("unit_code")]
    return json.dumps(
        {
            "units": [r.group.get("unit_name") for r in rows],
            "codes": [r.group.get("unit_code") for r in rows],
            "acknowledge": [_pct(r.acknowledge_on_time_rate) for r in rows],
            "resolve": [_pct(r.resolve_on_time_rate) for r in rows],
        },
        ensure_ascii=False,
    )


def _pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _matrix(report: SlaReport) -> dict[str, Any]:
    """Ward × topic-group table of late resolve targets (late + open and overdue)."""
    rows = [
        r
        for r in report.rows
        if r.group.get("area_code") is not None or r.group.get("topic_code") is not None
    ]
    areas = sorted(
        {(r.group.get("area_code"), r.group.get("area_name")) for r in rows},
        key=lambda a: a[1] or "",
    )
    topics = sorted(
        {(r.group.get("topic_code"), r.group.get("topic_name")) for r in rows},
        key=lambda t: t[1] or "",
    )
    cells = {
        (r.group.get("area_code"), r.group.get("topic_code")): r.resolve_late
        + r.resolve_open_overdue
        for r in rows
    }
    return {"areas": areas, "topics": topics, "cells": cells}


@router.get("/dashboard/panel/{panel}")
async def panel(panel: str, console: ConsoleDep) -> Response:
    """One panel's HTML fragment for the filter in the query string."""
    service = console.reports()
    params = console.request.query_params
    context: dict[str, Any] = {"panel": panel, "query": filter_query(params), "f": params}
    if panel == "worst":
        context["page"] = await _worst(service, params, 20)
    elif panel == "backlog":
        report = await _backlog(service, params)
        context["backlog"] = report
        context["counts"] = {(c.age, c.state): c.assignments for c in report.cells}
    elif panel in REPORT_PANELS:
        report = await _report(service, params, panel)
        context["report"] = report
        if panel == "ontime":
            context["chart"] = _ontime_chart(report)
        elif panel == "volume":
            context["chart"] = json.dumps(
                volume_series(report, params.get("volume_by")), ensure_ascii=False
            )
            context["volume_by"] = params.get("volume_by") or ""
        else:
            context["matrix"] = _matrix(report)
    else:
        return Response("Không có bảng này.", status_code=404)
    context["narrow"] = lambda **kw: filter_query(params, **kw)
    return console.page(f"panels/{panel}.html", context)


async def _backlog(service: ReportService, params: QueryParams) -> BacklogReport:
    """GET /api/v1/reports/backlog for the same filters (a snapshot: the period is not used)."""
    scope = service.scope(*service.period(None, None), _filters(params))
    return await backlog(service.session, scope=scope)


async def _worst(service: ReportService, params: QueryParams, limit: int) -> Any:
    period = service.period(params.get("from") or None, params.get("to") or None)
    scope = service.scope(*period, _filters(params))
    # A drill-down from a count of one target (the matrix counts resolve) lists that target only.
    targets = ("acknowledge", "resolve")
    if params.get("target") in targets:
        targets = (params["target"],)
    return await service.breaches(scope, BreachQuery(targets=targets, sort="-overdue", limit=limit))


@router.get("/dashboard/csv/{panel}")
async def panel_csv(panel: str, console: ConsoleDep) -> Response:
    """The panel's numbers as CSV, exactly as the API's CSV twin renders that report."""
    service = console.reports()
    params = console.request.query_params
    if panel in ("worst", "late"):
        body = breaches_csv(await _worst(service, params, 10000))
    elif panel == "backlog":
        body = csv_text(*backlog_csv_rows(await _backlog(service, params)))
    elif panel in REPORT_PANELS:
        body = report_csv(await _report(service, params, panel))
    else:
        return Response("Không có bảng này.", status_code=404)
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="dashboard-{panel}.csv"'},
    )


@router.get("/dashboard/late")
async def late_list(console: ConsoleDep) -> Response:
    """The drill-down: the late and open-overdue targets one bar, cell or row counts."""
    service = console.reports()
    params = console.request.query_params
    page = await _worst(service, params, 500)
    return console.page(
        "late.html",
        {"page": page, "query": filter_query(params), "title": "Danh sách trễ hạn"},
    )
