"""SLA clock: due times and working time on real Vietnamese dates, plus properties."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla.calendar import Calendar, parse_duration, parse_periods
from app.sla.clock import (
    _working_delta,
    add_calendar,
    add_working,
    calendar_between,
    due_at,
    working_between,
)

HCM = ZoneInfo("Asia/Ho_Chi_Minh")
OFFICE_DAY = parse_periods("08:00-12:00, 13:30-17:00")  # 7h30
OFFICE = Calendar(code="office", weekly=dict.fromkeys(range(5), OFFICE_DAY))
ALWAYS = Calendar(code="24x7", always_open=True)
# Saturday mornings and a night shift across midnight, to vary the shapes.
NIGHT = Calendar(
    code="night",
    weekly={
        **dict.fromkeys(range(5), parse_periods("00:00-07:30, 17:00-24:00")),
        5: parse_periods("08:00-11:30"),
    },
)
H = 3600
M = 60


def loc(y, mo, d, h=0, mi=0, s=0):
    """A Hanoi wall-clock time, as the UTC instant the clock works with."""
    return datetime(y, mo, d, h, mi, s, tzinfo=HCM).astimezone(UTC)


# --- due times on real dates (holidays as holidays.VN 0.108 gives them, no overrides) -----


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        # Friday 16:50 + 8h: 10m Friday, 7h30 Monday, 20m Tuesday.
        (loc(2025, 3, 14, 16, 50), 8 * H, loc(2025, 3, 18, 8, 20)),
        # Tết 2026: Mon 16 - Fri 20 Feb off.
        (loc(2026, 2, 13, 16, 50), 8 * H, loc(2026, 2, 24, 8, 20)),
        # Make-up Saturday 26 Apr 2025 is worked like a Monday.
        (loc(2025, 4, 25, 16, 50), 8 * H, loc(2025, 4, 28, 8, 20)),
        # 30 Apr, 1 May and the 2 May 2025 substitute day off: 1h Tuesday, 7h Monday 5 May.
        (loc(2025, 4, 29, 16), 8 * H, loc(2025, 5, 5, 16, 30)),
        # Make-up Saturday 22 Aug 2026; a week later 31 Aug (swapped) and 1-2 Sep are off.
        (loc(2026, 8, 21, 16, 50), 8 * H, loc(2026, 8, 24, 8, 20)),
        (loc(2026, 8, 28, 16, 50), 8 * H, loc(2026, 9, 4, 8, 20)),
        # "5d" = 5 x 7h30 = 37h30, from Monday 08:00: Friday 17:00.
        (loc(2025, 3, 17, 8), 5 * 27000, loc(2025, 3, 21, 17)),
        # Lunch-break boundaries.
        (loc(2025, 3, 17, 11, 59), 1 * H, loc(2025, 3, 17, 14, 29)),
        (loc(2025, 3, 17, 12, 0), 1 * H, loc(2025, 3, 17, 14, 30)),
        (loc(2025, 3, 17, 13, 29), 1 * H, loc(2025, 3, 17, 14, 30)),
        (loc(2025, 3, 17, 13, 30), 1 * H, loc(2025, 3, 17, 14, 30)),
        (loc(2025, 3, 17, 11, 59), 60, loc(2025, 3, 17, 12, 0)),  # due at the period end
        (loc(2025, 3, 17, 11, 59), 61, loc(2025, 3, 17, 13, 30, 1)),
        (loc(2025, 3, 17, 8), 7 * H + 30 * M, loc(2025, 3, 17, 17)),
        (loc(2025, 3, 17, 8), 7 * H + 30 * M + 1, loc(2025, 3, 18, 8, 0, 1)),
        # Outside working hours: Sunday, Saturday night, after closing.
        (loc(2025, 3, 16, 10), 1 * H, loc(2025, 3, 17, 9)),
        (loc(2025, 3, 15, 23, 59, 59), 1, loc(2025, 3, 17, 8, 0, 1)),
        (loc(2025, 3, 17, 17, 30), 1 * H, loc(2025, 3, 18, 9)),
    ],
)
def test_office_due(start, seconds, due):
    assert add_working(start, seconds, OFFICE) == due
    assert working_between(start, due, OFFICE) == seconds


def test_local_time_vs_utc():
    # Monday 06:00 in Hanoi is still Sunday 23:00 UTC; work opens at 01:00 UTC.
    start = datetime(2025, 3, 16, 23, 0, tzinfo=UTC)
    assert add_working(start, H, OFFICE) == datetime(2025, 3, 17, 2, 0, tzinfo=UTC)
    # Input in another zone is fine; output is UTC.
    due = add_working(start.astimezone(HCM), H, OFFICE)
    assert due is not None and due.tzinfo is UTC


def test_24x7_across_midnight_and_holidays():
    assert add_working(loc(2026, 2, 16, 23, 30), H, ALWAYS) == loc(2026, 2, 17, 0, 30)
    assert working_between(loc(2026, 2, 15, 12), loc(2026, 2, 18, 12), ALWAYS) == 72 * H
    # The night calendar works 17:00-24:00 then 00:00-07:30: midnight is no break.
    assert add_working(loc(2025, 3, 17, 23, 30), H, NIGHT) == loc(2025, 3, 18, 0, 30)


def test_zero_seconds_returns_start_unchanged():
    sunday = loc(2025, 3, 16, 10)
    assert add_working(sunday, 0, OFFICE) == sunday
    assert add_working(sunday, 0, OFFICE, [(sunday, None)]) == sunday


# --- pauses --------------------------------------------------------------------------------

MON = (2025, 3, 17)


@pytest.mark.parametrize(
    ("pauses", "due"),
    [
        ([], loc(*MON, 12)),
        ([(loc(*MON, 9), loc(*MON, 10))], loc(*MON, 14, 30)),  # fully inside a period
        ([(loc(*MON, 11), loc(*MON, 14))], loc(*MON, 15)),  # overlaps lunch: 1h30 lost
        ([(loc(*MON, 12, 15), loc(*MON, 13, 15))], loc(*MON, 12)),  # inside lunch: no effect
        ([(loc(*MON, 7), loc(*MON, 8, 30))], loc(*MON, 14)),  # begins before the start
        ([(loc(2025, 3, 16, 9), loc(2025, 3, 16, 10))], loc(*MON, 12)),  # before the start
        (  # unsorted and overlapping: merged into 09:00-10:30
            [
                (loc(*MON, 10), loc(*MON, 10, 30)),
                (loc(*MON, 9), loc(*MON, 10, 15)),
                (loc(*MON, 9, 30), loc(*MON, 9, 45)),
            ],
            loc(*MON, 15),
        ),
        ([(loc(*MON, 9), loc(*MON, 10)), (loc(*MON, 10), loc(*MON, 11))], loc(*MON, 15, 30)),
        ([(loc(*MON, 9), loc(*MON, 9))], loc(*MON, 12)),  # empty pause
        ([(loc(*MON, 10), None)], None),  # open pause before the due: not computable
        ([(loc(*MON, 12), None)], loc(*MON, 12)),  # open pause from the due on: due stands
        ([(loc(2025, 3, 16, 9), None)], None),  # open pause since before the start
    ],
)
def test_pauses(pauses, due):
    assert add_working(loc(*MON, 8), 4 * H, OFFICE, pauses) == due


def test_pause_over_weekend():
    start = loc(2025, 3, 14, 8)  # Friday
    assert add_working(start, 8 * H, OFFICE) == loc(2025, 3, 17, 8, 30)
    pause = [(loc(2025, 3, 14, 16), loc(2025, 3, 17, 9))]  # Friday 16:00 to Monday 09:00
    assert add_working(start, 8 * H, OFFICE, pause) == loc(2025, 3, 17, 10, 30)
    assert working_between(start, loc(2025, 3, 17, 10, 30), OFFICE, pause) == 8 * H
    saturday_only = [(loc(2025, 3, 15, 8), loc(2025, 3, 15, 18))]
    assert add_working(start, 8 * H, OFFICE, saturday_only) == loc(2025, 3, 17, 8, 30)


def test_working_between():
    assert working_between(loc(*MON, 17), loc(*MON, 8), OFFICE) == 0
    assert working_between(loc(*MON, 8), loc(*MON, 8), OFFICE) == 0
    assert working_between(loc(*MON, 0), loc(2025, 3, 24, 0), OFFICE) == 5 * 27000
    # Tết week 2026 has no working time at all.
    assert working_between(loc(2026, 2, 14), loc(2026, 2, 22), OFFICE) == 0
    # An open pause stops the count at its start.
    assert working_between(loc(*MON, 8), loc(*MON, 17), OFFICE, [(loc(*MON, 10), None)]) == 2 * H


# --- calendar-time mode -----------------------------------------------------------------


def test_calendar_time_mode():
    start = loc(2025, 3, 14, 16, 50)
    assert add_calendar(start, 8 * H) == loc(2025, 3, 15, 0, 50)
    pause = [(loc(2025, 3, 14, 18), loc(2025, 3, 14, 20))]
    assert add_calendar(start, 8 * H, pause) == loc(2025, 3, 15, 2, 50)
    assert calendar_between(start, loc(2025, 3, 15, 2, 50), pause) == 8 * H
    assert add_calendar(start, 8 * H, [(loc(2025, 3, 14, 18), None)]) is None
    # Tết does not stop calendar time.
    assert add_calendar(loc(2026, 2, 13, 12), 72 * H) == loc(2026, 2, 16, 12)


def test_due_at_resolves_duration_per_mode():
    start = loc(*MON, 8)
    assert due_at(start, parse_duration("1d"), OFFICE) == loc(*MON, 17)  # 1d = 7h30 working
    assert due_at(start, parse_duration("1d4h"), OFFICE) == loc(2025, 3, 18, 12)
    assert due_at(start, parse_duration("1d"), OFFICE, calendar_time=True) == loc(2025, 3, 18, 8)
    assert due_at(start, parse_duration("1d"), ALWAYS) == loc(2025, 3, 18, 8)


# --- errors ----------------------------------------------------------------------------------


def test_naive_and_bad_inputs_are_rejected():
    naive = datetime(2025, 3, 17, 8)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working(naive, H, OFFICE)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_between(loc(*MON, 8), naive, OFFICE)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_working(loc(*MON, 8), H, OFFICE, [(naive, None)])
    with pytest.raises(ValueError, match="ends before"):
        add_working(loc(*MON, 8), H, OFFICE, [(loc(*MON, 10), loc(*MON, 9))])
    with pytest.raises(ValueError):
        add_working(loc(*MON, 8), -1, OFFICE)


def test_search_horizon():
    with pytest.raises(ValueError, match="no due within"):
        add_working(loc(*MON, 8), 10**9, OFFICE)
    # Mondays only, and every Monday for 11 years declared off: no working time to be found.
    mondays = frozenset(date(2025, 3, 17) + timedelta(weeks=w) for w in range(52 * 11))
    dead = Calendar(
        code="dead", weekly={0: OFFICE_DAY}, holiday_country=None, extra_days_off=mondays
    )
    with pytest.raises(ValueError, match="no due within"):
        add_working(loc(*MON, 8), 1, dead)


# --- properties ------------------------------------------------------------------------------

CALENDARS = [OFFICE, ALWAYS, NIGHT]
instants = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
durations = st.integers(0, 20 * 27000)  # up to 20 office days
pauses = st.lists(
    st.tuples(instants, st.integers(0, 5 * 86400)).map(
        lambda p: (p[0], p[0] + timedelta(seconds=p[1]))
    ),
    max_size=4,
)
PROPERTY = settings(max_examples=150, deadline=None)


@pytest.mark.parametrize("cal", CALENDARS, ids=lambda c: c.code)
@PROPERTY
@given(start=instants, seconds=durations, paused=pauses)
def test_due_round_trips(cal, start, seconds, paused):
    due = add_working(start, seconds, cal, paused)
    assert working_between(start, due, cal, paused) == seconds
    if seconds:  # the due is the end of working time, never later inside a gap
        assert working_between(due - timedelta(seconds=1), due, cal, paused) == 1


@pytest.mark.parametrize("cal", CALENDARS, ids=lambda c: c.code)
@PROPERTY
@given(start=instants, a=durations, b=durations, paused=pauses)
def test_due_monotone_and_composes(cal, start, a, b, paused):
    short, long = sorted((a, b))
    assert add_working(start, short, cal, paused) <= add_working(start, long, cal, paused)
    middle = add_working(start, a, cal, paused)
    assert add_working(middle, b, cal, paused) == add_working(start, a + b, cal, paused)


@pytest.mark.parametrize("cal", CALENDARS, ids=lambda c: c.code)
@PROPERTY
@given(start=instants, seconds=durations, paused=pauses, extra=pauses)
def test_pause_never_moves_due_earlier(cal, start, seconds, paused, extra):
    before = add_working(start, seconds, cal, paused)
    assert add_working(start, seconds, cal, paused + extra) >= before


@pytest.mark.parametrize("cal", CALENDARS, ids=lambda c: c.code)
@PROPERTY
@given(points=st.lists(instants, min_size=3, max_size=3), paused=pauses)
def test_working_between_additive(cal, points, paused):
    a, b, c = sorted(points)
    whole = working_between(a, c, cal, paused)
    assert whole == working_between(a, b, cal, paused) + working_between(b, c, cal, paused)
    assert whole <= (c - a).total_seconds()


@PROPERTY
@given(start=instants, seconds=durations)
def test_calendar_time_is_plain_addition(start, seconds):
    assert add_calendar(start, seconds) == start + timedelta(seconds=seconds)


def test_remembered_dues_never_answer_for_another_calendar_or_pause():
    start = loc(2025, 3, 14, 16)  # Friday 16:00
    twin = Calendar(code="office", weekly=dict.fromkeys(range(5), OFFICE_DAY))
    saturdays = Calendar(code="office", weekly=dict.fromkeys(range(6), OFFICE_DAY))
    first = add_working(start, 2 * 3600, OFFICE)
    assert add_working(start, 2 * 3600, OFFICE) == first  # asked again: the same answer
    assert add_working(start, 2 * 3600, twin) == first  # an equal calendar agrees
    assert add_working(start, 2 * 3600, saturdays) < first  # same code, other hours
    paused = [(start, None)]
    assert add_working(start, 2 * 3600, OFFICE, paused) is None
    assert add_working(start, 2 * 3600, OFFICE, [list(paused[0])]) is None  # unhashable pause


fine_instants = st.datetimes(
    min_value=datetime(2024, 12, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


@pytest.mark.parametrize("cal", [OFFICE, NIGHT], ids=lambda c: c.code)  # VN holidays: Tết
@PROPERTY
@given(a=fine_instants, b=fine_instants)
def test_working_between_remembered_part_changes_nothing(cal, a, b):
    """Long spans are counted as a remembered part up to a period's end a few days before `b`
    plus the rest: the same seconds as walking the calendar day by day (app.sla.clock), asked
    once or again, with sub-second instants (the parts are added before whole seconds)."""
    a, b = sorted((a, b))
    walked = _working_delta(a, b, cal, ()) // timedelta(seconds=1)
    assert working_between(a, b, cal) == walked
    assert working_between(a, b, cal) == walked  # remembered now
    later = b + timedelta(hours=5, microseconds=1)
    assert working_between(a, later, cal) == _working_delta(a, later, cal, ()) // timedelta(
        seconds=1
    )
