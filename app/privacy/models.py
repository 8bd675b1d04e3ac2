"""Privacy tables: the append-only access log and the data-subject requests."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime


class AccessRecord(SQLModel, table=True):
    """Who read or changed personal data, when, through which route, and why. Append-only:
    the database refuses UPDATE and DELETE on it (triggers, see the migration)."""

    __tablename__ = "access_record"
    __table_args__ = (
        Index("ix_access_record_at", "at"),
        Index("ix_access_record_ticket_id_at", "ticket_id", "at"),
        Index("ix_access_record_actor_at", "actor", "at"),
        Index("ix_access_record_phone_hash", "phone_hash"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=120)
    role: str = Field(max_length=20)
    # reveal, caller_history, export, erasure, retention, legal_hold, legal_hold_lifted
    action: str = Field(max_length=30)
    route: str = Field(max_length=200)
    # No foreign key: the log outlives anything it names and is never cascaded.
    ticket_id: int | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    # HMAC of the E.164 phone with the audit key (app.privacy.keys), never the number.
    phone_hash: str | None = Field(default=None, max_length=64)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class DataSubjectRequest(SQLModel, table=True):
    """A citizen's request to access or erase what is held about them (Law 91/2025/QH15)."""

    __tablename__ = "data_subject_request"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # access or erasure
    request_ref: str = Field(max_length=120)
    legal_ground: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    phone_hash: str | None = Field(default=None, max_length=64, index=True)
    email_hash: str | None = Field(default=None, max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime)
    # Two working days on the office calendar after received_at (Decree 356/2025/NĐ-CP).
    due_at: datetime = Field(sa_type=UTCDateTime, index=True)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handled_by: str = Field(max_length=120)
    # What was done: tickets erased or exported, what was kept and why. No personal data.
    outcome: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)
