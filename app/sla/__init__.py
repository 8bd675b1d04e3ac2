"""Pure SLA layer: calendars, clock math, policies and states (no DB, no web, no wall clock).

Modules: calendar (business calendars, durations), clock (working time, due times), policy
(policies and choosing one), loader (sla.yaml -> SlaConfig, with file:line errors; the parts it
reads in calendar_reader and policy_reader, whole-file checks in checks), state
(due times to store, and where an assignment stands at a given instant).
"""

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
from app.sla.loader import SlaConfigError, check_sla, load_sla, read_sla
from app.sla.policy import Conditions, Policy, SlaConfig, Target
from app.sla.state import (
    RESPONSE_OUTCOMES,
    DueTimes,
    ResponseSeconds,
    SlaState,
    SlaStatus,
    TargetStatus,
    done_times,
    due_times,
    response_seconds,
    sla_status,
    warning_times,
)

__all__ = [
    "CALENDAR_TIME",
    "RESPONSE_OUTCOMES",
    "Calendar",
    "Conditions",
    "DueTimes",
    "Duration",
    "Pause",
    "Period",
    "Policy",
    "ResponseSeconds",
    "SlaConfig",
    "SlaConfigError",
    "SlaState",
    "SlaStatus",
    "Target",
    "TargetStatus",
    "add_calendar",
    "add_working",
    "calendar_between",
    "check_sla",
    "done_times",
    "due_at",
    "due_times",
    "load_sla",
    "parse_duration",
    "parse_periods",
    "read_sla",
    "response_seconds",
    "sla_status",
    "warning_times",
    "working_between",
]
