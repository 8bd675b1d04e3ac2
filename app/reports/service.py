"""SLA reports: check the parameters, run the SQL aggregates, name and shape the rows.

The numbers come from `app.reports.repository` (computed by the database); this module adds
what the catalog knows (unit, area and topic names), turns seconds into minutes and counts
into rates, enforces a unit agent's scope and renders CSV.
"""

import csv
import difflib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import codes as catalog_codes
from app.catalog.catalog import Catalog
from app.catalog.vocabulary import DEFAULT_TIMEZONE
from app.errors import Forbidden, ValidationFailed, field_error
from app.reports import repository as repo
from app.reports.period import local_dates, utc_bounds, utc_offset_minutes
from app.reports.schemas import (
    GROUP_DOCS,
    METRIC_DOCS,
    TOTAL_LABEL,
    BreachItem,
    BreachPage,
    Period,
    SlaMetrics,
    SlaReport,
    SlaReportRow,
)
from app.sla import SlaConfig, working_between
from app.tickets.schemas import Channel, Priority
from app.tickets.sla import pauses_of
from app.timefmt import LOCAL_TZ
from app.users.principal import Principal

PRIORITIES = [p.value for p in Priority]
CHANNELS = [c.value for c in Channel]


@dataclass
class ReportFilters:
    """The report's filters as given (codes, names or values; lists may be comma-separated)."""

    units: Sequence[str] = ()
    unit_kinds: Sequence[str] = ()
    areas: Sequence[str] = ()
    topics: Sequence[str] = ()
    priorities: Sequence[str] = ()
    channels: Sequence[str] = ()


def split_values(values: Iterable[str] | None) -> list[str]:
    """['unit,topic', 'day'] -> ['unit', 'topic', 'day']: repeated and comma-separated both."""
    return [v.strip() for value in values or () for v in value.split(",") if v.strip()]


