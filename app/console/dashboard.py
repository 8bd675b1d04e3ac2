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
from app.reports.backlog import STATES, BacklogReport, backlog, backlog_csv_rows
from app.reports.backlog_list import AGES, backlog_cell
from app.reports.csv_export import breaches_csv, csv_text, report_csv
from app.reports.parameters import ReportFilters
from app.reports.repository import BreachQuery
from app.reports.schemas import SlaReport
from app.reports.service import ReportService
from app.reports.volume import VolumeReport, volume_csv_rows, volume_query, volume_report

router = APIRouter(route_class=ConsoleRoute)

FILTER_KEYS = (
    "from",
    "to",
    "unit",
    "unit_kind",
    "area",
    "topic",
    "channel",
    "volume_by",
    "volume_period",
    "target",
)

# panel -> (group_by, area_level, topic_level) of the SLA report it draws.
REPORT_PANELS: dict[str, tuple[list[str], str | None, str | None]] = {
    "ontime": (["unit"], None, None),
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


# The volume panel: GET /api/v1/reports/volume, split by none or one key (topics rolled up to
# their groups, areas to wards and communes), by day, week or month.
VOLUME_BY: dict[str, tuple[str | None, str | None]] = {
    "topic": (None, "1"),
    "area": ("2", None),
    "channel": (None, None),
}
VOLUME_PERIODS = ("day", "week", "month")
VOLUME_SERIES = 8  # the largest keys get a series each; the rest are summed as "Khác"
TABLE_ROWS = 1000  # rows of the volume panel's table (every bar of the chart links anyway)


async def _volume(service: ReportService, params: QueryParams) -> VolumeReport:
    """GET /api/v1/reports/volume for the dashboard's filter, its period and split."""
    split = params.get("volume_by") if params.get("volume_by") in VOLUME_BY else None
    by = params.get("volume_period") if params.get("volume_period") in VOLUME_PERIODS else "day"
    area_level, topic_level = VOLUME_BY[split] if split else (None, None)
    period = service.period(params.get("from") or None, params.get("to") or None)
    query = volume_query(service, by, [split] if split else None, area_level, topic_level)
    return await volume_report(service, period, service.scope(*period, _filters(params)), query)


def _split_key(report: VolumeReport, row: Any) -> str | None:
    if not report.group_by:
        return None
    key = report.group_by[0]
    return row.group.get("channel") if key == "channel" else row.group.get(f"{key}_code")


def _split_name(report: VolumeReport, row: Any) -> str:
    key = report.group_by[0]
    if key == "channel":
        return row.group.get("channel") or "—"
    return row.group.get(f"{key}_name") or row.group.get(f"{key}_code") or "—"


def volume_drill_codes(
    service: ReportService, report: VolumeReport, keys: list[str | None]
) -> dict[str, list[str]] | None:
    """The ticket-search filter values that select exactly the tickets of `keys` (split
    values) within the report's filter; None when a key cannot be expressed as a search
    filter (no topic/area, or an area shallower than the level it was rolled up to)."""
    if not report.group_by:
        return {}
    split = report.group_by[0]
    if any(k is None for k in keys):
        return None
    if split == "channel":
        wanted = set(keys) & set(report.filters.get("channel") or keys)
        return {"channel": sorted(wanted)}  # type: ignore[arg-type]
    catalog = service.catalog
    codes: set[str] = set()
    for key in keys:
        assert key is not None
        if split == "topic":
            codes |= catalog.topic_subtree(key)
        else:
            if len(catalog.area_ancestors(key)) < (report.area_level or 0):
                return None  # e.g. the city itself: its subtree is every area
            codes |= catalog.area_subtree(key)
    given = report.filters.get(split)
    if given:
        codes &= set(given)
    return {split: sorted(codes)}


def volume_series(
    service: ReportService, report: VolumeReport, params: QueryParams
) -> dict[str, Any]:
    """Tickets per period, one series per split key (the largest VOLUME_SERIES, the rest
    summed as 'Khác'), with the ticket-search link of every bar (None: no exact link)."""
    periods = sorted({r.period for r in report.rows})
    index = {p: i for i, p in enumerate(periods)}
    days = {r.period: (r.first_day, r.last_day) for r in report.rows}
    if not report.group_by:
        counts = [0] * len(periods)
        for r in report.rows:
            counts[index[r.period]] += r.tickets
        links: list[str | None] = [
            search_link(service, report, params, days[p], {}) for p in periods
        ]
        return {"days": periods, "series": {"Tổng": counts}, "links": {"Tổng": links}}
    totals: dict[str, int] = {}
    keys_of: dict[str, set[str | None]] = {}
    for r in report.rows:
        name = _split_name(report, r)
        totals[name] = totals.get(name, 0) + r.tickets
        keys_of.setdefault(name, set()).add(_split_key(report, r))
    kept = sorted(totals, key=lambda k: (-totals[k], k))[:VOLUME_SERIES]
    series: dict[str, list[int]] = {k: [0] * len(periods) for k in kept}
    members: dict[str, dict[str, set[str | None]]] = {k: {} for k in kept}
    for r in report.rows:
        name = _split_name(report, r)
        series_name = name if name in kept else "Khác"
        series.setdefault(series_name, [0] * len(periods))[index[r.period]] += r.tickets
        members.setdefault(series_name, {}).setdefault(r.period, set()).add(_split_key(report, r))
    links: dict[str, list[str | None]] = {}
    for name, per_period in members.items():
        links[name] = []
        for p in periods:
            keys = sorted(per_period.get(p, set()), key=lambda k: k or "")
            codes = volume_drill_codes(service, report, keys) if keys else None
            links[name].append(
                None if codes is None else search_link(service, report, params, days[p], codes)
            )
    return {"days": periods, "series": series, "links": links}


def search_link(
    service: ReportService,
    report: VolumeReport,
    params: QueryParams,
    days: tuple[Any, Any],
    narrow: dict[str, list[str]],
) -> str | None:
    """/console/search for the tickets received on local dates days[0]..days[1] with the
    report's filter (unit kinds as their units; a unit agent's scope as their units, both
    from the report's applied filters), narrowed to `narrow` (the split's codes). None when
    the filter selects no unit."""
    units = set(report.filters["unit"]) if "unit" in report.filters else None
    kinds = set(report.filters.get("unit_kind", ()))
    if kinds:
        of_kind = {c for c, u in service.catalog.units.items() if u.kind in kinds}
        units = of_kind if units is None else units & of_kind
    if units is not None and not units:
        return None
    pairs: list[tuple[str, str]] = [
        ("received_from", days[0].isoformat()),
        ("received_to", days[1].isoformat()),
    ]
    pairs += [("unit", u) for u in sorted(units or ())]
    for key in ("area", "topic", "channel"):
        chosen = narrow[key] if key in narrow else [v for v in params.getlist(key) if v.strip()]
        pairs += [(key, v) for v in chosen]
    return "/console/search?" + urlencode(pairs)


def volume_table(
    service: ReportService, report: VolumeReport, params: QueryParams
) -> list[dict[str, Any]]:
    """The report's rows (the first TABLE_ROWS) with their ticket-search links (None: no
    exact link). A year by day and ward has tens of thousands: the CSV has them all."""
    out = []
    for r in report.rows[:TABLE_ROWS]:
        key = _split_key(report, r)
        codes = volume_drill_codes(service, report, [key])
        out.append(
            {
                "period": r.period,
                "name": _split_name(report, r) if report.group_by else "",
                "tickets": r.tickets,
                "link": None
                if codes is None
                else search_link(service, report, params, (r.first_day, r.last_day), codes),
            }
        )
    return out


async def _report(service: ReportService, params: QueryParams, panel: str) -> SlaReport:
    group_by, area_level, topic_level = REPORT_PANELS[panel]
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
    elif panel == "volume":
        volume = await _volume(service, params)
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
    elif panel == "volume":
        body = csv_text(*volume_csv_rows(await _volume(service, params)))
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
    scope = service.scope(*service.period(None, None), _filters(params))
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
