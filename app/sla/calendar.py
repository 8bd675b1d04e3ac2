"""Business calendars: which local hours count as working time, as UTC intervals.

Pure: standard library + `holidays`. Nothing here reads the current time.

A working day is decided in this order (first rule that applies wins):
1. `always_open` (24x7): every day is worked, all day; holidays are ignored.
2. `extra_working_days` override: worked, with the given periods (default: the standard day).
3. `extra_days_off` override: off.
4. A make-up working day known to `holidays` (e.g. Saturday 26 Apr 2025, worked in exchange
   for Friday 2 May 2025 off): worked, with the standard day's periods.
5. A public holiday or substitute day off known to `holidays`: off.
6. Otherwise the `weekly` periods of that weekday.

The "standard day" is Monday's schedule (or the first worked weekday if Monday is not worked);
its length is what "1d" means in working time, see `Duration`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from app.catalog.vocabulary import DEFAULT_TIMEZONE

# A local working period (start, end). An end of 00:00 means the midnight that ends the day.
# An end before the start crosses midnight: "17:00-07:30" is a night shift that belongs to the
# day it starts on and runs to 07:30 the next morning, even when that next day is a holiday.
Period = tuple[time, time]
# A UTC interval, half-open [start, end).
Interval = tuple[datetime, datetime]

DAY_SECONDS = 24 * 3600
EXTRA_DAY_OFF_NAME = "Ngày nghỉ bổ sung"  # label for a configured extra day off
_WHOLE_DAY: tuple[Period, ...] = ((time(0), time(0)),)


def _seconds_of_day(t: time, *, end: bool = False) -> int:
    seconds = t.hour * 3600 + t.minute * 60 + t.second
    return DAY_SECONDS if end and seconds == 0 else seconds


def _period_bounds(start: time, end: time) -> tuple[int, int]:
    """(start, end) in seconds from the start of the period's own day; an end at or before
    the start (00:00, or a night shift like 17:00-07:30) is on the next day."""
    s, e = _seconds_of_day(start), _seconds_of_day(end)
    return s, e + DAY_SECONDS if e <= s else e


def _check_periods(periods: object, where: str) -> tuple[Period, ...]:
    """Validate one day's periods: each non-empty, sorted, not overlapping; only the last may
    cross midnight."""
    checked: list[Period] = []
    previous_end = 0
    for start, end in periods:  # type: ignore[attr-defined]
        if not isinstance(start, time) or not isinstance(end, time):
            raise ValueError(f"{where}: periods must be (time, time) pairs, got {(start, end)!r}")
        s, e = _period_bounds(start, end)
        if start == end != time(0):
            raise ValueError(f"{where}: empty period {start}-{end}")
        if start.microsecond or end.microsecond or s < previous_end or previous_end > DAY_SECONDS:
            raise ValueError(
                f"{where}: periods must be whole seconds, sorted and not overlapping, and only "
                "the last one may cross midnight"
            )
        checked.append((start, end))
        previous_end = e
    return tuple(checked)


# Days whose periods are kept (several years' worth; most lookups are for the coming weeks).
_PERIODS_CACHED = 4096


@dataclass(frozen=True)
class Calendar:
    """A business calendar. Build once from config; cheap to query, caches holidays per year.

    `weekly` maps weekday (0=Mon..6=Sun) to that day's local working periods.
    """

    code: str
    tz: str = DEFAULT_TIMEZONE
    weekly: Mapping[int, tuple[Period, ...]] = field(default_factory=dict)
    always_open: bool = False
    holiday_country: str | None = "VN"
    extra_days_off: frozenset[date] = frozenset()
    # An empty tuple means "the standard day's periods" (a make-up Saturday works like a Monday).
    extra_working_days: Mapping[date, tuple[Period, ...]] = field(default_factory=dict)
    # Why each override is there (the decree's number and date), as written in sla.yaml.
    override_notes: Mapping[date, str] = field(default_factory=dict, compare=False)
    _holidays: dict[int, holidays.HolidayBase] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # periods_on() by day: every due time and SLA status walks the same few days again.
    _periods: dict[date, tuple[Interval, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"calendar {self.code}: unknown time zone {self.tz!r}") from exc
        weekly = {}
        for weekday, periods in self.weekly.items():
            if weekday not in range(7):
                raise ValueError(f"calendar {self.code}: weekday must be 0..6, got {weekday!r}")
            weekly[weekday] = _check_periods(periods, f"calendar {self.code}, weekday {weekday}")
        extra = {
            day: _check_periods(periods or (), f"calendar {self.code}, {day}")
            for day, periods in self.extra_working_days.items()
        }
        off = frozenset(self.extra_days_off)
        if clash := sorted(off & extra.keys()):
            raise ValueError(f"calendar {self.code}: both day off and working day: {clash}")
        if not self.always_open and not any(weekly.values()):
            # Without weekly working time a due date could never be found.
            raise ValueError(f"calendar {self.code} has no weekly working time")
        object.__setattr__(self, "weekly", weekly)
        object.__setattr__(self, "extra_days_off", off)
        object.__setattr__(self, "extra_working_days", extra)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)  # ZoneInfo caches instances, so this is cheap

    @property
    def standard_periods(self) -> tuple[Period, ...]:
        """Monday's periods, or the first worked weekday's if Monday is not worked."""
        if self.always_open:
            return _WHOLE_DAY
        return next(self.weekly[d] for d in range(7) if self.weekly.get(d))

    @cached_property
    def working_day_seconds(self) -> int:
        """Length of the standard day: what "1d" means in working time (86400 for 24x7)."""
        return sum(e - s for s, e in (_period_bounds(*p) for p in self.standard_periods))

    def _holidays_for(self, year: int) -> holidays.HolidayBase | None:
        if self.holiday_country is None:
            return None
        if year not in self._holidays:  # a benign race at worst: both threads build the same
            self._holidays[year] = holidays.country_holidays(
                self.holiday_country, language="vi", years=year
            )
        return self._holidays[year]

    def local_periods(self, day: date) -> tuple[Period, ...]:
        """The local working periods of `day` (empty on a day off). See the module docstring."""
        if self.always_open:
            return _WHOLE_DAY
        if day in self.extra_working_days:
            return self.extra_working_days[day] or self.standard_periods
        if day in self.extra_days_off:
            return ()
        known = self._holidays_for(day.year)
        if known is not None:
            if day in known.weekend_workdays:
                return self.standard_periods
            if day in known:
                return ()
        return self.weekly.get(day.weekday(), ())

    def periods_on(self, day: date) -> tuple[Interval, ...]:
        """The working intervals of the local `day`, as aware UTC datetimes, in order.

        Vietnam is UTC+7, so a local day runs from 17:00 UTC the day before to 17:00 UTC.
        """
        cached = self._periods.get(day)
        if cached is not None:
            return cached
        zone = self.zone
        next_day = day + timedelta(days=1)
        periods = tuple(
            (
                datetime.combine(day, start, zone).astimezone(UTC),
                datetime.combine(next_day if end <= start else day, end, zone).astimezone(UTC),
            )
            for start, end in self.local_periods(day)
        )
        # A night shift begun the day before runs on into this day: this day's own periods
        # start after it (a calendar may write 17:00-07:30 and 00:00-08:00 on adjacent days).
        carried = self._night_shift_end(day - timedelta(days=1))
        if carried is not None and periods and periods[0][0] < carried:
            periods = tuple((max(a, carried), b) for a, b in periods if b > carried)
        if len(self._periods) >= _PERIODS_CACHED:
            self._periods.clear()  # a benign race at worst, as for holidays
        self._periods[day] = periods
        return periods

    def _night_shift_end(self, day: date) -> datetime | None:
        """When the period of `day` that crosses midnight ends (UTC), if it has one."""
        own = self.local_periods(day)
        if not own or own[-1][1] > own[-1][0] or own[-1][1] == time(0):
            return None
        end = datetime.combine(day + timedelta(days=1), own[-1][1], self.zone)
        return end.astimezone(UTC)

    def holiday_name(self, day: date) -> str | None:
        """Why `day` is a day off (holiday or configured day off), for explanations; else None."""
        if self.always_open or day in self.extra_working_days:
            return None
        if day in self.extra_days_off:
            return EXTRA_DAY_OFF_NAME
        known = self._holidays_for(day.year)
        if known is None or day in known.weekend_workdays:
            return None
        return known.get(day)


# --- config parsing -------------------------------------------------------------------------

_PERIOD = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")


def _parse_time(hours: str, minutes: str, text: str) -> time:
    h, m = int(hours), int(minutes)
    if h == 24 and m == 0:
        return time(0)  # 24:00, the end of the day
    if h > 23 or m > 59:
        raise ValueError(f"bad time in {text!r}")
    return time(h, m)


def parse_periods(text: str) -> tuple[Period, ...]:
    """Parse one day's periods: "08:00-12:00, 13:30-17:00"; "" is no work; 24:00 ends the day."""
    periods = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _PERIOD.fullmatch(part.replace(" ", ""))
        if match is None:
            raise ValueError(f"bad working period {part!r}, expected like 08:00-12:00")
        h1, m1, h2, m2 = match.groups()
        periods.append((_parse_time(h1, m1, part), _parse_time(h2, m2, part)))
    return _check_periods(periods, repr(text))


