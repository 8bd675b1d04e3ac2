"""Instants are stored in UTC and shown in Vietnam's local time (UTC+7, no DST).

LOCAL_TZ is the zone instants are *shown* in (JSON and CSV, with their offset, so any reader
gets the same instant), naive input is read in, and ticket reference years are counted in. It is
the hotline's default zone (app.catalog.vocabulary.DEFAULT_TIMEZONE). Local *dates* that select
data (report and replay periods, report days, weeks and months) follow Settings.timezone,
passed to app.reports.period and the report services.
"""

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

from app.catalog.vocabulary import DEFAULT_TIMEZONE

LOCAL_TZ = ZoneInfo(DEFAULT_TIMEZONE)

# The instants a ticket, an action or a filter may name. Far outside them, calendar and UTC
# arithmetic overflows (year 1 minus an offset, year 9999 plus one), and nothing the hotline
# records happened before 2000: `"received_at": 1` is a mistake, not a 1970 call.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
EXAMPLE = "2026-11-26T14:30:00+07:00"


def assume_local(value: datetime) -> datetime:
    """A datetime without an offset is read as Hanoi local time."""
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def to_local(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).isoformat()


def _not_a_number(value: Any) -> Any:
    # Pydantic would read a number as seconds since 1970; an instant here is always written out.
    if isinstance(value, int | float):
        raise ValueError(f"write the date and time out in ISO 8601, e.g. {EXAMPLE}")
    return value


def _in_range(value: datetime) -> datetime:
    value = assume_local(value)
    # Compared on the naive UTC wall time: astimezone() itself overflows at the extremes.
    offset = value.utcoffset()
    assert offset is not None
    if not (
        EARLIEST.replace(tzinfo=None) + offset
        <= value.replace(tzinfo=None)
        < LATEST.replace(tzinfo=None) + offset
    ):
        raise ValueError(f"must be between {EARLIEST.year} and {LATEST.year - 1} (e.g. {EXAMPLE})")
    return value


# Input: an ISO 8601 datetime between 2000 and 2099; naive means local time.
InstantIn = Annotated[datetime, BeforeValidator(_not_a_number), AfterValidator(_in_range)]
# Output: ISO 8601 with the +07:00 offset.
InstantOut = Annotated[datetime, PlainSerializer(to_local, return_type=str)]
