"""Fan-out: each outbox row becomes one delivery per subscription that wants it.

Runs in every instance: rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so each
is fanned out once; the deliveries and the `dispatched_at` mark commit together. The body is
built here, once per message, and fixed for every attempt and every endpoint.
"""

from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Integer, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.db import UTCDateTime
from app.mail.compose import mails_for
from app.mail.sender import rows_for as mail_rows
from app.outbox.delivery import LEASE, Claimed, next_due, signing_secrets
from app.outbox.models import MailMessage, OutboxMessage, WebhookDelivery, WebhookEndpoint
from app.outbox.render import (
    dumps,
    envelope,
    events_with_sequences,
    involved_units_of,
    read_for_units,
    ticket_body,
    view_of,
)
from app.tickets.loaded import load_many
from app.tickets.models import Ticket

# Message types that may cause e-mail (app.mail.compose).
MAIL_TYPES = frozenset(
    {"ticket.created", "ticket.assigned", "ticket.resolved", "sla.warning", "sla.breached"}
    | {"sla.escalated"}
)


_TICKETS = select(Ticket).where(Ticket.id.in_(bindparam("ids", expanding=True)))
_ENDPOINTS = select(WebhookEndpoint)
# FOR KEY SHARE: a subscription deleted meanwhile waits for this fan-out to commit.
_ENDPOINTS_PG = _ENDPOINTS.with_for_update(read=True, key_share=True)


def message_id(outbox_id: int) -> str:
    """The webhook-id of an outbox message: the same for every attempt and every replay."""
    return f"msg_{outbox_id}"


def wants(endpoint: WebhookEndpoint, type_: str, units: set[str] | None) -> bool:
    """Whether a subscription gets this message. `units` None: not about a ticket (every
    subscription to the type gets it). Empty `events` means every type."""
    if endpoint.events and type_ not in endpoint.events:
        return False
    if endpoint.units is None or units is None:
        return True
    return bool(units & set(endpoint.units))


async def fan_out(
    session: AsyncSession,
    *,
    now: datetime,
    service_for: Callable[[Any], Any],
    batch: int = 200,
    mail_catalog: Catalog | None = None,
    leased: list[Claimed] | None = None,
) -> int:
    """Fan out up to `batch` pending outbox rows on the session's transaction; returns how many.
    `service_for(principal)` gives a TicketService (render). With `mail_catalog` (SMTP is
    configured), the e-mails the messages cause are queued too (app.mail).

    With `leased`, the deliveries due at once are written already claimed (their first
    attempt counted, the next one a lease ahead, as app.outbox.delivery.claim leaves them)
    and appended to it: the caller sends them after the commit without claiming them back,
    which read every body back from the database. A caller that dies first leaves them to be
    claimed when the lease runs out, as a claim would."""
    postgres = session.bind.dialect.name == "postgresql"
    connection = await session.connection()
    # Claimed and marked fanned out in one statement (the mark commits with the deliveries).
    claimed = await connection.execute(_claim(postgres), {"now": now, "batch": batch})
    messages = sorted(claimed.all(), key=lambda m: m.id)
    if not messages:
        return 0
    endpoints = (
        # Disabled endpoints too: their messages are parked, for a replay once enabled again.
        (await session.execute(_ENDPOINTS_PG if postgres else _ENDPOINTS)).scalars().all()
    )
    # A failing endpoint's new messages wait for its next probe (app.outbox.delivery.hold).
    due = {e.id: next_due(e, now) for e in endpoints}
    deliveries: list[dict[str, Any]] = []
    mail: list[dict[str, Any]] = []
    wanted = [
        m
        for m in messages
        if (mail_catalog is not None and m.type in MAIL_TYPES)
        or any(wants(e, m.type, None) for e in endpoints)
    ]
    bodies = await _bodies(session, wanted, service_for)
    for message in wanted:
        mailing = mail_catalog is not None and message.type in MAIL_TYPES
        units, body, ticket = bodies[message.id]
        if body is None:
            continue
        if mailing and ticket is not None:
            caller_email = None if ticket.anonymous else ticket.caller_email
            mails = mails_for(mail_catalog, orjson.loads(body), caller_email, ticket.confidential)
            mail += mail_rows(mails, mail_catalog, ticket.id, now)
        deliveries.extend(
            {
                "endpoint_id": e.id,
                "message_id": message_id(message.id),
                "type": message.type,
                "ticket_id": message.ticket_id,
                "body": body,
                "created_at": now,
                "next_attempt_at": due[e.id],
                "attempts": 0,
            }
            for e in endpoints
            if wants(e, message.type, units)
        )
    if leased is not None:
        due = [d for d in deliveries if d["next_attempt_at"] == now]
        deliveries = [d for d in deliveries if d["next_attempt_at"] != now]
        leased += await _insert_leased(connection, due, endpoints, now)
    if deliveries:
        # Core executemany: no ORM bookkeeping for up to `batch` x subscriptions rows.
        await connection.execute(insert(WebhookDelivery.__table__), deliveries)
    if mail:
        await session.execute(insert(MailMessage), mail)
    return len(messages)


