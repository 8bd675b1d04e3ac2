"""SLA reports: the parameters checked (app.reports.parameters), the SQL aggregates run, the
rows named and shaped.

The numbers come from `app.reports.repository` (computed by the database); this module adds
what the catalog knows (unit, area and topic names), turns seconds into minutes and counts
into rates. CSV: app.reports.csv_export.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.catalog.vocabulary import DEFAULT_TIMEZONE
from app.reports import repository as repo
from app.reports.parameters import ReportFilters, check_grouping, check_scope
from app.reports.period import local_dates
from app.reports.schemas import (
    BreachItem,
    BreachPage,
    Period,
    SlaMetrics,
    SlaReport,
    SlaReportRow,
)
from app.sla import SlaConfig, working_between
from app.tickets.assignment_clock import pauses_of
from app.timefmt import LOCAL_TZ
from app.users.principal import Principal


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
        """Check the filters and the caller's scope; raises ValidationFailed or Forbidden
        (app.reports.parameters.check_scope)."""
        return check_scope(
            self.catalog,
            self.principal,
            date_from,
            date_to,
            filters,
            now=self.now,
            timezone=self.timezone,
        )

    def grouping(
        self, group_by: Iterable[str] | None, area_level: str | None, topic_level: str | None
    ) -> repo.Grouping:
        """Check the grouping; raises ValidationFailed (app.reports.parameters.check_grouping)."""
        return check_grouping(self.catalog, group_by, area_level, topic_level)

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
        return SlaReport(
            period=Period(from_=period[0], to=period[1], timezone=self.timezone),
            as_of=self.now,
            group_by=list(grouping.keys),
            area_level=grouping.area_level,
            topic_level=grouping.topic_level,
            filters=scope.applied_filters(),
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
