"""GeoReport's query and form values read: instants, whole numbers, the period of a listing.

Values come as plain strings (None when absent); a bad one raises RequestInvalid naming it.
"""

from datetime import datetime, timedelta

from app.open311.errors import RequestInvalid
from app.timefmt import EARLIEST, LATEST, _in_range

MAX_RANGE = timedelta(days=90)  # the spec's cap on start_date..end_date


def parse_instant(name: str, raw: str | None) -> datetime | None:
    """ISO 8601 (a `Z` or an offset; none means local time) as an aware datetime between 2000
    and 2099, or None; RequestInvalid naming `name` otherwise (far-off years overflow the
    90-day arithmetic)."""
    if raw is None or not raw.strip():
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise RequestInvalid(
            f"{name}: '{raw}' is not an ISO 8601 date-time (2026-11-29T08:00:00+07:00)"
        ) from exc
    try:
        return _in_range(value)
    except ValueError as exc:
        raise RequestInvalid(
            f"{name}: must be between {EARLIEST.year} and {LATEST.year - 1}, got '{raw}'"
        ) from exc


def whole_number(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    """A whole number in [low, high], `default` when absent."""
    if raw is None or raw == "":
        return default
    # ASCII only: "²".isdigit() is true, yet int("²") raises.
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise RequestInvalid(f"{name}: expected a whole number from {low} to {high}, got '{raw}'")
    return int(raw)


def period(params: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    """[start_date, end_date] of a listing: default the 90 days up to `now`, at most 90 days."""
    start = parse_instant("start_date", params.get("start_date"))
    end = parse_instant("end_date", params.get("end_date"))
    end = end or (start + MAX_RANGE if start else now)
    start = start or end - MAX_RANGE
    if end < start:
        raise RequestInvalid("end_date: before start_date")
    if end - start > MAX_RANGE:
        raise RequestInvalid("start_date..end_date: at most 90 days apart (the spec's limit)")
    return start, end
