"""SLA clock math: working time between instants, and due times, with pauses left out.

Pure: time is always passed in. Every datetime argument must be timezone-aware (ValueError on
naive ones); results are UTC. Intervals are half-open [start, end), so a target that runs out
exactly at 12:00 is due at 12:00, not at 13:30 when work resumes.

Pauses are (start, end) intervals during which the clock is stopped (the ticket is waiting for
the citizen). They may be unsorted, overlap each other or non-working time; they are merged.
An open pause (end None) stops the clock from its start on: working time stops accruing there,
and a due that has not been reached before it is not computable yet, so `add_working` returns
None ("paused") rather than a guess.

Cost is O(local days spanned + pauses): whole working periods are consumed at once, never
minute by minute. The search for a due is capped at HORIZON_DAYS. working_between without
pauses remembers the part of a long span up to a period's end two local days before its end,
so that reading the same clock again (every list page of open tickets) walks a few days only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from app.sla.calendar import Calendar, Duration, Interval

Pause = tuple[datetime, datetime | None]

HORIZON_DAYS = 3653  # about 10 years; past this the calendar is surely misconfigured
CALENDAR_TIME = Calendar(code="calendar-time", tz="UTC", always_open=True, holiday_country=None)


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _merge(pauses: Iterable[Pause]) -> list[Pause]:
    """Sorted, disjoint pauses; anything starting after an open pause is swallowed by it."""
    items: list[Pause] = []
    for start, end in pauses:
        start = _utc(start, "pause start")
        if end is not None:
            end = _utc(end, "pause end")
            if end < start:
                raise ValueError(f"pause ends before it starts: {start} > {end}")
            if end == start:
                continue
        items.append((start, end))
    items.sort(key=lambda pause: pause[0])
    merged: list[Pause] = []
    for start, end in items:
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_start, last_end = merged[-1]
            merged[-1] = (
                last_start,
                None if last_end is None or end is None else max(last_end, end),
            )
        else:
            merged.append((start, end))
    return merged


def _periods_from(
    start: datetime, calendar: Calendar, until: datetime | None
) -> Iterator[Interval]:
    """The calendar's working intervals after `start` (the first one clipped), day by day.

    Stops after the local day of `until`; without `until`, raises after HORIZON_DAYS.
    """
    zone = calendar.zone
    # From the day before: its night shift (a period crossing midnight) may still be running.
    day = start.astimezone(zone).date() - timedelta(days=1)
    last = day + timedelta(days=HORIZON_DAYS) if until is None else until.astimezone(zone).date()
    while day <= last:
        for a, b in calendar.periods_on(day):
            if b > start:
                yield max(a, start), b
        day += timedelta(days=1)
    if until is None:
        raise ValueError(
            f"no due within {HORIZON_DAYS} days after {start.isoformat()} on calendar "
            f"{calendar.code}: the target is too long or the calendar has (almost) no working time"
        )


def _working_pieces(
    start: datetime, calendar: Calendar, pauses: Iterable[Pause], until: datetime | None = None
) -> Iterator[Interval]:
    """Working intervals after `start` with the pauses cut out, in order.

    Ends early when an open pause begins: no working time exists after it.
    """
    merged = _merge(pauses)
    first = 0  # pauses before `first` ended before the current period; periods only move on
    for a, b in _periods_from(start, calendar, until):
        while first < len(merged) and (end := merged[first][1]) is not None and end <= a:
            first += 1
        for pause_start, pause_end in (merged[j] for j in range(first, len(merged))):
            if pause_start >= b:
                break
            if pause_start > a:
                yield a, pause_start
            if pause_end is None:
                return
            a = max(a, pause_end)
            if a >= b:
                break
        if a < b:
            yield a, b


# add_working() results by their exact inputs. Planning an assignment and reporting its status
# ask the same questions (each target's due and warning instants) again and again; the answer
# depends on nothing else, as calendars are immutable (checked by identity, not equality).
_MEMO: dict[tuple[Any, ...], tuple[Calendar, datetime | None]] = {}
_MEMO_SIZE = 8192


def add_working(
    start: datetime, seconds: int, calendar: Calendar, pauses: Iterable[Pause] = ()
) -> datetime | None:
    """The instant at which `seconds` of working time have elapsed since `start`.

    A start outside working hours (or inside a pause) waits for the next working period.
    `seconds == 0` returns `start` itself (in UTC), even outside working hours: nothing is owed.
    Returns None when an open pause begins before the due is reached (not computable while
    paused). Raises ValueError if no due is found within HORIZON_DAYS.
    """
    pauses = tuple(pauses)
    key = (start, seconds, id(calendar), pauses)
    try:
        known = _MEMO.get(key)
    except TypeError:  # an unhashable pause (a list): just compute
        return _add_working(start, seconds, calendar, pauses)
    if known is not None and known[0] is calendar:
        return known[1]
    result = _add_working(start, seconds, calendar, pauses)
    if len(_MEMO) >= _MEMO_SIZE:
        _MEMO.clear()
    _MEMO[key] = (calendar, result)
    return result


def _add_working(
    start: datetime, seconds: int, calendar: Calendar, pauses: tuple[Pause, ...]
) -> datetime | None:
    start = _utc(start, "start")
    if seconds < 0:
        raise ValueError(f"seconds must be >= 0, got {seconds}")
    if seconds == 0:
        return start
    if calendar.always_open and not pauses:
        return start + timedelta(seconds=seconds)  # every instant is working time
    left = timedelta(seconds=seconds)
    for a, b in _working_pieces(start, calendar, pauses):
        if b - a >= left:
            return a + left
        left -= b - a
    return None


def working_between(
    a: datetime, b: datetime, calendar: Calendar, pauses: Iterable[Pause] = ()
) -> int:
    """Whole seconds of working time in [a, b), pauses excluded; 0 if b <= a.

    An open pause counts as lasting until `b`.
    """
    a, b = _utc(a, "a"), _utc(b, "b")
    if b <= a:
        return 0
    pauses = tuple(pauses)
    split = None if pauses or calendar.always_open else _split_before(b, calendar)
    if split is None or split <= a:
        return _working_delta(a, b, calendar, pauses) // timedelta(seconds=1)
    # Working time is additive across `split`, the end of a working period (periods never
    # overlap): the part before it is the same for every `b` of the next days, remembered.
    return (_before_split(a, split, calendar) + _working_delta(split, b, calendar, ())) // (
        timedelta(seconds=1)
    )


def _working_delta(
    a: datetime, b: datetime, calendar: Calendar, pauses: tuple[Pause, ...]
) -> timedelta:
    total = timedelta()
    for x, y in _working_pieces(a, calendar, pauses, until=b):
        if x >= b:
            break
        total += min(y, b) - x
    return total


# How far back from `b` the remembered part of working_between ends: a few local days, so
# that the part counted afresh on each call is short, and the remembered one is asked again
# by every read of the same clock for a day or more.
_SPLIT_DAYS = 2
_SPLIT_LOOKBACK = 14  # days without any working period (Tết) before giving up the split


def _split_before(b: datetime, calendar: Calendar) -> datetime | None:
    """The end of the last working period of the local day _SPLIT_DAYS before `b`'s, or of
    an earlier day if that one has none; None if none is found within _SPLIT_LOOKBACK days."""
    day = b.astimezone(calendar.zone).date() - timedelta(days=_SPLIT_DAYS)
    for _ in range(_SPLIT_LOOKBACK):
        periods = calendar.periods_on(day)
        if periods:
            end = periods[-1][1]
            return end if end < b else None
        day -= timedelta(days=1)
    return None


# _before_split results by (start, split, calendar identity): an SLA read of a list page asks
# the working time of every open target up to now; without this each walked its calendar day
# by day from the assignment (a ticket 60 days overdue: 60 days x 2 targets x 50 rows).
_SPLIT_MEMO: dict[tuple[datetime, datetime, int], tuple[Calendar, timedelta]] = {}


def _before_split(a: datetime, split: datetime, calendar: Calendar) -> timedelta:
    key = (a, split, id(calendar))
    known = _SPLIT_MEMO.get(key)
    if known is not None and known[0] is calendar:
        return known[1]
    result = _working_delta(a, split, calendar, ())
    if len(_SPLIT_MEMO) >= _MEMO_SIZE:
        _SPLIT_MEMO.clear()
    _SPLIT_MEMO[key] = (calendar, result)
    return result


def add_calendar(start: datetime, seconds: int, pauses: Iterable[Pause] = ()) -> datetime | None:
    """Like `add_working` but counting plain calendar time (24x7); pauses still extend it."""
    return add_working(start, seconds, CALENDAR_TIME, pauses)


def calendar_between(a: datetime, b: datetime, pauses: Iterable[Pause] = ()) -> int:
    """Like `working_between` in plain calendar time; pauses still excluded."""
    return working_between(a, b, CALENDAR_TIME, pauses)


def due_at(
    start: datetime,
    target: Duration,
    calendar: Calendar,
    *,
    calendar_time: bool = False,
    pauses: Iterable[Pause] = (),
) -> datetime | None:
    """Due time of a `Duration` target (see `Duration` for what "d" means), or None if paused."""
    seconds = target.resolve(calendar, calendar_time=calendar_time)
    if calendar_time:
        return add_calendar(start, seconds, pauses)
    return add_working(start, seconds, calendar, pauses)
