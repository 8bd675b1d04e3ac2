"""The dashboard's filter: read from its query string, and written back (narrowed for a
drill-down) so that every panel and link carries the same filter."""

from urllib.parse import urlencode

from starlette.datastructures import QueryParams

from app.reports.parameters import ReportFilters

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


def report_filters(params: QueryParams) -> ReportFilters:
    """The report filters the dashboard's query string gives (lists repeated, blanks dropped)."""

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
