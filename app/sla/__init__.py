"""Pure SLA clock: business calendars and working-time math (no DB, no web, no wall clock)."""

from app.sla.calendar import Calendar, Duration, Period, parse_duration, parse_periods
from app.sla.clock import (
    CALENDAR_TIME,
    Pause,
    add_calendar,
    add_working,
    calendar_between,
    due_at,
    working_between,
)

__all__ = [
    "CALENDAR_TIME",
    "Calendar",
    "Duration",
    "Pause",
    "Period",
    "add_calendar",
    "add_working",
    "calendar_between",
    "due_at",
    "parse_duration",
    "parse_periods",
    "working_between",
]
