"""Report bodies. Every field carries its definition (shown in the OpenAPI document and the
CSV column list of docs/reports.md)."""

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.timefmt import InstantOut

_ON_TIME = "done at or before its due (a response at the due instant itself is on time)"
_LATE = (
    "done after its due; or the assignment ended without the unit's response (cancelled, "
    "duplicate, rerouted) after the due had passed"
)
_OPEN_OVERDUE = (
    "not done, the assignment still open, and the due already passed (due < now); a clock "
    "paused while waiting for the citizen has no due and is never overdue"
)
_RATE = (
    "{t}_on_time / ({t}_on_time + {t}_late + {t}_open_overdue), i.e. done on time / (done + "
    "open and overdue), between 0 and 1 (4 decimals); null when the denominator is 0"
)
_MINUTES = (
    "{p} of the working minutes the unit took to {verb} (SLA clock: working time of the "
    "policy's calendar, or plain time for a calendar-mode target; waiting for the citizen left "
    "out), over the assignments whose {t} target is done; linear interpolation "
    "(percentile_cont); 1 decimal; null when none is done"
)


def _target_docs(target: str, verb: str) -> dict[str, str]:
    what = f"Assignments whose {target} target was "
    return {
        f"{target}_on_time": what + _ON_TIME,
        f"{target}_late": what + _LATE,
        f"{target}_open_overdue": f"Assignments whose {target} target is " + _OPEN_OVERDUE,
        f"{target}_on_time_rate": _RATE.format(t=target),
        f"{target}_median_minutes": _MINUTES.format(p="Median", verb=verb, t=target),
        f"{target}_p90_minutes": _MINUTES.format(p="90th percentile", verb=verb, t=target),
    }


# Definitions of the report's numbers, by column name, in column order.
METRIC_DOCS: dict[str, str] = {
    "assignments": (
        "Assignments (one unit's piece of work on one ticket) assigned in the period, by "
        "assigned_at in local time; every later step of a ticket (rejection, transfer, "
        "reopen) is a new assignment"
    ),
    "open_now": "Of those, still open now (not resolved, rejected, transferred or ended)",
    **_target_docs(
        "acknowledge",
        "acknowledge (done at acknowledged_at, or at the resolution, rejection or transfer "
        "if that came first)",
    ),
    **_target_docs(
        "resolve", "resolve (done when the unit resolved, rejected or transferred the ticket)"
    ),
    "resolved": "Assignments the unit ended by resolving the ticket",
    "rejected": "Assignments the unit ended by rejecting the ticket (not its jurisdiction)",
    "transferred": "Assignments ended by transferring the ticket to another unit",
    "reopened": (
        "Resolved assignments whose ticket was later reopened (the resolution did not hold)"
    ),
}
# The key columns each group_by value adds, with their definitions.
GROUP_DOCS: dict[str, dict[str, str]] = {
    "unit": {"unit_code": "Responding unit code", "unit_name": "Responding unit name"},
    "unit_kind": {"unit_kind": "Kind of the unit (ubnd, so, cong-ty, cong-an, y-te, tong-dai)"},
    "area": {
        "area_code": "The ticket's area, or its ancestor at area_level; empty: no area",
        "area_name": "Name of that area",
    },
    "topic": {
        "topic_code": "The ticket's topic, or its ancestor at topic_level; empty: no topic",
        "topic_name": "Name of that topic",
    },
    "priority": {"priority": "The ticket's priority (low, normal, high, urgent)"},
    "channel": {"channel": "The channel the ticket came in by"},
    "day": {"day": "Local date of assigned_at (YYYY-MM-DD)"},
    "week": {"week": "Monday of the ISO week of assigned_at, local (YYYY-MM-DD)"},
    "month": {"month": "Month of assigned_at, local (YYYY-MM)"},
}
TOTAL_LABEL = "TOTAL"


