"""Calendar and config parsing: which days are worked, in which UTC intervals."""

from datetime import UTC, date, datetime, time

import pytest

from app.sla.calendar import (
    EXTRA_DAY_OFF_NAME,
    Calendar,
    Duration,
    parse_duration,
    parse_periods,
)

OFFICE_DAY = parse_periods("08:00-12:00, 13:30-17:00")
OFFICE = Calendar(code="office", weekly=dict.fromkeys(range(5), OFFICE_DAY))


def utc(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def worked(calendar, day):
    return bool(calendar.local_periods(day))


# Dates as holidays 0.108 (holidays.VN) gives them; no overrides needed for these.
@pytest.mark.parametrize(
    ("day", "is_worked", "name"),
    [
        (date(2026, 2, 13), True, None),  # Friday before Tết 2026
        (date(2026, 2, 16), False, "Giao thừa Tết Nguyên Đán"),
        (date(2026, 2, 17), False, "Tết Nguyên Đán"),
        (date(2026, 2, 20), False, "Mùng bốn Tết Nguyên Đán"),
        (date(2026, 2, 23), True, None),  # back to work
        (date(2025, 4, 26), True, None),  # make-up Saturday for 2 May 2025
        (date(2025, 4, 30), False, "Ngày Chiến thắng"),
        (date(2025, 5, 1), False, "Ngày Quốc tế Lao động"),
        (date(2025, 5, 2), False, "Ngày nghỉ (thay cho ngày 26/04/2025)"),
        (date(2025, 5, 3), False, None),  # plain Saturday
        (date(2026, 4, 27), False, "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"),  # Sunday holiday observed
        (date(2026, 8, 22), True, None),  # make-up Saturday for Monday 31 Aug 2026
        (date(2026, 8, 31), False, "Ngày nghỉ (thay cho ngày 22/08/2026)"),
    ],
)
def test_vietnam_days_from_holidays_package(day, is_worked, name):
    assert worked(OFFICE, day) is is_worked
    assert OFFICE.holiday_name(day) == name


def test_make_up_saturday_works_the_standard_day():
    assert OFFICE.local_periods(date(2025, 4, 26)) == OFFICE_DAY


def test_periods_on_are_utc_and_local_day_spans_two_utc_dates():
    assert OFFICE.periods_on(date(2025, 3, 17)) == (
        (utc(2025, 3, 17, 1), utc(2025, 3, 17, 5)),
        (utc(2025, 3, 17, 6, 30), utc(2025, 3, 17, 10)),
    )
    always = Calendar(code="24x7", always_open=True)
    assert always.periods_on(date(2026, 2, 17)) == ((utc(2026, 2, 16, 17), utc(2026, 2, 17, 17)),)
    assert always.holiday_name(date(2026, 2, 17)) is None  # 24x7 ignores holidays


def test_overrides_beat_the_holidays_package():
    cal = Calendar(
        code="ward",
        weekly={0: OFFICE_DAY, 5: parse_periods("08:00-11:30")},
        extra_days_off=frozenset({date(2025, 3, 17)}),
        extra_working_days={
            date(2025, 5, 2): (),  # decree says work after all: standard (Monday) day
            date(2025, 3, 23): parse_periods("09:00-10:00"),  # a Sunday with given hours
        },
    )
    assert cal.local_periods(date(2025, 3, 17)) == ()
    assert cal.holiday_name(date(2025, 3, 17)) == EXTRA_DAY_OFF_NAME
    assert cal.local_periods(date(2025, 5, 2)) == OFFICE_DAY
    assert cal.holiday_name(date(2025, 5, 2)) is None
    assert cal.local_periods(date(2025, 3, 23)) == ((time(9), time(10)),)
    assert cal.local_periods(date(2025, 3, 22)) == ((time(8), time(11, 30)),)  # weekly Saturday


def test_without_holiday_country_only_overrides_count():
    plain = Calendar(code="plain", weekly=OFFICE.weekly, holiday_country=None)
    assert worked(plain, date(2026, 2, 17))
    assert not worked(plain, date(2025, 4, 26))


def test_night_shift_ends_at_midnight():
    night = Calendar(
        code="night", weekly=dict.fromkeys(range(7), parse_periods("00:00-07:30, 17:00-24:00"))
    )
    assert night.periods_on(date(2025, 3, 17))[-1] == (utc(2025, 3, 17, 10), utc(2025, 3, 17, 17))
    assert night.working_day_seconds == 14 * 3600 + 30 * 60


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weekly": {}},  # no working time at all
        {"weekly": {1: ()}},
        {"weekly": {7: OFFICE_DAY}},
        # Only the last period of a day may cross midnight (12:00-08:00 alone is a night shift).
        {"weekly": {0: ((time(12), time(8)), (time(13), time(14)))}},
        {"weekly": {0: ((time(8), time(12)), (time(11), time(13)))}},
        {"weekly": {0: OFFICE_DAY}, "tz": "Mars/Olympus"},
        {
            "weekly": {0: OFFICE_DAY},
            "extra_days_off": frozenset({date(2025, 1, 6)}),
            "extra_working_days": {date(2025, 1, 6): ()},
        },
    ],
)
def test_bad_calendars_are_rejected(kwargs):
    with pytest.raises(ValueError):
        Calendar(code="bad", **kwargs)


def test_parse_periods():
    assert parse_periods("") == ()
    assert parse_periods("7:30-11:30 ,13:00 - 24:00") == (
        (time(7, 30), time(11, 30)),
        (time(13), time(0)),
    )
    # "12:00-08:00" is a night shift since issue #10 (test_sla_night_shift.py).
    for bad in ("8-12", "08:00-25:00", "08:00-08:00", "08:00-12:00, 11:00-13:00"):
        with pytest.raises(ValueError):
            parse_periods(bad)


@pytest.mark.parametrize(
    ("text", "duration", "office_seconds", "calendar_seconds"),
    [
        ("30m", Duration(0, 1800), 1800, 1800),
        ("8h", Duration(0, 8 * 3600), 8 * 3600, 8 * 3600),
        ("5d", Duration(5, 0), 5 * 27000, 5 * 86400),  # 5 x 7h30
        ("1d4h", Duration(1, 4 * 3600), 27000 + 4 * 3600, 86400 + 4 * 3600),
        (" 2H30m ", Duration(0, 9000), 9000, 9000),
    ],
)
def test_parse_duration(text, duration, office_seconds, calendar_seconds):
    parsed = parse_duration(text)
    assert parsed == duration
    assert parsed.resolve(OFFICE) == office_seconds
    assert parsed.resolve(OFFICE, calendar_time=True) == calendar_seconds
    assert parse_duration(str(parsed)) == parsed


def test_day_means_standard_day_length():
    assert OFFICE.working_day_seconds == 7 * 3600 + 30 * 60
    assert Calendar(code="24x7", always_open=True).working_day_seconds == 86400
    tue_sat = Calendar(code="t", weekly=dict.fromkeys(range(1, 6), parse_periods("07:00-11:00")))
    assert tue_sat.working_day_seconds == 4 * 3600


@pytest.mark.parametrize("bad", ["", "8", "h", "4h1d", "1.5h", "-1h", "1w", "8h8h"])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)
