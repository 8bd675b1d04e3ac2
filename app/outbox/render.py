"""Message bodies: `{"type", "timestamp", "data": {...}}`, under 20 KB.

`data` holds the ticket as an agent of its unit would read it, without the caller's identity
(receivers that need it call the API with a reveal, app.privacy), the event, the current
assignment with its due times, and a per-ticket sequence number for ordering.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

import orjson
from sqlalchemy import JSON, bindparam, func, select, type_coerce, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from app.privacy.masking import machine_view
from app.tickets.loaded import LoadedTicket
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
    return (await involved_units_of(session, {ticket_id})).get(ticket_id, set())


# The batch queries are built once, with the ids as one expanding parameter: building them
# for every batch (an aliased table, four IN lists) was most of a small batch's CPU.
_IDS = bindparam("ids", expanding=True)
_UNITS_OF = union(
    select(Assignment.ticket_id, Assignment.unit_code).where(Assignment.ticket_id.in_(_IDS)),
    select(CoHandler.ticket_id, CoHandler.unit_code).where(CoHandler.ticket_id.in_(_IDS)),
    select(
        TicketEvent.ticket_id, type_coerce(TicketEvent.details, JSON)["to_unit"].as_string()
    ).where(TicketEvent.ticket_id.in_(_IDS), TicketEvent.kind == "escalated"),
)
_EARLIER = aliased(TicketEvent)
_EVENTS_WITH_SEQUENCES = select(
    TicketEvent.__table__,
    select(func.count(_EARLIER.id))
    .where(
        _EARLIER.ticket_id == TicketEvent.__table__.c.ticket_id,
        _EARLIER.id <= TicketEvent.__table__.c.id,
    )
    .scalar_subquery()
    .label("sequence"),
).where(TicketEvent.__table__.c.id.in_(_IDS))


async def involved_units_of(session: AsyncSession, ticket_ids: set[int]) -> dict[int, set[str]]:
    """involved_units for many tickets in one query: ticket id -> unit codes (a ticket with
    none is absent)."""
    if not ticket_ids:
        return {}
    rows = await session.execute(_UNITS_OF, {"ids": list(ticket_ids)})
    units: dict[int, set[str]] = {}
    for ticket_id, code in rows:
        if code:
            units.setdefault(ticket_id, set()).add(code)
    return units


async def sequence_of(session: AsyncSession, ticket_id: int, event_id: int) -> int:
    """The event's place in its ticket's history (1, 2, …): receivers order by it."""
    return await session.scalar(
        select(func.count())
        .select_from(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.id <= event_id)
    )


async def events_with_sequences(session: AsyncSession, event_ids: set[int]) -> dict[int, Any]:
    """Events by id, as rows with TicketEvent's columns and `sequence`, the event's place in
    its ticket's history (sequence_of), in one query; an event that no longer exists is
    absent."""
    if not event_ids:
        return {}
    rows = await session.execute(_EVENTS_WITH_SEQUENCES, {"ids": list(event_ids)})
    return {row.id: row for row in rows}


async def read_for_units(
    service_for: Any, ticket: Ticket, units: set[str], known: LoadedTicket | None = None
) -> Any:
    """The ticket as an agent of `units` reads it (a TicketRead): `service_for(principal)`
    gives a TicketService reading as that principal; `known`: its assignments and pauses,
    loaded already (app.tickets.loaded.load_many), else loaded here."""
    agent = Principal(username="webhook", role=Role.UNIT_AGENT, units=frozenset(units))
    service: TicketService = service_for(agent)
    return await service.read(ticket, known)


@dataclass(frozen=True)
class TicketView:
    """What every message about one ticket in a batch shares: the read as JSON without the
    caller block and with the caller's identity blanked in its free text, and the scrubber
    (app.privacy.masking.machine_view) for each event's own details. Built once per ticket:
    scrubbing is most of a body's CPU (a pattern per name and number, text folded)."""

    read: dict[str, Any]
    scrub: Callable[[Any], Any]

    @cached_property
    def dumped(self) -> orjson.Fragment:
        """`read` serialised once, for every message about the ticket (a body embeds it as
        is: orjson writes a Fragment's bytes unchanged)."""
        return orjson.Fragment(orjson.dumps(self.read))


def view_of(ticket: Ticket, read: Any) -> TicketView:
    """The TicketView of `ticket` from `read` (read_for_units). Pure."""
    scrub = machine_view(ticket)
    # Without the caller block, and without each reporting call's caller either (an
    # original's read lists every call that reported it, callers as a unit agent sees them).
    data = read.model_dump(
        mode="json",
        exclude={"caller": True, "legal_hold": True, "reporters": {"__all__": {"caller"}}},
    )
    # A machine output (viewer None): the caller's own name, phone and e-mail blanked in free
    # text too, whether or not the caller is confidential.
    for field in ("description", "address", "attachments"):
        data[field] = scrub(data[field])
    return TicketView(data, scrub)


async def ticket_message(
    service_for: Any,
    session: AsyncSession,
    type_: str,
    ticket: Ticket,
    event: TicketEvent,
    units: set[str],
) -> str:
    """The JSON body announcing `event` of `ticket`. `service_for(principal)` gives a
    TicketService reading as that principal. One message; app.outbox.fanout renders a batch
    with the same parts (read_for_units, view_of, events_with_sequences, ticket_body)."""
    read = await read_for_units(service_for, ticket, units)
    sequence = await sequence_of(session, ticket.id, event.id)
    return ticket_body(type_, event, view_of(ticket, read), sequence)


def ticket_body(type_: str, event: Any, view: TicketView, sequence: int) -> str:
    """The JSON body announcing `event` (a TicketEvent or a row with its columns), from `view`
    (view_of: the ticket as its units' agents read it, without the caller; not changed) and
    the event's `sequence` in the ticket's history. Pure. Under MAX_BODY_BYTES: the
    assignment history, then the description, give way."""
    read = view.read
    data = {
        "ticket": view.dumped,  # the same bytes as `read`, serialised once per ticket
        "event": {
            "id": event.id,
            "kind": event.kind,
            "occurred_at": event.occurred_at.isoformat(),
            "actor": event.actor,
            "details": view.scrub(event.details),
        },
        # The assignment the event concerns (its unit and due times), else the current one.
        "assignment": next(
            (a for a in read.get("assignments") or [] if a.get("id") == event.assignment_id),
            read.get("current_assignment"),
        ),
        "sequence": sequence,
    }
    body = orjson.dumps(envelope(type_, event.occurred_at, data))
    if len(body) > MAX_BODY_BYTES:
        # The history of assignments is the part that grows; the current one stays.
        data["ticket"] = read = dict(read)  # only top-level keys are replaced
        read["assignments"] = None
        body = orjson.dumps(envelope(type_, event.occurred_at, data))
    if len(body) > MAX_BODY_BYTES:
        read["description"] = read["description"][:2000]
        body = orjson.dumps(envelope(type_, event.occurred_at, data))
    return body.decode()
