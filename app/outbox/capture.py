"""Writing outbox rows in the same transaction as the ticket events they announce.

Three ways write ticket events, and each writes the outbox rows beside them:
- the ORM (TicketService actions, legal holds): a flush hook on every Session adds one outbox row
  per announced event flushed, in that flush's transaction;
- Core bulk inserts (SQLite intake, the SLA scan): `insert_events` inserts the events with
  RETURNING and their outbox rows in the same transaction;
- PostgreSQL's one-statement intake: a data-modifying CTE (app.tickets.intake_pg.outbox_cte).

So a rolled-back change leaves no message, and a committed change always has its message.
The outbox row is small (ids and type): the body is built once, later, by the fan-out.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import Session

from app.outbox.models import OutboxMessage
from app.outbox.types import EVENT_TYPES
from app.tickets.models import TicketEvent

NOTIFY_CHANNEL = "hotline_outbox"
_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")
_INSERT_OUTBOX = insert(OutboxMessage)
_INSERT_EVENTS = insert(TicketEvent).returning(
    TicketEvent.id, TicketEvent.ticket_id, TicketEvent.kind, TicketEvent.recorded_at
)


def outbox_rows(events: Iterable[tuple[int, int, str, datetime]]) -> list[dict[str, Any]]:
    """Outbox rows for (event id, ticket id, kind, recorded_at) tuples; unannounced kinds skipped."""
    return [
        {
            "type": EVENT_TYPES[kind],
            "ticket_id": ticket_id,
            "event_id": event_id,
            "data": None,
            "created_at": at,
            "dispatched_at": None,
        }
        for event_id, ticket_id, kind, at in events
        if kind in EVENT_TYPES
    ]


async def insert_events(connection: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Append ticket events and their outbox rows, on the caller's transaction."""
    if not rows:
        return
    written = (await connection.execute(_INSERT_EVENTS, rows)).all()
    announced = outbox_rows(written)
    if announced:
        await connection.execute(_INSERT_OUTBOX, announced)
        await notify(connection)


async def announce(
    connection: AsyncConnection, type_: str, data: dict[str, Any], at: datetime
) -> None:
    """An outbox row that is no ticket event (e.g. caller.erased), on the caller's transaction."""
    await connection.execute(
        _INSERT_OUTBOX,
        [{"type": type_, "ticket_id": None, "event_id": None, "data": data, "created_at": at}],
    )
    await notify(connection)


async def notify(connection: AsyncConnection) -> None:
    """Wake the relays at commit (PostgreSQL; SQLite's single relay polls)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(_NOTIFY)


@event.listens_for(Session, "after_flush")
def _announce_flushed_events(session: Session, _context: Any) -> None:
    """Outbox rows for the ticket events this flush wrote (their ids are known now)."""
    written = [
        (obj.id, obj.ticket_id, obj.kind, obj.recorded_at)
        for obj in session.new
        if isinstance(obj, TicketEvent)
    ]
    announced = outbox_rows(written)
    if not announced:
        return
    connection = session.connection()
    connection.execute(_INSERT_OUTBOX, announced)
    if connection.dialect.name == "postgresql":
        # Delivered to listeners at commit, not at all on rollback.
        connection.execute(_NOTIFY)
