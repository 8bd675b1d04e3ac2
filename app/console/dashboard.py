"""The supervisor dashboard: filters, then panels that each load on their own (htmx).

Every number on it comes from the report service, called exactly as GET /api/v1/reports/sla
and /api/v1/reports/sla/breaches call it for the same filter; each panel has a CSV twin
rendered by the API's own CSV functions, and each bar, cell and row links to the list of
assignments it counts (the breach list for the same filter narrowed to that group).
"""

import json
from typing import Any

from fastapi import APIRouter
from starlette.datastructures import QueryParams
from starlette.responses import Response

from app.console.deps import ConsoleDep, ConsoleRoute
from app.console.filters import filter_query, report_filters
from app.console.volume_panel import volume_of, volume_series, volume_table
from app.reports.backlog import STATES, BacklogReport, backlog, backlog_csv_rows
from app.reports.backlog_list import AGES, backlog_cell
from app.reports.csv_export import breaches_csv, csv_text, report_csv
from app.reports.repository import BreachQuery
from app.reports.schemas import SlaReport
from app.reports.service import ReportService
from app.reports.volume import volume_csv_rows

router = APIRouter(route_class=ConsoleRoute)

# panel -> (group_by, area_level, topic_level) of the SLA report it draws.
REPORT_PANELS: dict[str, tuple[list[str], str | None, str | None]] = {
    "ontime": (["unit"], None, None),
    "matrix": (["area", "topic"], None, "1"),
}


async def _report(service: ReportService, params: QueryParams, panel: str) -> SlaReport:
    group_by, area_level, topic_level = REPORT_PANELS[panel]
    period = service.period(params.get("from") or None, params.get("to") or None)
    scope = service.scope(*period, report_filters(params))
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
    elif panel == "volume":
        volume = await volume_of(service, params)
        context["volume"] = volume
        context["chart"] = json.dumps(volume_series(service, volume, params), ensure_ascii=False)
        context["table"] = volume_table(service, volume, params)
        context["volume_by"] = params.get("volume_by") or ""
        context["volume_period"] = volume.by
    elif panel in REPORT_PANELS:
        report = await _report(service, params, panel)
        context["report"] = report
        if panel == "ontime":
            context["chart"] = _ontime_chart(report)
        else:
            context["matrix"] = _matrix(report)
    else:
        return Response("Không có bảng này.", status_code=404)
    context["narrow"] = lambda **kw: filter_query(params, **kw)
    return console.page(f"panels/{panel}.html", context)


async def _backlog(service: ReportService, params: QueryParams) -> BacklogReport:
    """GET /api/v1/reports/backlog for the same filters (a snapshot: the period is not used)."""
    scope = service.scope(*service.period(None, None), report_filters(params))
    return await backlog(service.session, scope=scope)


async def _worst(service: ReportService, params: QueryParams, limit: int) -> Any:
    period = service.period(params.get("from") or None, params.get("to") or None)
    scope = service.scope(*period, report_filters(params))
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
    elif panel == "volume":
        body = csv_text(*volume_csv_rows(await volume_of(service, params)))
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


@router.get("/dashboard/backlog")
async def backlog_list(console: ConsoleDep) -> Response:
    """The drill-down of a backlog cell: the open assignments of that age and SLA state for
    the dashboard's filter, as many lines as the cell counts (up to 500 shown)."""
    service = console.reports()
    params = console.request.query_params
    scope = service.scope(*service.period(None, None), report_filters(params))
    age, state = params.get("age"), params.get("state")
    total, rows = await backlog_cell(service.session, scope=scope, age=age, state=state)
    catalog = service.catalog
    items = [
        {
            **row,
            "reference": service.reference(row["ticket_id"], row["received_at"]),
            "unit_name": catalog.units[row["unit_code"]].name
            if row["unit_code"] in catalog.units
            else row["unit_code"],
        }
        for row in rows
    ]
    return console.page(
        "backlog_list.html",
        {
            "items": items,
            "total": total,
            "age": age if age in AGES else None,
            "state": state if state in STATES else None,
            "query": filter_query(params),
            "title": "Tồn đọng: danh sách phiếu",
        },
    )
