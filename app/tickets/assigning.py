"""Giving a ticket to a unit: routing a stored ticket, new assignments, ending one.

Shared by the actions (reject, transfer, reroute, reopen) and corrections (a changed topic or
area routes an unacknowledged ticket again). Intake builds its first assignment here too.
"""

from datetime import datetime
from typing import Any

from app.db import trusted_instance
from app.routing.schema import Decision, TicketFacts
from app.tickets import repository as repo
from app.tickets.area_policy import decide_over_candidates, stored_candidates
from app.tickets.assignment_clock import next_marks
from app.tickets.context import TicketContext
from app.tickets.lifecycle import Status
from app.tickets.loaded import LoadedTicket
from app.tickets.models import Assignment, Ticket


def facts_of(ticket: Ticket) -> TicketFacts:
    """What routing sees of a stored ticket."""
    return TicketFacts(
        topic=ticket.topic_code,
        area=ticket.area_code,
        channel=ticket.channel,
        priority=ticket.priority,
        description=ticket.description,
        received_at=ticket.received_at,
        confidential=ticket.confidential,
    )


def assigned_details(decision: Decision) -> dict[str, Any]:
    """The details of an `assigned` event when routing chose the unit."""
    return {
        "unit": decision.unit,
        "rule_id": decision.rule_id,
        "ruleset_version": decision.ruleset_version,
        "sla_policy": decision.sla_policy,
        "co_handlers": list(decision.co_handlers) or None,
        "tags": list(decision.tags) or None,
    }


def decide(ctx: TicketContext, ticket: Ticket, exclude: frozenset[str]) -> Decision:
    """Route a stored ticket; one whose area is still a set of candidates is routed over
    all of them (the triage unit when they disagree: nobody is on the line to ask)."""
    candidates = stored_candidates(ticket.area_resolution)
    if ticket.area_code is None and candidates:
        decision, _ = decide_over_candidates(
            ctx.router,
            facts_of(ticket),
            candidates,
            exclude,
            triage_unit=ctx.catalog.triage_unit,
        )
        return decision
    return ctx.router(facts_of(ticket), exclude)


def new_assignment(
    ctx: TicketContext, ticket: Ticket, unit_code: str, at: datetime, decision: Decision | None
) -> Assignment:
    """An unsaved assignment with its SLA policy and due times planned from `at`."""
    assignment = trusted_instance(
        Assignment,
        {
            "ticket_id": ticket.id or 0,
            "unit_code": unit_code,
            "assigned_at": at,
            "rule_id": decision.rule_id if decision else None,
            "ruleset_version": decision.ruleset_version if decision else None,
            "sla_policy": decision.sla_policy if decision else None,
        },
    )
    policy = ctx.sla.policy_for(assignment, ticket.topic_code, ticket.priority, ticket.channel)
    ctx.sla.plan(assignment, (), policy)
    return assignment


async def assign(
    ctx: TicketContext,
    loaded: LoadedTicket,
    unit_code: str,
    at: datetime,
    *,
    decision: Decision | None = None,
    reason: str | None = None,
) -> Assignment:
    """A new assignment (and clock) for the unit; `decision` when routing chose it.

    Flushes to learn its id: that flush also writes the end of the previous assignment, before
    the insert (the ORM updates a table's rows before inserting into it), as the index of one
    open assignment per ticket requires.
    """
    ticket = loaded.ticket
    assignment = new_assignment(ctx, ticket, unit_code, at, decision)
    ctx.session.add(assignment)
    await ctx.session.flush()
    loaded.add(assignment)
    if decision and decision.co_handlers:
        await repo.insert_co_handlers(
            ctx.session,
            ticket_id=ticket.id,
            assignment_id=assignment.id,
            units=decision.co_handlers,
        )
    ticket.status = Status.ASSIGNED
    ticket.current_unit_code = unit_code
    ticket.sla_due_at, ticket.sla_warn_at = next_marks(assignment)
    details = assigned_details(decision) if decision else {"unit": unit_code}
    ctx.record_event(ticket, "assigned", at, assignment.id, {**details, "reason": reason})
    return assignment


async def route(
    ctx: TicketContext,
    loaded: LoadedTicket,
    at: datetime,
    exclude: frozenset[str],
    reason: str | None = None,
) -> Assignment | None:
    """Give the ticket to the unit routing picks (or leave it new when none is left)."""
    ticket = loaded.ticket
    decision = decide(ctx, ticket, exclude)
    if decision.priority and decision.priority != ticket.priority:
        ticket.priority = decision.priority
    if decision.tags:
        ticket.tags = sorted({*ticket.tags, *decision.tags})
    if decision.unit is None:
        ticket.status = Status.NEW
        ticket.current_unit_code = None
        ctx.record_event(ticket, "unrouted", at, None, {"excluded": sorted(exclude)})
        return None
    return await assign(ctx, loaded, decision.unit, at, decision=decision, reason=reason)


def end_pause(loaded: LoadedTicket, assignment: Assignment | None, at: datetime) -> None:
    """Restart a stopped clock at `at` (nothing when it runs)."""
    if assignment is None:
        return
    pause = loaded.open_pause(assignment)
    if pause is not None:
        pause.ended_at = at


def end(loaded: LoadedTicket, assignment: Assignment | None, at: datetime, outcome: str) -> None:
    """End the assignment with `outcome`: its clock stops for good (written at the next flush;
    a new assignment's flush writes it first)."""
    if assignment is None:
        return
    end_pause(loaded, assignment, at)
    assignment.ended_at = at
    assignment.outcome = outcome
