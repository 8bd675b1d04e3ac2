"""A period of local dates, as reports and replays take it: parse, default, turn into UTC.

`from` and `to` are local dates (YYYY-MM-DD) in the deployment's time zone (Settings.timezone,
passed in; Asia/Ho_Chi_Minh by default), both inclusive; the period covers [from 00:00, the day
after `to` 00:00) local time. Defaults: `to` = today, `from` = 29 days before `to` (30 days).
The same zone must bound the period and group its days (app.reports.repository), or a day's
first hours land in the day before.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.errors import ValidationFailed, field_error

DEFAULT_DAYS = 30
MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2099, 12, 31)


def _date(
    text: str | None, loc: list[str | int], timezone: str, errors: list[dict[str, Any]]
) -> date | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    try:
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError
        parsed = date.fromisoformat(value)
    except ValueError:
        errors.append(
            field_error(
                loc,
                f"'{value}' is not a date; expected YYYY-MM-DD, a local date in "
                f"{timezone} (e.g. 2026-03-01)",
            )
        )
        return None
    if not MIN_DATE <= parsed <= MAX_DATE:
        errors.append(field_error(loc, f"{value} is out of range ({MIN_DATE} to {MAX_DATE})"))
        return None
    return parsed


def local_dates(
    date_from: str | None,
    date_to: str | None,
    *,
    now: datetime,
    timezone: str,
    where: str | None = None,
) -> tuple[date, date]:
    """The local dates asked for (default: the 30 days up to today in `timezone`, an IANA name,
    as of `now`, an aware instant).

    Raises ValidationFailed naming `["from"]` / `["to"]`, under `where` when given ("body",
    "option"): not a date, out of range, or `from` after `to`.
    """
    errors: list[dict[str, Any]] = []
    at: list[str | int] = [where] if where else []
    start = _date(date_from, [*at, "from"], timezone, errors)
    end = _date(date_to, [*at, "to"], timezone, errors)
    if errors:
        raise ValidationFailed(errors)
    today = now.astimezone(ZoneInfo(timezone)).date()
    if end is None:
        end = today if start is None else max(today, start)
    if start is None:
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if start > end:
        raise ValidationFailed([field_error([*at, "from"], f"from ({start}) is after to ({end})")])
    return start, end


def utc_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """[start 00:00, end + 1 day 00:00) local time in `timezone` (an IANA name), as UTC
    instants."""
    zone = ZoneInfo(timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), zone).astimezone(UTC)

    return midnight(start), midnight(end + timedelta(days=1))


def utc_offset_minutes(timezone: str, at: datetime) -> int:
    """Minutes east of UTC of `timezone` at the instant `at` (420 for Asia/Ho_Chi_Minh).

    For SQLite, whose date functions shift by a fixed offset: exact for zones without daylight
    saving time (Vietnam's, Japan's, UTC); for others, right at `at` only.
    """
    offset = at.astimezone(ZoneInfo(timezone)).utcoffset() or timedelta()
    return int(offset.total_seconds() // 60)
