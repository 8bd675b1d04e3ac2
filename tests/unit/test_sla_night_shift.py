"""Working periods that cross midnight ("17:00-07:30"): a shift that starts on a working day
runs to its end, even when the next day is a holiday (issue #10)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.sla import Calendar, add_working, parse_periods, working_between

HN = ZoneInfo("Asia/Ho_Chi_Minh")
H = 3600

# Mon-Fri night shifts with Vietnamese holidays. Thu 1 Jan 2026 is New Year's Day.
NIGHT = Calendar(code="night", weekly=dict.fromkeys(range(5), parse_periods("17:00-07:30")))


def local(*args):
    return datetime(*args, tzinfo=HN)


def test_a_night_shift_is_one_period_of_the_day_it_starts():
    assert parse_periods("17:00-07:30") == (
        (datetime(1, 1, 1, 17).time(), datetime(1, 1, 1, 7, 30).time()),
    )
    assert NIGHT.working_day_seconds == 14 * H + 30 * 60
    (shift,) = NIGHT.periods_on(date(2025, 12, 31))
    assert shift == (local(2025, 12, 31, 17).astimezone(UTC), local(2026, 1, 1, 7, 30))
    assert NIGHT.periods_on(date(2026, 1, 1)) == ()  # the holiday's own evening is off


@pytest.mark.parametrize(
    ("start", "seconds", "due"),
    [
        # Wed 31 Dec 17:00 on a working day: the shift runs into the holiday morning.
        (local(2025, 12, 31, 17), 14 * H + 30 * 60, local(2026, 1, 1, 7, 30)),
        (local(2025, 12, 31, 20), 10 * H, local(2026, 1, 1, 6)),
        # Started inside the shift's tail, on the holiday itself.
        (local(2026, 1, 1, 3), 1 * H, local(2026, 1, 1, 4)),
        # Past the end of the shift: the holiday evening is off, Friday evening works.
        (local(2025, 12, 31, 17), 15 * H, local(2026, 1, 2, 17, 30)),
        (local(2026, 1, 1, 7, 30), 1 * H, local(2026, 1, 2, 18)),
        # Friday night runs into Saturday; Monday night is the next one.
        (local(2026, 1, 9, 23), 9 * H, local(2026, 1, 12, 17, 30)),
    ],
)
def test_due_times_across_midnight(start, seconds, due):
    assert add_working(start, seconds, NIGHT) == due
    assert working_between(start, due, NIGHT) == seconds


def test_working_time_across_a_holiday_morning():
    assert working_between(local(2025, 12, 31, 20), local(2026, 1, 1, 12), NIGHT) == 11.5 * H
    assert working_between(local(2026, 1, 1, 8), local(2026, 1, 2, 8), NIGHT) == 0


def test_the_next_days_own_periods_start_after_the_night_shift():
    cal = Calendar(
        code="overlap",
        weekly={0: parse_periods("17:00-07:30"), 1: parse_periods("00:00-08:00, 13:00-17:00")},
    )
    tuesday = cal.periods_on(date(2025, 3, 18))
    assert tuesday[0][0] == local(2025, 3, 18, 7, 30)
    monday_night = local(2025, 3, 17, 17)
    # 17:00-07:30 (14h30), then Tuesday's 07:30-08:00 (not 00:00-07:30 twice) and 13:00-17:00.
    assert working_between(monday_night, monday_night + timedelta(days=1), cal) == 19 * H


@pytest.mark.parametrize("text", ["17:00-07:30, 08:00-12:00", "22:00-06:00, 23:00-23:30"])
def test_only_the_last_period_may_cross_midnight(text):
    with pytest.raises(ValueError):
        parse_periods(text)
