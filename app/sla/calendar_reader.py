"""Read the `calendars` of sla.yaml: weekly hours, public holidays and the decreed exceptions.

Part of the SLA loader (app.sla.loader), which mixes this reader in. Format: docs/sla.md.
"""

import contextlib
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from app.catalog.source import ID, YamlChecks, item_line, key_line, line_of
from app.catalog.vocabulary import DEFAULT_TIMEZONE, WEEKDAYS, weekday_range
from app.sla.calendar import Calendar, Period, parse_periods

CALENDAR_KEYS: tuple[str, ...] = (
    "description",
    "timezone",
    "always_open",
    "weekly",
    "holidays",
    "extra_days_off",
    "extra_working_days",
)


class CalendarReader(YamlChecks):
    """Reads calendars, naming the one being read in every problem."""

    notes: dict[date, str]  # override notes of the calendar being read

    def _calendar(self, code: str | None) -> None:
        self.subject, self.subject_id = ("calendar", code) if code else (None, None)

    def read_calendars(self, node: Any, line: int | None) -> dict[str, Calendar]:
        if node is None:
            self.error(line, "'calendars' is required: at least the calendars units.yaml uses")
            return {}
        if not isinstance(node, dict):
            self.error(line, "'calendars' must be a mapping of calendar id to calendar")
            return {}
        calendars = {}
        for code, body in node.items():
            code = str(code)
            self._calendar(code)
            calendar = self.read_calendar(code, body, key_line(node, code))
            if calendar is not None:
                calendars[code] = calendar
        self._calendar(None)
        return calendars

    def read_calendar(self, code: str, node: Any, line: int | None) -> Calendar | None:
        if not ID.match(code):
            self.error(line, "a calendar id is lower-case letters, digits, '.', '_' or '-'")
            return None
        if not isinstance(node, dict):
            self.error(line, "a calendar must be a mapping (timezone, weekly, holidays, ...)")
            return None
        before = len(self.errors)
        self.unknown_keys(node, CALENDAR_KEYS, "a calendar")
        tz = node.get("timezone", DEFAULT_TIMEZONE)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            self.error(key_line(node, "timezone"), f"unknown time zone {tz!r}")
            tz = DEFAULT_TIMEZONE
        always = node.get("always_open", False)
        if not isinstance(always, bool):
            self.error(key_line(node, "always_open"), "'always_open' must be true or false")
            always = False
        if always:
            for key in ("weekly", "holidays", "extra_days_off", "extra_working_days"):
                if key in node:
                    self.error(
                        key_line(node, key),
                        f"'{key}' makes no sense on an always-open (24x7) calendar",
                    )
            weekly: dict[int, tuple[Period, ...]] = {}
            country: str | None = None
            off: frozenset[date] = frozenset()
            extra: dict[date, tuple[Period, ...]] = {}
        else:
            weekly = self.read_weekly(node.get("weekly"), line)
            if weekly and not any(weekly.values()):
                # Without weekly working time a due could never be found.
                self.error(key_line(node, "weekly"), "no working time in 'weekly'")
            country = self.read_country(node)
            self.notes = {}
            off = frozenset(self.read_days(node, "extra_days_off"))
            extra = self.read_days(node, "extra_working_days")
            if clash := sorted(off & extra.keys()):
                self.error(
                    key_line(node, "extra_working_days"),
                    "both an extra day off and an extra working day: "
                    + ", ".join(d.isoformat() for d in clash),
                )
        if len(self.errors) > before:
            return None
        try:
            return Calendar(
                code=code,
                tz=tz,
                weekly=weekly,
                always_open=always,
                holiday_country=country,
                extra_days_off=off,
                extra_working_days=extra,
                override_notes=dict(self.notes) if not always else {},
            )
        except ValueError as exc:
            self.error(line, str(exc))
            return None

    def read_weekly(self, node: Any, line: int | None) -> dict[int, tuple[Period, ...]]:
        if node is None:
            self.error(line, "'weekly' is required (or 'always_open: true' for 24x7)")
            return {}
        if not isinstance(node, dict):
            self.error(
                line_of(node) or line, "'weekly' must map days (mon, mon-fri, ...) to periods"
            )
            return {}
        weekly: dict[int, tuple[Period, ...]] = {}
        for key, value in node.items():
            at = key_line(node, key)
            days = weekday_range(str(key))
            if days is None:
                self.error(
                    at,
                    f"bad weekday '{key}': use {', '.join(WEEKDAYS)} or a range like mon-fri",
                )
                continue
            if value is None:
                value = ""
            if not isinstance(value, str):
                self.error(
                    at, f'periods must be text like "08:00-12:00, 13:30-17:00", got {value!r}'
                )
                continue
            try:
                periods = parse_periods(value)
            except ValueError as exc:
                self.error(at, str(exc))
                continue
            for day in days:
                if day in weekly:
                    self.error(at, f"{WEEKDAYS[day]} is given twice in 'weekly'")
                weekly[day] = periods
        return weekly

    def read_country(self, node: dict) -> str | None:
        value = node.get("holidays", "VN")
        line = key_line(node, "holidays")
        if value is None or value is False or (isinstance(value, str) and value.lower() == "none"):
            return None
        if not isinstance(value, str) or value.upper() not in holidays.list_supported_countries():
            self.error(
                line,
                f"'holidays' must be a country code known to the holidays package (VN) or none, "
                f"got {value!r}",
            )
            return None
        return value.upper()

    def read_days(self, node: dict, key: str) -> dict[date, tuple[Period, ...]]:
        """`extra_days_off` / `extra_working_days`: dates, or {date, note[, periods]} mappings."""
        value = node.get(key)
        line = key_line(node, key)
        if value is None:
            return {}
        if not isinstance(value, list):
            self.error(line, f"'{key}' must be a list of dates (YYYY-MM-DD) or {{date, note}}")
            return {}
        working = key == "extra_working_days"
        allowed = ("date", "note", "periods") if working else ("date", "note")
        out: dict[date, tuple[Period, ...]] = {}
        for index, item in enumerate(value):
            at = item_line(value, index, line)
            periods: tuple[Period, ...] = ()
            day = item
            if isinstance(item, dict):
                at = line_of(item) or at
                self.unknown_keys(item, allowed, f"'{key}'")
                day = item.get("date")
                raw = item.get("periods")
                if working and raw is not None:
                    try:
                        periods = parse_periods(str(raw))
                    except ValueError as exc:
                        self.error(at, str(exc))
                    if not periods:
                        self.error(at, "'periods' of an extra working day cannot be empty")
            if isinstance(day, str):
                with contextlib.suppress(ValueError):
                    day = date.fromisoformat(day.strip())
            if isinstance(day, datetime) or not isinstance(day, date):
                self.error(at, f"'{key}': expected a date like 2026-01-02, got {day!r}")
                continue
            if day in out:
                self.error(at, f"'{key}': {day.isoformat()} is listed twice")
            out[day] = periods
            if isinstance(item, dict) and item.get("note"):
                self.notes[day] = str(item["note"]).strip()
        return out