def _did_you_mean(text: str, choices: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(text, list(choices), n=3, cutoff=0.5)


def _unknown(loc: list[str | int], what: str, text: str, choices: Sequence[str]) -> dict[str, Any]:
    close = _did_you_mean(text, choices)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return field_error(
        loc,
        f"unknown {what} '{text}'{hint} (one of: {', '.join(choices)})"
        if len(choices) <= 12
        else f"unknown {what} '{text}'{hint}",
        suggestions=close,
    )


@dataclass
class ReportService:
    session: AsyncSession
    catalog: Catalog
    sla: SlaConfig
    now: datetime
    principal: Principal
    reference_prefix: str = "HN"
    timezone: str = DEFAULT_TIMEZONE  # of the local dates: Settings.timezone

    # -- parameters ----------------------------------------------------------------------

    def period(self, date_from: str | None, date_to: str | None) -> tuple[date, date]:
        """The local dates asked for; default: the 30 days up to today."""
        return local_dates(date_from, date_to, now=self.now, timezone=self.timezone)

    def scope(self, date_from: date, date_to: date, filters: ReportFilters) -> repo.Scope:
        """Check the filters and the caller's scope; raises ValidationFailed or Forbidden."""
        catalog = self.catalog
        errors: list[dict[str, Any]] = []
        units = split_values(filters.units)
        unit_errors = (catalog_codes.unit_error(catalog, c, ["query", "unit"]) for c in units)
        errors += [e for e in unit_errors if e is not None]
        kinds = split_values(filters.unit_kinds)
        known_kinds = sorted({u.kind for u in catalog.units.values()})
        errors += [
            _unknown(["query", "unit_kind"], "unit kind", k, known_kinds)
            for k in kinds
            if k not in known_kinds
        ]
        areas: set[str] = set()
        for text in split_values(filters.areas):
            meant, error = catalog_codes.areas_meant(catalog, text, ["query", "area"])
            areas |= meant
            errors += [error] if error else []
        topics: set[str] = set()
        for code in split_values(filters.topics):
            error = catalog_codes.topic_error(catalog, code, ["query", "topic"])
            if error is None:
                topics |= catalog.topic_subtree(code)
            errors += [error] if error else []
        priorities = split_values(filters.priorities)
        errors += [
            _unknown(["query", "priority"], "priority", p, PRIORITIES)
            for p in priorities
            if p not in PRIORITIES
        ]
        channels = split_values(filters.channels)
        errors += [
            _unknown(["query", "channel"], "channel", c, CHANNELS)
            for c in channels
            if c not in CHANNELS
        ]
        if errors:
            raise ValidationFailed(errors)
        scoped: list[str] | None = sorted(set(units)) if units else None
        if self.principal.scoped_to_units:
            outside = sorted(set(units) - self.principal.units)
            if outside:
                mine = ", ".join(sorted(self.principal.units)) or "none"
                raise Forbidden(
                    f"You can see reports on your own units only ({mine}), not {', '.join(outside)}."
                )
            scoped = sorted(set(units) or self.principal.units)
        start, end = utc_bounds(date_from, date_to, self.timezone)
        return repo.Scope(
            start=start,
            end=end,
            now=self.now,
            timezone=self.timezone,
            utc_offset_minutes=utc_offset_minutes(self.timezone, start),
            units=scoped,
            unit_kinds=sorted(set(kinds)),
            areas=sorted(areas),
            topics=sorted(topics),
            priorities=sorted(set(priorities)),
            channels=sorted(set(channels)),
        )

    def _depths(self, kind: str) -> dict[str, int]:
        """Depth (1 = root) of every area or topic."""
        if kind == "area":
            return {c: len(self.catalog.area_ancestors(c)) for c in self.catalog.areas}
        return {c: len(self.catalog.topic_ancestors(c)) for c in self.catalog.topics}

    def _level(self, kind: str, text: str | None, errors: list[dict[str, Any]]) -> int | None:
        if text is None or not text.strip():
            return None
        value = text.strip().lower()
        depths = self._depths(kind)
        deepest = max(depths.values(), default=1)
        names: dict[str, int] = {}
        if kind == "area":
            for code, depth in depths.items():
                level_name = self.catalog.areas[code].level
                names[level_name] = min(depth, names.get(level_name, depth))
        if value.isdigit() and 1 <= int(value) <= deepest:
            return int(value)
        if value in names:
            return names[value]
        choices = [str(d) for d in range(1, deepest + 1)] + sorted(names)
        errors.append(_unknown(["query", f"{kind}_level"], f"{kind} level", value, choices))
        return None

    def grouping(
        self, group_by: Iterable[str] | None, area_level: str | None, topic_level: str | None
    ) -> repo.Grouping:
        errors: list[dict[str, Any]] = []
        keys: list[str] = []
        for key in split_values(group_by) or ["unit"]:
            key = key.lower()
            if key not in repo.GROUP_KEYS:
                errors.append(
                    _unknown(["query", "group_by"], "group_by value", key, repo.GROUP_KEYS)
                )
            elif key not in keys:
                keys.append(key)
        levels = {}
        for kind, text in (("area", area_level), ("topic", topic_level)):
            levels[kind] = self._level(kind, text, errors)
            if text and kind not in keys:
                errors.append(
                    field_error(
                        ["query", f"{kind}_level"],
                        f"{kind}_level applies to group_by={kind}; add {kind} to group_by",
                    )
                )
        if errors:
            raise ValidationFailed(errors)
        return repo.Grouping(
            keys=tuple(keys), area_level=levels["area"], topic_level=levels["topic"]
        )

    # -- the report ----------------------------------------------------------------------

    def _name(self, kind: str, code: str | None) -> str | None:
        if code is None:
            return None
        table: Any = {
            "unit": self.catalog.units,
            "area": self.catalog.areas,
            "topic": self.catalog.topics,
        }[kind]
        item = table.get(code)
        return item.name if item else code

    def _group(self, keys: Sequence[str], row: dict[str, Any]) -> dict[str, str | None]:
        out: dict[str, str | None] = {}
        for key in keys:
            value = row[f"key_{key}"]
            if key in ("unit", "area", "topic"):
                out[f"{key}_code"] = value
                out[f"{key}_name"] = self._name(key, value)
            else:
                out[key] = None if value is None else str(value)
        return out

    @staticmethod
    def _metrics(row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {name: int(row[name] or 0) for name in repo.COUNTERS}
        for target in repo.TARGETS:
            on_time, late, overdue = (
                out[f"{target}_{state}"] for state in ("on_time", "late", "open_overdue")
            )
            denominator = on_time + late + overdue
            out[f"{target}_on_time_rate"] = round(on_time / denominator, 4) if denominator else None
            for name, _ in repo.PERCENTILES:
                seconds = row[f"{target}_{name}_seconds"]
                out[f"{target}_{name}_minutes"] = (
                    None if seconds is None else round(float(seconds) / 60, 1)
                )
        return out

    async def sla_report(
        self,
        period: tuple[date, date],
        scope: repo.Scope,
        grouping: repo.Grouping,
        percentiles: bool = True,
    ) -> SlaReport:
        found = await repo.sla_report_rows(
            self.session, scope=scope, grouping=grouping, percentiles=percentiles
        )
        filters = {
            "unit": list(scope.units) if scope.units is not None else [],
            "unit_kind": list(scope.unit_kinds),
            "area": list(scope.areas),
            "topic": list(scope.topics),
            "priority": list(scope.priorities),
            "channel": list(scope.channels),
        }
        return SlaReport(
            period=Period(from_=period[0], to=period[1], timezone=self.timezone),
            as_of=self.now,
            group_by=list(grouping.keys),
            area_level=grouping.area_level,
            topic_level=grouping.topic_level,
            filters={k: v for k, v in filters.items() if v},
            rows=[
                SlaReportRow(group=self._group(grouping.keys, row), **self._metrics(row))
                for row in found.rows
            ],
            totals=SlaMetrics(**self._metrics(found.totals)),
        )

    # -- breaches ------------------------------------------------------------------------

    def reference(self, ticket_id: int, received_at: datetime) -> str:
        year = received_at.astimezone(LOCAL_TZ).year
        return f"{self.reference_prefix}-{year}-{ticket_id:06d}"

    def _working_overdue(
        self, row: dict[str, Any], pauses: dict[int, list[Any]], until: datetime
    ) -> float:
        try:
            policy = self.sla.get(row["sla_policy"] or "")
        except KeyError:  # a policy since removed from sla.yaml: the default applies
            policy = self.sla.policy_for(row["unit_code"], None, None, None, None)
        calendar = self.sla.calendar_for(policy, row["unit_code"])
        clock = policy.target(row["target"]).clock(calendar)
        seconds = working_between(row["due_at"], until, clock, pauses.get(row["assignment_id"], []))
        return round(seconds / 60, 1)

    async def breaches(self, scope: repo.Scope, query: repo.BreachQuery) -> BreachPage:
        total, rows = await repo.breach_rows(self.session, scope=scope, query=query)
        pauses = await pauses_of(self.session, assignment_ids={r["assignment_id"] for r in rows})
        items = []
        for row in rows:
            until = row["done_at"] or self.now
            items.append(
                BreachItem(
                    assignment_id=row["assignment_id"],
                    ticket_id=row["ticket_id"],
                    reference=self.reference(row["ticket_id"], row["ticket_received_at"]),
                    unit_code=row["unit_code"],
                    unit_name=self._name("unit", row["unit_code"]) or row["unit_code"],
                    topic_code=row["topic_code"],
                    topic_name=self._name("topic", row["topic_code"]),
                    area_code=row["area_code"],
                    area_name=self._name("area", row["area_code"]),
                    priority=row["priority"],
                    channel=row["channel"],
                    target=row["target"],
                    sla_policy=row["sla_policy"],
                    assigned_at=row["assigned_at"],
                    due_at=row["due_at"],
                    done_at=row["done_at"],
                    state=row["state"],
                    overdue_minutes=round(float(row["overdue_seconds"]) / 60, 1),
                    overdue_working_minutes=self._working_overdue(row, pauses, until),
                )
            )
        following = query.offset + len(items)
        return BreachPage(
            as_of=self.now,
            total=total,
            limit=query.limit,
            offset=query.offset,
            next_offset=following if following < total else None,
            items=items,
        )


# -- CSV ----------------------------------------------------------------------------------------

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
