"""Open311 tables: citizens' feedback on a resolution, and the lookup throttle."""

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime


class TicketFeedback(SQLModel, table=True):
    """A citizen's answer after a resolution: was it fixed, how good was it. One per resolution
    (the resolved assignment), whether it came from the app or an operator's callback."""

    __tablename__ = "ticket_feedback"
    __table_args__ = (UniqueConstraint("assignment_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    assignment_id: int = Field(foreign_key="assignment.id")
    unit_code: str = Field(max_length=80, index=True)
    fixed: str = Field(max_length=8)  # yes | no | partly
    rating: int | None = None  # 1-5
    # The citizen's own words: free text that may name them, so app.privacy redacts it.
    comment: str | None = Field(default=None, sa_column=Column(Text))
    channel: str = Field(max_length=16)  # open311 | callback
    recorded_by: str = Field(max_length=120)
    recorded_at: datetime = Field(sa_type=UTCDateTime, index=True)


class LookupThrottle(SQLModel, table=True):
    """Status lookups per client address in the current window (references cannot be walked)."""

    __tablename__ = "lookup_throttle"

    client: str = Field(primary_key=True, max_length=64)
    count: int = 0
    window_started_at: datetime = Field(sa_type=UTCDateTime)
