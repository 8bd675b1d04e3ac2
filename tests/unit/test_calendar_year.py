"""A calendar's year: days that differ from the weekly pattern, library or override."""

from datetime import date

from app.sla import Calendar, parse_periods
from app.sla.calendar_year import LIBRARY, OVERRIDE, year_exceptions

OFFICE = dict.fromkeys(range(5), parse_periods("08:00-12:00, 13:30-17:00"))


def test_library_days_and_overrides_are_told_apart():
    cal = Calendar(
        code="office",
        weekly=OFFICE,
        extra_days_off=frozenset({date(2026, 1, 2)}),
        extra_working_days={date(2026, 1, 10): (), date(2026, 1, 17): parse_periods("08:00-11:30")},
        override_notes={date(2026, 1, 2): "12729/VPCP-KGVX"},
    )
    days = {d.day: d for d in year_exceptions(cal, 2026)}
    assert days[date(2026, 1, 1)].source == LIBRARY and not days[date(2026, 1, 1)].worked
    assert days[date(2026, 1, 2)].source == OVERRIDE and days[date(2026, 1, 2)].reason == (
        "12729/VPCP-KGVX"
    )
    assert days[date(2026, 1, 10)].worked and days[date(2026, 1, 10)].source == OVERRIDE
    assert days[date(2026, 1, 17)].periods == parse_periods("08:00-11:30")
    assert days[date(2026, 8, 22)].worked and days[date(2026, 8, 22)].source == LIBRARY
    # A holiday on a weekend changes nothing on a Monday-Friday calendar.
    assert date(2026, 4, 26) not in days  # Sunday Hùng Kings' day (Monday 27 is off instead)
    assert date(2026, 4, 27) in days


def test_always_open_has_no_exceptions():
    assert year_exceptions(Calendar(code="24x7", always_open=True), 2026) == []
