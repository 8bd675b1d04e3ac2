"""Outbox and webhook tables.

No table here holds caller identity: outbox rows name a ticket event (ids only), message bodies
are built without the caller (app.outbox.render), caller.erased carries ticket references only.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class OutboxMessage(SQLModel, table=True):
    """One announcement, written with the change it announces; fanned out once."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The fan-out's work list: only rows not yet fanned out are indexed.
        Index(
            "ix_outbox_message_pending",
            "id",
            sqlite_where=text("dispatched_at IS NULL"),
            postgresql_where=text("dispatched_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    type: str = Field(max_length=40)
    # The ticket event announced (none for caller.erased); no foreign keys, so that the
    # outbox never holds up an erase or a purge.
    ticket_id: int | None = None
    event_id: int | None = None
    # Extra data for messages that are not a ticket event (caller.erased: references only).
    data: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    created_at: datetime = _utc()
    dispatched_at: datetime | None = _utc(default=None)


class WebhookEndpoint(SQLModel, table=True):
    """A subscription: where to send which message types, about which units' tickets."""

    __tablename__ = "webhook_endpoint"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_type=JSONType)
    # None: every unit's tickets.
    units: list[str] | None = Field(default=None, sa_type=JSONType)
    description: str | None = Field(default=None, max_length=500)
    secret: str = Field(max_length=100)
    # After a rotation the old secret still signs (a second signature) until this instant.
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_until: datetime | None = _utc(default=None)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    # The first failed attempt since the last success; the endpoint is disabled when it has
    # been failing for HOTLINE_WEBHOOK_DISABLE_AFTER_HOURS.
    failing_since: datetime | None = _utc(default=None)
    created_by: str = Field(max_length=120)
    created_at: datetime = _utc()
    updated_at: datetime = _utc()


class WebhookDelivery(SQLModel, table=True):
    """One message to one endpoint; its body and webhook-id are fixed for every attempt."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (
        # The relay's work list: deliveries still to attempt.
        Index(
            "ix_webhook_delivery_due",
            "next_attempt_at",
            sqlite_where=text("next_attempt_at IS NOT NULL"),
            postgresql_where=text("next_attempt_at IS NOT NULL"),
        ),
        Index("ix_webhook_delivery_endpoint_id_id", "endpoint_id", "id"),
        Index("ix_webhook_delivery_message_id", "message_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    endpoint_id: int = Field(foreign_key="webhook_endpoint.id")
    message_id: str = Field(max_length=40)  # the webhook-id header
    type: str = Field(max_length=40)
    ticket_id: int | None = None
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = _utc()
    # None: nothing left to do (delivered, given up, or endpoint disabled).
    next_attempt_at: datetime | None = _utc(default=None)
    attempts: int = 0
    delivered_at: datetime | None = _utc(default=None)
    failed_at: datetime | None = _utc(default=None)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery, for the delivery log."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True)
    at: datetime = _utc()
    status: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, max_length=500)


class MailMessage(SQLModel, table=True):
    """One e-mail to send (app.mail), queued by the fan-out with the same retries as webhooks.

    Holds a recipient address, which for a caller is personal data: erasure and retention
    delete a caller's mail (app.privacy.anonymise), and sent mail is purged like deliveries.
    """

    __tablename__ = "mail_message"
    __table_args__ = (
        Index(
            "ix_mail_message_due",
            "next_attempt_at",
            sqlite_where=text("next_attempt_at IS NOT NULL"),
            postgresql_where=text("next_attempt_at IS NOT NULL"),
        ),
        Index("ix_mail_message_ticket_id", "ticket_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    audience: str = Field(max_length=10)  # unit | caller
    unit_code: str | None = Field(default=None, max_length=80)
    ticket_id: int | None = None
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    # A unit on a digest gets its mail gathered into one at the digest's next boundary.
    digest: bool = False
    created_at: datetime = _utc()
    next_attempt_at: datetime | None = _utc(default=None)
    attempts: int = 0
    sent_at: datetime | None = _utc(default=None)
    failed_at: datetime | None = _utc(default=None)
    error: str | None = Field(default=None, max_length=500)