async def _insert_leased(
    connection: Any, due: list[dict[str, Any]], endpoints: Any, now: datetime
) -> list[Claimed]:
    """Insert deliveries due `now` as claimed (delivery.claim's lease); returns them."""
    if not due:
        return []
    for d in due:
        d["next_attempt_at"], d["attempts"] = now + LEASE, 1
    table = WebhookDelivery.__table__
    statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    ids = (await connection.execute(statement, due)).scalars().all()
    by_id = {e.id: e for e in endpoints}
    return [
        Claimed(
            delivery_id,
            d["endpoint_id"],
            d["message_id"],
            d["body"],
            1,
            by_id[d["endpoint_id"]].url,
            signing_secrets(by_id[d["endpoint_id"]], now),
        )
        for delivery_id, d in zip(ids, due, strict=True)
    ]


@lru_cache(maxsize=2)
def _claim(postgres: bool) -> Any:
    """UPDATE … RETURNING: up to :batch pending outbox rows, oldest first, marked fanned out
    at :now (SKIP LOCKED on PostgreSQL: each row is fanned out by one relay; the pending
    condition is checked again under the lock). Built once per dialect."""
    table = OutboxMessage.__table__
    pending = (
        select(table.c.id)
        .where(table.c.dispatched_at.is_(None))
        .order_by(table.c.id)
        .limit(bindparam("batch", type_=Integer))
    )
    if postgres:
        pending = pending.with_for_update(skip_locked=True)
    return (
        update(table)
        .where(table.c.id.in_(pending.scalar_subquery()), table.c.dispatched_at.is_(None))
        .values(dispatched_at=bindparam("now", type_=UTCDateTime))
        .returning(
            table.c.id,
            table.c.type,
            table.c.ticket_id,
            table.c.event_id,
            table.c.data,
            table.c.created_at,
        )
    )


async def _bodies(
    session: AsyncSession, messages: list[Any], service_for: Callable[[Any], Any]
) -> dict[int, tuple[set[str] | None, str | None, Ticket | None]]:
    """Each message's (units concerned, body, ticket) by outbox id; body None when its ticket
    or event was purged meanwhile (nothing left to announce).

    `messages`: claimed outbox rows (_claim). A batch at once: its tickets, its events with
    their sequence numbers, units, and assignments in four queries, and each ticket read and scrubbed once however many of its events the batch
    announces (a new ticket brings two: created and assigned). The read is of the ticket as it
    is now, as one message alone would read it."""
    about = [m for m in messages if m.event_id is not None]
    ticket_ids = {m.ticket_id for m in about if m.ticket_id is not None}
    event_ids = {m.event_id for m in about if m.event_id is not None}
    tickets = {}
    events = {}
    if about:
        found = await session.execute(_TICKETS, {"ids": list(ticket_ids)})
        tickets = {t.id: t for t in found.scalars()}
        events = await events_with_sequences(session, event_ids)
    units_of = await involved_units_of(session, set(tickets))
    loaded = await load_many(session, list(tickets.values()))
    views: dict[int, Any] = {}
    bodies: dict[int, tuple[set[str] | None, str | None, Ticket | None]] = {}
    for message in messages:
        if message.event_id is None:
            data = message.data or {}
            bodies[message.id] = (
                None,
                dumps(envelope(message.type, message.created_at, data)),
                None,
            )
            continue
        ticket, event = tickets.get(message.ticket_id), events.get(message.event_id)
        if ticket is None or event is None:
            bodies[message.id] = (None, None, None)
            continue
        units = units_of.get(ticket.id, set())
        if ticket.id not in views:
            read = await read_for_units(service_for, ticket, units, loaded[ticket.id])
            views[ticket.id] = view_of(ticket, read)
        body = ticket_body(message.type, event, views[ticket.id], event.sequence)
        bodies[message.id] = (units, body, ticket)
    return bodies
