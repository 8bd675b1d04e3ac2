"""Fan-out: each outbox row becomes one delivery per subscription that wants it.

Runs in every instance: rows are claimed with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so each
is fanned out once; the deliveries and the `dispatched_at` mark commit together. The body is
built here, once per message, and fixed for every attempt and every endpoint.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.mail.compose import mails_for
from app.mail.sender import rows_for as mail_rows
from app.outbox.models import MailMessage, OutboxMessage, WebhookDelivery, WebhookEndpoint
from app.outbox.render import dumps, envelope, involved_units, ticket_message
from app.tickets.models import Ticket, TicketEvent

# Message types that may cause e-mail (app.mail.compose).
MAIL_TYPES = frozenset(
    {"ticket.created", "ticket.assigned", "ticket.resolved", "sla.warning", "sla.breached"}
    | {"sla.escalated"}
)


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
) -> int:
    """Fan out up to `batch` pending outbox rows on the session's transaction; returns how many.
    `service_for(principal)` gives a TicketService (render). With `mail_catalog` (SMTP is
    configured), the e-mails the messages cause are queued too (app.mail)."""
    claim = (
        select(OutboxMessage)
        .where(OutboxMessage.dispatched_at.is_(None))
        .order_by(OutboxMessage.id)
        .limit(batch)
    )
    postgres = session.bind.dialect.name == "postgresql"
    if postgres:
        claim = claim.with_for_update(skip_locked=True)
    endpoints_query = select(WebhookEndpoint)
    if postgres:
        endpoints_query = endpoints_query.with_for_update(read=True, key_share=True)
    messages = (await session.execute(claim)).scalars().all()
    if not messages:
        return 0
    endpoints = (
        # Disabled endpoints too: their messages are parked, for a replay once enabled again.
        # FOR KEY SHARE: a subscription deleted meanwhile waits for this fan-out to commit.
        (await session.execute(endpoints_query)).scalars().all()
    )
    deliveries: list[dict[str, Any]] = []
    mail: list[dict[str, Any]] = []
    for message in messages:
        message.dispatched_at = now
        mailing = mail_catalog is not None and message.type in MAIL_TYPES
        if not mailing and not any(wants(e, message.type, None) for e in endpoints):
            continue
        units, body, ticket = await _body(session, message, service_for)
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
                "next_attempt_at": now if e.enabled else None,
                "attempts": 0,
            }
            for e in endpoints
            if wants(e, message.type, units)
        )
    if deliveries:
        await session.execute(insert(WebhookDelivery), deliveries)
    if mail:
        await session.execute(insert(MailMessage), mail)
    await session.flush()
    return len(messages)


async def _body(
    session: AsyncSession, message: OutboxMessage, service_for: Callable[[Any], Any]
) -> tuple[set[str] | None, str | None, Ticket | None]:
    if message.event_id is None:
        return None, dumps(envelope(message.type, message.created_at, message.data or {})), None
    ticket = await session.get(Ticket, message.ticket_id)
    event = await session.get(TicketEvent, message.event_id)
    if ticket is None or event is None:  # purged meanwhile: nothing left to announce
        return None, None, None
    units = await involved_units(session, ticket.id)
    body = await ticket_message(service_for, session, message.type, ticket, event, units)
    return units, body, ticket
