"""Filing a ticket: the facts routing sees, the first assignment, and Idempotency-Key replays.

The hot path of the service: routing and SLA planning run before anything is written, and the
rows go in together (one statement on PostgreSQL, see app.tickets.intake_pg).
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from app.catalog.area_errors import ambiguity_error
from app.catalog.catalog import AreaResolution
from app.db import field_values, trusted_instance
from app.errors import Conflict, ValidationFailed
from app.privacy.masking import searchable
from app.routing.schema import Decision, TicketFacts
from app.search.text import ticket_search_text
from app.tickets import repository as repo
from app.tickets.area_policy import UNATTENDED_CHANNELS, decide_intake, stored_resolution
from app.tickets.assigning import assigned_details, new_assignment
from app.tickets.assignment_clock import next_marks
from app.tickets.checks import check_instant, check_topic, read_address_area, read_area
from app.tickets.context import TicketContext
from app.tickets.idempotency_keys import get_idempotency_key
from app.tickets.intake_rows import NEW_ASSIGNMENT, IntakeRows
from app.tickets.lifecycle import Status
from app.tickets.models import Assignment, Ticket
from app.tickets.schemas import TicketCreate


@dataclass(frozen=True)
class Created:
    """What intake made: the ticket, its first assignment (None when no unit was found or
    when replayed) and whether it is the ticket an earlier request with the key made."""

    ticket: Ticket
    assignment: Assignment | None
    replayed: bool


class KeyInProgress(Conflict):
    """The first request with this Idempotency-Key has not finished: retry in a moment."""

    retry_after_seconds = 1


def _facts(ctx: TicketContext, data: TicketCreate) -> tuple[TicketFacts, AreaResolution | None]:
    """What routing sees of a ticket being filed (received_at checked, topic checked, each
    a 422 naming the field), and how its area was read (facts.area is None while the area
    text fits several current areas)."""
    resolution = read_area(ctx, data.area, ["area"])
    if resolution is None and data.address:
        resolution = read_address_area(ctx, data.address)
    facts = TicketFacts(
        topic=check_topic(ctx, data.topic, ["topic"]),
        area=resolution.code if resolution else None,
        channel=data.channel.value,
        priority=data.priority.value,
        description=data.description,
        received_at=check_instant(ctx, data.received_at or ctx.now, ["received_at"], None),
        confidential=data.caller.confidential,
    )
    return facts, resolution


def intake_facts(ctx: TicketContext, data: TicketCreate) -> TicketFacts:
    """The facts of a ticket as it would be filed, for explaining one decision: an area
    that fits several current areas is a 422 listing them (explain one of them)."""
    facts, resolution = _facts(ctx, data)
    if resolution is not None and resolution.ambiguous:
        why = "and a decision is explained for one area"
        raise ValidationFailed([ambiguity_error(["area"], resolution, why)])
    return facts


def _decision(
    ctx: TicketContext, data: TicketCreate
) -> tuple[TicketFacts, Decision, dict[str, Any] | None]:
    """Routing for a ticket being filed, and what it keeps about its area (see
    app.tickets.area_policy: an ambiguous area is asked, kept, or sent to triage)."""
    facts, resolution = _facts(ctx, data)
    if resolution is None:
        return facts, ctx.router(facts, frozenset()), None
    source = "area" if data.area and data.area.strip() else "address"
    if not resolution.ambiguous:
        return (
            facts,
            ctx.router(facts, frozenset()),
            stored_resolution(resolution, outcome="resolved", field=source),
        )
    decision, outcome = decide_intake(
        ctx.router,
        facts,
        resolution,
        frozenset(),
        triage_unit=ctx.catalog.triage_unit,
        attended=data.channel.value not in UNATTENDED_CHANNELS,
        loc=[source],
    )
    return facts, decision, stored_resolution(resolution, outcome=outcome, field=source)


def _ticket(
    ctx: TicketContext,
    data: TicketCreate,
    facts: TicketFacts,
    decision: Decision,
    area_resolution: dict[str, Any] | None,
    extra: dict[str, Any] | None,
) -> Ticket:
    """The new ticket row, not yet written (no id)."""
    received_at = facts.received_at
    row = {
        "channel": data.channel.value,
        "status": Status.ASSIGNED if decision.unit else Status.NEW,
        "priority": decision.priority or data.priority.value,
        "caller_name": data.caller.name,
        "caller_phone": data.caller.phone,
        "caller_email": data.caller.email,
        "anonymous": data.caller.anonymous,
        "confidential": data.caller.confidential,
        "description": data.description,
        "search_text": "",
        "topic_code": facts.topic,
        "area_code": facts.area,
        "area_resolution": area_resolution,
        "address": data.address,
        "latitude": data.latitude,
        "longitude": data.longitude,
        "attachments": [str(u) for u in data.attachments],
        "tags": list(decision.tags),
        "received_at": received_at,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "last_event_at": received_at,
        "current_unit_code": decision.unit,
        "created_by": ctx.actor,
        "version": 1,
        "public": data.public or data.channel == "open311",
        "callback_requested": data.callback_requested,
        **(extra or {}),
    }
    ticket = trusted_instance(Ticket, row)
    ticket.search_text = searchable(ticket, ticket_search_text(ticket))
    return ticket


async def create(
    ctx: TicketContext,
    data: TicketCreate,
    idempotency_key: str | None,
    extra: dict[str, Any] | None = None,
) -> Created:
    """File a ticket with its first assignment and events, routed at once.

    `extra`: more ticket columns written with it (Open311's citizen ids and attributes).
    With an `idempotency_key` the same filer's retry gets the first ticket back (replayed);
    Conflict when the key came with another body, KeyInProgress while the first request
    with it has not finished. 422 (naming the field) for an unknown topic, an unreadable or
    (with a caller on the line) ambiguous area, or a received_at in the future.
    """
    facts, decision, area_resolution = _decision(ctx, data)
    received_at = facts.received_at
    ticket = _ticket(ctx, data, facts, decision, area_resolution, extra)
    # Ids are not known yet: write_intake fills in the ticket's and the assignment's.
    events = [ctx.event_row(0, "created", received_at, None, {"channel": ticket.channel})]
    assignment = None
    if decision.unit:
        # The first clock starts when the call came in, not when it was typed in.
        assignment = new_assignment(ctx, ticket, decision.unit, received_at, decision)
        ticket.sla_due_at, ticket.sla_warn_at = next_marks(assignment)
        details = assigned_details(decision)
        events.append(ctx.event_row(0, "assigned", received_at, NEW_ASSIGNMENT, details))
    else:
        events.append(ctx.event_row(0, "unrouted", received_at, None, {}))
    key = None
    if idempotency_key is not None:
        key = {
            "actor": ctx.actor,
            "key": idempotency_key,
            # What the filer sent: the ticket's fields and, from a channel adapter, the
            # columns it adds (Open311's attributes, account): a change in either is another
            # request.
            "request_hash": _hash(
                {**data.model_dump(mode="json"), **({"extra": extra} if extra else {})}
            ),
            "created_at": ctx.now,
        }
    rows = IntakeRows(
        ticket=field_values(ticket),
        assignment=field_values(assignment) if assignment else None,
        co_handlers=decision.co_handlers if assignment else (),
        events=events,
        key=key,
    )
    written = await repo.write_intake(ctx.session, rows)
    if written is None:
        assert key is not None
        replayed = await _replay(ctx, key["key"], key["request_hash"])
        ctx.own_intake_id = replayed.id  # the same filer, the same body
        return Created(replayed, None, replayed=True)
    ticket.id, assignment_id = written
    ctx.own_intake_id = ticket.id
    if assignment is not None and assignment_id is not None:
        assignment.id, assignment.ticket_id = assignment_id, ticket.id
    return Created(ticket, assignment, replayed=False)


async def _replay(ctx: TicketContext, key: str, request_hash: str) -> Ticket:
    """The ticket the first request with this key filed, if this request is the same."""
    stored = await get_idempotency_key(ctx.session, actor=ctx.actor, key=key)
    if stored is None or stored.ticket_id is None:
        # The first request with this key is still running or failed: ask to retry.
        raise KeyInProgress(
            f"A request with Idempotency-Key '{key}' is in progress; retry in a moment."
        )
    if stored.request_hash != request_hash:
        raise Conflict(
            f"Idempotency-Key '{key}' was already used with a different request body; "
            "use a new key for a new ticket."
        )
    ticket = await repo.get_ticket(ctx.session, ticket_id=stored.ticket_id)
    assert ticket is not None
    return ticket


def _hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()