class SlaMetrics(BaseModel):
    """The numbers of one report row."""

    assignments: int = Field(description=METRIC_DOCS["assignments"])
    open_now: int = Field(description=METRIC_DOCS["open_now"])
    acknowledge_on_time: int = Field(description=METRIC_DOCS["acknowledge_on_time"])
    acknowledge_late: int = Field(description=METRIC_DOCS["acknowledge_late"])
    acknowledge_open_overdue: int = Field(description=METRIC_DOCS["acknowledge_open_overdue"])
    acknowledge_on_time_rate: float | None = Field(
        description=METRIC_DOCS["acknowledge_on_time_rate"]
    )
    acknowledge_median_minutes: float | None = Field(
        description=METRIC_DOCS["acknowledge_median_minutes"]
    )
    acknowledge_p90_minutes: float | None = Field(
        description=METRIC_DOCS["acknowledge_p90_minutes"]
    )
    resolve_on_time: int = Field(description=METRIC_DOCS["resolve_on_time"])
    resolve_late: int = Field(description=METRIC_DOCS["resolve_late"])
    resolve_open_overdue: int = Field(description=METRIC_DOCS["resolve_open_overdue"])
    resolve_on_time_rate: float | None = Field(description=METRIC_DOCS["resolve_on_time_rate"])
    resolve_median_minutes: float | None = Field(description=METRIC_DOCS["resolve_median_minutes"])
    resolve_p90_minutes: float | None = Field(description=METRIC_DOCS["resolve_p90_minutes"])
    resolved: int = Field(description=METRIC_DOCS["resolved"])
    rejected: int = Field(description=METRIC_DOCS["rejected"])
    transferred: int = Field(description=METRIC_DOCS["transferred"])
    reopened: int = Field(description=METRIC_DOCS["reopened"])


class _Group(BaseModel):
    group: dict[str, str | None] = Field(
        description=(
            "The group's key columns: unit_code + unit_name, unit_kind, area_code + area_name, "
            "topic_code + topic_name, priority, channel, day, week, month (those asked for)"
        )
    )


class SlaReportRow(SlaMetrics, _Group):
    """One group: its key columns, then its numbers."""


class Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from", description="First local date (inclusive)")
    to: date = Field(description="Last local date (inclusive)")
    timezone: str = Field(description="The time zone the dates are in")


class SlaReport(BaseModel):
    period: Period = Field(description="Assignments assigned between these local dates")
    as_of: InstantOut = Field(description="The instant open and overdue targets are judged at")
    group_by: list[str]
    area_level: int | None = Field(
        description="Depth areas roll up to (1 = the city); null: the ticket's own area"
    )
    topic_level: int | None = Field(
        description="Depth topics roll up to (1 = topic groups); null: the ticket's own topic"
    )
    filters: dict[str, list[str]] = Field(description="The filters applied (expanded codes)")
    rows: list[SlaReportRow]
    totals: SlaMetrics = Field(description="The same numbers over every assignment of the report")


BreachState = Literal["late", "open_overdue"]


class BreachItem(BaseModel):
    """One target of one assignment that was done late, or is open and overdue."""

    assignment_id: int
    ticket_id: int
    reference: str = Field(description="The ticket's public reference, e.g. HN-2026-000123")
    unit_code: str
    unit_name: str
    topic_code: str | None
    topic_name: str | None
    area_code: str | None
    area_name: str | None
    priority: str
    channel: str
    target: Literal["acknowledge", "resolve"]
    sla_policy: str | None
    assigned_at: InstantOut
    due_at: InstantOut
    done_at: InstantOut | None = Field(
        description="When the unit responded (or the assignment ended without a response); "
        "null while open"
    )
    state: BreachState = Field(description="late: " + _LATE + "; open_overdue: " + _OPEN_OVERDUE)
    overdue_minutes: float = Field(
        description="Wall-clock minutes from the due to done_at (or to now while open), 1 decimal"
    )
    overdue_working_minutes: float = Field(
        description="The same on the SLA clock: working minutes of the policy's calendar "
        "(plain minutes for a calendar-mode target), waiting for the citizen left out; it does "
        "not grow over nights, weekends and holidays"
    )


class BreachPage(BaseModel):
    as_of: InstantOut
    total: int = Field(description="Rows matching the filters, over all pages")
    limit: int
    offset: int
    next_offset: int | None = Field(description="offset of the next page; null on the last")
    items: list[BreachItem]


BREACH_COLUMNS: dict[str, str] = {
    name: (field.description or name) for name, field in BreachItem.model_fields.items()
}