@dataclass(frozen=True)
class Duration:
    """An SLA target such as "30m", "8h", "5d" or "1d4h": whole days plus hours/minutes.

    Days are kept apart because their length depends on the calendar and mode:
    - working time: 1d = the calendar's standard working day (`Calendar.working_day_seconds`),
      e.g. 7h30 for 08:00-12:00 + 13:30-17:00, so "5d" = 37h30 and "1d4h" = 11h30 of working
      time; on a 24x7 calendar 1d = 24h.
    - calendar time: 1d = 24h.
    A "d" is a quantity of working time, not "the same clock time N working days later".
    That keeps every target plain working-time arithmetic: working_between(start, due) equals
    the target, "% elapsed" (the warning threshold) is well defined, and a supervisor
    recomputes a due by hand by converting the target to working hours and counting them off
    the calendar's periods from the start (skipping days off and paused intervals).
    """

    days: int = 0
    seconds: int = 0

    def resolve(self, calendar: Calendar | None = None, *, calendar_time: bool = False) -> int:
        """The target in seconds: working seconds on `calendar`, or plain seconds."""
        if calendar_time or calendar is None:
            return self.days * DAY_SECONDS + self.seconds
        return self.days * calendar.working_day_seconds + self.seconds

    def __str__(self) -> str:
        hours, rest = divmod(self.seconds, 3600)
        parts = [(self.days, "d"), (hours, "h"), (rest // 60, "m")]
        return "".join(f"{n}{unit}" for n, unit in parts if n) or "0m"


def parse_duration(text: str) -> Duration:
    """Parse "30m", "8h", "5d", "1d4h", "2h30m" (units in the order d, h, m; each once)."""
    match = _DURATION.fullmatch(text.strip().lower().replace(" ", ""))
    if not text.strip() or match is None:
        raise ValueError(f"bad duration {text!r}, expected like 30m, 8h, 5d or 1d4h")
    days, hours, minutes = (int(g or 0) for g in match.groups())
    return Duration(days=days, seconds=hours * 3600 + minutes * 60)
