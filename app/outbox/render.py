"""Message bodies: `{"type", "timestamp", "data": {...}}`, under 20 KB.

`data` holds the ticket as an agent of its unit would read it, without the caller's identity
(receivers that need it call the API with a reveal, app.privacy), the event, the current
assignment with its due times, and a per-ticket sequence number for ordering.
"""

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, func, select, type_coerce, union
from sqlalchemy.ext.asyncio import AsyncSession

from app.privacy.masking import free_text_view
from app.tickets.models import Assignment, CoHandler, Ticket, TicketEvent
from app.tickets.service import TicketService
from app.users.permissions import Role
from app.users.principal import Principal

MAX_BODY_BYTES = 20_000


def dumps(body: dict[str, Any]) -> str:
    return orjson.dumps(body).decode()


def envelope(type_: str, timestamp: datetime, data: dict[str, Any]) -> dict[str, Any]:
    return {"type": type_, "timestamp": timestamp.isoformat(), "data": data}


async def involved_units(session: AsyncSession, ticket_id: int) -> set[str]:
    """Units a ticket concerns: assigned now or before, co-handling, or escalated to."""
    escalated = select(type_coerce(TicketEvent.details, JSON)["to_unit"].as_string()).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "escalated"
    )
    rows = await session.execute(
        union(
            select(Assignment.unit_code).where(Assignment.ticket_id == ticket_id),
            select(CoHandler.unit_code).where(CoHandler.ticket_id == ticket_id),
            escalated,
        )
    )
    return {code for (code,) in rows if code}


async def sequence_of(session: AsyncSession, ticket_id: int, event_id: int) -> int:
    """The event's place in its ticket's history (1, 2, …): receivers order by it."""
    return await session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.id <= event_id)
    )


async def ticket_message(
    service_for: Any,
    session: AsyncSession,
    type_: str,
    ticket: Ticket,
    event: TicketEvent,
    units: set[str],
) -> str:
    """The JSON body announcing `event` of `ticket`. `service_for(principal)` gives a
    TicketService reading as that principal."""
    agent = Principal(username="webhook", role=Role.UNIT_AGENT, units=frozenset(units))
    service: TicketService = service_for(agent)
    read = (await service.read(ticket)).model_dump(mode="json", exclude={"caller", "legal_hold"})
    # A machine output (viewer None): the caller's own name, phone and e-mail blanked in free
    # text too, whether or not the caller is confidential.
    for field in ("description", "address", "attachments"):
        read[field] = free_text_view(ticket, None, read[field])
    data = {
        "ticket": read,
        "event": {
            "id": event.id,
            "kind": event.kind,
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor,
            "details": free_text_view(ticket, None, event.details),
        },
        # The assignment the event concerns (its unit and due times), else the current one.
        "assignment": next(
            (a for a in read.get("assignments") or [] if a.get("id") == event.assignment_id),
            read.get("current_assignment"),
        ),
        "sequence": await sequence_of(session, ticket.id, event.id),
    }
    body = dumps(envelope(type_, event.occurred_at, data))
    if len(body.encode()) > MAX_BODY_BYTES:
        # The history of assignments is the part that grows; the current one stays.
        read["assignments"] = None
        body = dumps(envelope(type_, event.occurred_at, data))
    if len(body.encode()) > MAX_BODY_BYTES:
        read["description"] = read["description"][:2000]
        body = dumps(envelope(type_, event.occurred_at, data))
    return body
