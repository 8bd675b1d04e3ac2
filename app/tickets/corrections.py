"""Operator corrections (PATCH): topic, area, priority, description, address, public, and
whether the caller asked to be told the outcome (callback_requested).

A corrected topic or area routes the ticket again while no unit has taken it yet.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from app.errors import ValidationFailed, field_error
from app.privacy.masking import searchable
from app.search.text import ticket_search_text
from app.tickets import loaded as loading
from app.tickets.area_policy import decide_intake, stored_resolution
from app.tickets.assigning import decide, end, facts_of, route
from app.tickets.checks import check_topic, read_area
from app.tickets.context import TicketContext
from app.tickets.lifecycle import Status
from app.tickets.loaded import LoadedTicket
from app.tickets.models import Ticket
from app.tickets.schemas import TicketUpdate

ROUTED_BY = {"topic_code", "area_code", "area_resolution"}


async def update(ctx: TicketContext, ticket: Ticket, data: TicketUpdate) -> Ticket:
    """Apply the fields sent to a ticket row-locked by the caller; each change is an
    `updated` event with its old and new value. 422 for a field that cannot be removed or a
    value that does not fit (unknown topic, an unreadable or ambiguous area)."""
    fields = data.model_dump(exclude_unset=True)
    for required in ("description", "public", "callback_requested"):
        if required in fields and fields[required] is None:
            raise ValidationFailed([field_error([required], "cannot be removed")])
    new_values: dict[str, Any] = {}
    if "topic" in fields:
        new_values["topic_code"] = check_topic(ctx, fields["topic"], ["topic"])
    if "area" in fields:
        new_values.update(corrected_area(ctx, ticket, fields["area"], new_values))
    for name in ("priority", "description", "address", "public", "callback_requested"):
        if name in fields:
            new_values[name] = fields[name]
    # An anonymised caller's phone may be a retention pseudonym: not a number to call.
    reachable = (ticket.caller_phone or ticket.caller_email) and not ticket.caller_anonymised_at
    if new_values.get("callback_requested") and not reachable:
        raise ValidationFailed(
            [
                field_error(
                    ["callback_requested"],
                    "the ticket has no caller phone or e-mail to call back (none given, or "
                    "anonymised under the personal-data rules); leave callback_requested false",
                )
            ]
        )
    changes = {
        key: [getattr(ticket, key), value]
        for key, value in new_values.items()
        if getattr(ticket, key) != value
    }
    if not changes:
        return ticket
    for key, (_, value) in changes.items():
        setattr(ticket, key, value)
    if "description" in changes or "address" in changes:
        ticket.search_text = searchable(ticket, ticket_search_text(ticket))
    at = max(ctx.now, ticket.last_event_at)
    ctx.touch(ticket, at)
    ctx.record_event(ticket, "updated", at, None, {"changes": changes})
    if ROUTED_BY & changes.keys() and ticket.status in (Status.NEW, Status.ASSIGNED):
        await reroute_if_unacknowledged(ctx, await loading.load(ctx.session, ticket), at)
    await ctx.session.flush()
    return ticket


def corrected_area(
    ctx: TicketContext, ticket: Ticket, text: str | None, new_values: dict[str, Any]
) -> dict[str, Any]:
    """area_code and area_resolution for a corrected area; an operator is correcting, so
    candidates that route differently are a 422 with the pick list."""
    resolution = read_area(ctx, text, ["area"])
    if resolution is None:
        return {"area_code": None, "area_resolution": None}
    outcome = "resolved"
    if resolution.ambiguous:
        topic = new_values.get("topic_code", ticket.topic_code)
        facts = replace(facts_of(ticket), topic=topic, area=None)
        _, outcome = decide_intake(
            ctx.router,
            facts,
            resolution,
            frozenset(),
            triage_unit=ctx.catalog.triage_unit,
            attended=True,
            loc=["area"],
        )
    return {
        "area_code": resolution.code,
        "area_resolution": stored_resolution(resolution, outcome=outcome),
    }


async def reroute_if_unacknowledged(ctx: TicketContext, loaded: LoadedTicket, at: datetime) -> None:
    """A corrected topic or area may change the unit, until a unit has taken the ticket."""
    ticket = loaded.ticket
    if ticket.status not in (Status.NEW, Status.ASSIGNED):
        return
    current = loaded.current
    if current is not None and current.acknowledged_at is not None:
        return
    exclude = loaded.rejected_units()
    decision = decide(ctx, ticket, exclude)
    if current is not None and decision.unit == current.unit_code:
        return
    end(loaded, current, at, "rerouted")
    ctx.record_event(
        ticket, "rerouted", at, current.id if current else None, {"reason": "corrected"}
    )
    await route(ctx, loaded, at, exclude, reason="corrected")
