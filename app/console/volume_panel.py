"""The dashboard's volume panel: tickets received per period from GET /api/v1/reports/volume,
drawn as series with a table, each bar and row linking to the ticket search for exactly the
tickets it counts."""

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from app.console.filters import report_filters
from app.reports.service import ReportService
from app.reports.volume import VolumeReport, volume_query, volume_report

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


async def volume_of(service: ReportService, params: QueryParams) -> VolumeReport:
    """GET /api/v1/reports/volume for the dashboard's filter, its period and split."""
    split = params.get("volume_by") if params.get("volume_by") in VOLUME_BY else None
    by = params.get("volume_period") if params.get("volume_period") in VOLUME_PERIODS else "day"
    area_level, topic_level = VOLUME_BY[split] if split else (None, None)
    period = service.period(params.get("from") or None, params.get("to") or None)
    query = volume_query(service, by, [split] if split else None, area_level, topic_level)
    return await volume_report(
        service, period, service.scope(*period, report_filters(params)), query
    )


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
