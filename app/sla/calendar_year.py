"""A calendar's year at a glance: the days that differ from its weekly pattern, and why.

Pure. For `hotline calendar show YEAR`: effective days off (weekdays not worked) and extra
working days (days worked outside the weekly pattern), each marked as coming from the
`holidays` library or from an override in sla.yaml.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from app.sla.calendar import Calendar, Period

LIBRARY, OVERRIDE = "library", "override"


@dataclass(frozen=True)
class ExceptionDay:
    day: date
    worked: bool  # True: an extra working day; False: a day off
    source: str  # LIBRARY or OVERRIDE
    reason: str  # the holiday's name, or the override's note
    periods: tuple[Period, ...] = ()


def year_exceptions(calendar: Calendar, year: int) -> list[ExceptionDay]:
    """Every day of `year` whose working periods differ from the weekly pattern, in order.
    Empty for an always-open (24x7) calendar."""
    if calendar.always_open:
        return []
    out = []
    day, end = date(year, 1, 1), date(year + 1, 1, 1)
    while day < end:
        usual = calendar.weekly.get(day.weekday(), ())
        actual = calendar.local_periods(day)
        if actual != usual:
            overridden = day in calendar.extra_days_off or day in calendar.extra_working_days
            source = OVERRIDE if overridden else LIBRARY
            if overridden:
                reason = calendar.override_notes.get(day, "")
            else:
                reason = calendar.holiday_name(day) or "ngày làm bù (make-up working day)"
            out.append(ExceptionDay(day, bool(actual), source, reason, actual))
        day += timedelta(days=1)
    return out
