"""Ticket tables: the ticket, its assignments (the SLA unit of account), pauses and events."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, Text, text
from sqlmodel import Field, SQLModel

from app.db import JSONType, UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Ticket(SQLModel, table=True):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_received_at_id", "received_at", "id"),
        Index("ix_ticket_status_received_at", "status", "received_at"),
        Index("ix_ticket_current_unit_received_at", "current_unit_code", "received_at"),
        Index("ix_ticket_sla_due_at_id", "sla_due_at", "id"),
        # Duplicate suggestions read an area's newest tickets (app.search.similar).
        Index("ix_ticket_area_code_received_at", "area_code", "received_at"),
        # An original's reporters (app.search.reporters): only duplicates are indexed.
        Index(
            "ix_ticket_duplicate_of_id",
            "duplicate_of_id",
            sqlite_where=text("duplicate_of_id IS NOT NULL"),
            postgresql_where=text("duplicate_of_id IS NOT NULL"),
        ),
        # The callback queue (app.console.callbacks) reads only the tickets whose caller asked
        # to be told the outcome: a few, however many tickets there are.
        Index(
            "ix_ticket_callback_requested_status",
            "status",
            sqlite_where=text("callback_requested"),
            postgresql_where=text("callback_requested"),
        ),
        # Supervisors sort by "reported N times".
        Index("ix_ticket_reports_count_id", "reports_count", "id"),
        # Retention's work lists (app.privacy.retention): only ended tickets whose kind of data
        # is not yet anonymised are indexed, so each run reads what is left, not every ticket.
        *(
            Index(
                f"ix_ticket_retention_{kind}",
                "last_event_at",
                sqlite_where=text(where),
                postgresql_where=text(where),
            )
            for kind, done in (
                ("caller", "caller_anonymised_at"),
                ("description", "description_redacted_at"),
                ("attachments", "attachments_removed_at"),
            )
            for where in (f"{done} IS NULL AND status IN ('closed', 'cancelled', 'duplicate')",)
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    status: str = Field(max_length=20)
    priority: str = Field(max_length=10)
    caller_name: str | None = Field(default=None, max_length=200)
    caller_phone: str | None = Field(default=None, max_length=20, index=True)
    caller_email: str | None = Field(default=None, max_length=254)
    anonymous: bool = False
    confidential: bool = False
    description: str = Field(sa_column=Column(Text, nullable=False))
    # Folded description + address (no diacritics, lower case) for `q` search on both databases.
    search_text: str = Field(sa_column=Column(Text, nullable=False))
    topic_code: str | None = Field(
        default=None, foreign_key="topic.code", max_length=80, index=True
    )
    area_code: str | None = Field(default=None, foreign_key="area.code", max_length=80, index=True)
    # How the area text was read (app.tickets.area_policy.stored_resolution): input, how, what
    # each part was read as, and the candidates while the area is not settled (area_code null).
    area_resolution: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = None
    longitude: float | None = None
    attachments: list[str] = Field(default_factory=list, sa_type=JSONType)
    # Set by routing rules (e.g. "khan-cap", "goi-lai"), for filtering and reports.
    tags: list[str] = Field(default_factory=list, sa_type=JSONType)
    received_at: datetime = _utc()
    created_at: datetime = _utc()
    updated_at: datetime = _utc()
    # The latest occurred_at in the history: back-dated actions may not go before it.
    last_event_at: datetime = _utc()
    current_unit_code: str | None = Field(default=None, foreign_key="unit.code", max_length=80)
    duplicate_of_id: int | None = Field(default=None, foreign_key="ticket.id")
    # How many calls reported this problem: 1 + the duplicates linked to it (app.search.reporters).
    reports_count: int = 1
    # The current assignment's next open due and warning instants (None: none, or paused), kept
    # here so that `sla_state` filters and `sort=due` need no join.
    sla_due_at: datetime | None = _utc(default=None)
    sla_warn_at: datetime | None = _utc(default=None)
    created_by: str = Field(max_length=120)
    # Bumped on every change; exposed as the ETag for If-Match.
    version: int = 1
    # Personal data (app.privacy): when retention or an erasure anonymised each kind of data,
    # and a supervisor's legal hold, which keeps the ticket out of both until lifted.
    caller_anonymised_at: datetime | None = _utc(default=None)
    description_redacted_at: datetime | None = _utc(default=None)
    attachments_removed_at: datetime | None = _utc(default=None)
    legal_hold_reason: str | None = Field(default=None, max_length=2000)
    legal_hold_by: str | None = Field(default=None, max_length=120)
    legal_hold_at: datetime | None = _utc(default=None)
    # Open311 (app.open311): shown to the public (filed through Open311, or marked by an
    # operator); the citizen app's own ids for its user (personal data, app.privacy erases
    # them); the answers to the service's attributes ({code: value or [values]}).
    public: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    citizen_account_id: str | None = Field(default=None, max_length=120, index=True)
    citizen_device_id: str | None = Field(default=None, max_length=120)
    service_attributes: dict[str, Any] | None = Field(default=None, sa_type=JSONType)
    # The caller asked to be told the outcome: once resolved, an operator calls back and records
    # it (the `caller-informed` action); until then the ticket is on the callback queue.
    callback_requested: bool = Field(
        default=False, sa_column_kwargs={"server_default": text("false")}
    )


class Assignment(SQLModel, table=True):
    """One responding unit's piece of work on one ticket."""

    __tablename__ = "assignment"
    __table_args__ = (
        # Reports select assignments by the period they were assigned in.
        Index("ix_assignment_assigned_at", "assigned_at"),
        # Percentiles of response times, per unit and overall: read in order (index-only on
        # PostgreSQL), so that percentile_cont gets presorted input. Partial: an assignment
        # enters them only once the unit has responded, never on the intake path.
        *(
            Index(
                f"ix_assignment_{name}",
                *lead,
                column,
                postgresql_include=["assigned_at"],
                sqlite_where=text(f"{column} IS NOT NULL"),
                postgresql_where=text(f"{column} IS NOT NULL"),
            )
            for target in ("acknowledge", "resolve")
            for column in (f"{target}_working_seconds",)
            for name, lead in (
                (f"unit_{target}_seconds", ("unit_code",)),
                (f"{target}_seconds", ()),
            )
        ),
        # At most one open assignment per ticket, enforced by the database.
        Index(
            "uq_assignment_open_per_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # The SLA scan's work lists: only targets still open and not yet flagged are indexed,
        # so the scan stays fast however many assignments there are.
        *(
            Index(
                f"ix_assignment_{target}_{kind}_pending",
                f"{target}_{column}",
                sqlite_where=text(where),
                postgresql_where=text(where),
            )
            for target, open_ in (
                ("acknowledge", "acknowledged_at IS NULL AND ended_at IS NULL"),
                ("resolve", "ended_at IS NULL"),
            )
            for kind, column, flag in (
                ("breach", "due_at", "breached_at"),
                ("warning", "warn_at", "warned_at"),
            )
            for where in (f"{target}_{flag} IS NULL AND {open_}",)
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    unit_code: str = Field(foreign_key="unit.code", max_length=80, index=True)
    assigned_at: datetime = _utc()
    acknowledged_at: datetime | None = _utc(default=None)
    resolved_at: datetime | None = _utc(default=None)
    ended_at: datetime | None = _utc(default=None)
    outcome: str | None = Field(default=None, max_length=20)
    rule_id: str | None = Field(default=None, max_length=120)
    ruleset_version: str | None = Field(default=None, max_length=64)
    sla_policy: str | None = Field(default=None, max_length=80)
    acknowledge_due_at: datetime | None = _utc(default=None)
    resolve_due_at: datetime | None = _utc(default=None)
    acknowledge_warn_at: datetime | None = _utc(default=None)
    resolve_warn_at: datetime | None = _utc(default=None)
    # When the scan (or a late completion) wrote each event: set once, never cleared.
    acknowledge_warned_at: datetime | None = _utc(default=None)
    acknowledge_breached_at: datetime | None = _utc(default=None)
    resolve_warned_at: datetime | None = _utc(default=None)
    resolve_breached_at: datetime | None = _utc(default=None)
    # Stamped when each target is done (app.sla.done_times / response_seconds): when the unit
    # responded, and the seconds it took on the SLA clock (working time, or plain time for a
    # calendar-mode target; pauses left out). The SLA report judges and ranks these in SQL.
    acknowledge_done_at: datetime | None = _utc(default=None)
    resolve_done_at: datetime | None = _utc(default=None)
    acknowledge_working_seconds: int | None = None
    resolve_working_seconds: int | None = None


class CoHandler(SQLModel, table=True):
    """A unit informed of an assignment (not its owner): its agents may read and comment."""

    __tablename__ = "co_handler"

    assignment_id: int = Field(foreign_key="assignment.id", primary_key=True)
    unit_code: str = Field(foreign_key="unit.code", primary_key=True, max_length=80, index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)


class AssignmentPause(SQLModel, table=True):
    """A stretch spent waiting for the citizen: the assignment's SLA clock is stopped."""

    __tablename__ = "assignment_pause"

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    started_at: datetime = _utc()
    ended_at: datetime | None = _utc(default=None)


class TicketEvent(SQLModel, table=True):
    """Append-only history of a ticket."""

    __tablename__ = "ticket_event"
    __table_args__ = (
        Index("ix_ticket_event_ticket_id_id", "ticket_id", "id"),
        # The resolutions that were reopened (few): the SLA report's `reopened` counts them.
        Index(
            "ix_ticket_event_reopened_assignment",
            "assignment_id",
            sqlite_where=text("kind = 'reopened'"),
            postgresql_where=text("kind = 'reopened'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    kind: str = Field(max_length=40)
    occurred_at: datetime = _utc()
    recorded_at: datetime = _utc()
    actor: str = Field(max_length=120)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSONType)


class IdempotencyKey(SQLModel, table=True):
    """A client's Idempotency-Key and the ticket its first request created."""

    __tablename__ = "idempotency_key"

    actor: str = Field(primary_key=True, max_length=120)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = _utc(index=True)
