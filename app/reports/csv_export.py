"""Reports as CSV: UTF-8 with a BOM (spreadsheets then read Vietnamese right), CRLF line ends,
instants in local time (Asia/Ho_Chi_Minh, ISO 8601), empty cells for missing values."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from app.reports.schemas import (
    GROUP_DOCS,
    METRIC_DOCS,
    TOTAL_LABEL,
    BreachItem,
    BreachPage,
    SlaReport,
)
from app.timefmt import LOCAL_TZ

BOM = "\ufeff"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(LOCAL_TZ).isoformat()
    return value


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """UTF-8 text with a BOM (so that spreadsheets read Vietnamese right), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return BOM + buffer.getvalue()


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV in the reports' dialect (UTF-8 BOM, the same cell formatting) for other reports."""
    return _csv(header, rows)


def report_columns(keys: Sequence[str]) -> list[str]:
    """The CSV header of a report: the groups' key columns, then METRIC_DOCS in order."""
    return [column for key in keys for column in GROUP_DOCS[key]] + list(METRIC_DOCS)


def report_csv(report: SlaReport) -> str:
    """One line per group, then the totals row (its first key column says TOTAL)."""
    group_columns = [c for key in report.group_by for c in GROUP_DOCS[key]]
    lines = []
    for row in report.rows:
        data = row.model_dump()
        lines.append([row.group.get(c) for c in group_columns] + [data[m] for m in METRIC_DOCS])
    totals = report.totals.model_dump()
    blank = [""] * (len(group_columns) - 1)
    lines.append([TOTAL_LABEL, *blank] + [totals[m] for m in METRIC_DOCS])
    return _csv(report_columns(report.group_by), lines)


def breaches_csv(page: BreachPage) -> str:
    columns = list(BreachItem.model_fields)
    return _csv(columns, ([getattr(item, c) for c in columns] for item in page.items))
