"""Instants are stored in UTC and shown in Vietnam's local time (UTC+7, no DST)."""

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, PlainSerializer

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def assume_local(value: datetime) -> datetime:
    """A datetime without an offset is read as Hanoi local time."""
    return value.replace(tzinfo=LOCAL_TZ) if value.tzinfo is None else value


def to_local(value: datetime) -> str:
    return value.astimezone(LOCAL_TZ).isoformat()


# Input: any ISO 8601 datetime; naive means local time.
InstantIn = Annotated[datetime, AfterValidator(assume_local)]
# Output: ISO 8601 with the +07:00 offset.
InstantOut = Annotated[datetime, PlainSerializer(to_local, return_type=str)]
