"""What a ticket looks like to the one reading it: TicketRead, each assignment's SLA, events.

No I/O: the rows are loaded by app.tickets.queries. The caller and free text are shown as the
masking rule allows this viewer (app.privacy.masking).
"""

from collections.abc import Mapping
from typing import Any

from app.privacy.masking import caller_view, free_text_view
from app.sla import Pause, TargetStatus
from app.tickets import callback
from app.tickets.area_policy import stored_candidates
from app.tickets.context import TicketContext
from app.tickets.lifecycle import allowed_actions
from app.tickets.models import Assignment, Ticket, TicketEvent
from app.tickets.schemas import (
    AreaResolutionRead,
    AssignmentRead,
    CallerOut,
    EventRead,
    LegalHoldRead,
    Ref,
    SlaRead,
    SlaTargetRead,
    TicketRead,
)


def ref(ctx: TicketContext, kind: str, code: str | None) -> Ref | None:
    """A catalog reference (code and name) of an area, topic or unit; None for no code."""
    if code is None:
        return None
    table = {"area": ctx.catalog.areas, "topic": ctx.catalog.topics, "unit": ctx.catalog.units}
    item = table[kind].get(code)
    return Ref(code=code, name=item.name if item else code)


def _target(t: TargetStatus) -> SlaTargetRead:
    return SlaTargetRead(
        state=t.state,
        mode=t.mode,
        target_seconds=t.target_seconds,
        elapsed_seconds=t.elapsed_seconds,
        remaining_seconds=t.remaining_seconds,
        due_at=t.due_at,
        warn_at=t.warn_at,
        done_at=t.done_at,
        earliest_due_at=t.earliest_due_at,
    )


def sla_read(ctx: TicketContext, a: Assignment, pauses: list[Pause]) -> SlaRead:
    """The assignment's SLA clock as of ctx.now: state, and each target's times."""
    st = ctx.sla.status(a, pauses, ctx.now)
    return SlaRead(
        policy=st.policy,
        calendar=st.calendar,
        state=st.state,
        paused=st.paused,
        acknowledge=_target(st.acknowledge),
        resolve=_target(st.resolve),
    )


def assignment_read(ctx: TicketContext, a: Assignment, pauses: list[Pause]) -> AssignmentRead:
    """One unit's piece of work on the ticket, with its SLA when a policy applies."""
    return AssignmentRead(
        id=a.id,
        unit=ref(ctx, "unit", a.unit_code),
        assigned_at=a.assigned_at,
        acknowledged_at=a.acknowledged_at,
        resolved_at=a.resolved_at,
        ended_at=a.ended_at,
        outcome=a.outcome,
        rule_id=a.rule_id,
        ruleset_version=a.ruleset_version,
        sla_policy=a.sla_policy,
        acknowledge_due_at=a.acknowledge_due_at,
        resolve_due_at=a.resolve_due_at,
        sla=sla_read(ctx, a, pauses) if a.sla_policy else None,
    )


def caller(ctx: TicketContext, ticket: Ticket) -> CallerOut:
    """The caller as this viewer may see them."""
    return caller_view(ticket, ctx.principal, own_intake=ticket.id == ctx.own_intake_id)


def free_text(ctx: TicketContext, ticket: Ticket, value: Any) -> Any:
    """A free-text value of the ticket (description, address, event details) as this viewer
    may see it: a confidential caller's may be masked."""
    own = ticket.id == ctx.own_intake_id
    return free_text_view(ticket, ctx.principal, value, own_intake=own)


def legal_hold(ctx: TicketContext, ticket: Ticket) -> LegalHoldRead | None:
    """The ticket's legal hold, for viewers who may read the access log; None otherwise."""
    if ticket.legal_hold_at is None or not ctx.principal.can("audit:read"):
        return None
    return LegalHoldRead(
        reason=ticket.legal_hold_reason, by=ticket.legal_hold_by, at=ticket.legal_hold_at
    )


def to_read(
    ctx: TicketContext,
    ticket: Ticket,
    current: Assignment | None,
    assignments: list[Assignment] | None = None,
    duplicate_of: str | None = None,
    pauses: Mapping[int, list[Pause]] | None = None,
    latest: Mapping[tuple[int, str], TicketEvent] | None = None,
) -> TicketRead:
    """The read of a ticket: `current` its open assignment, `assignments` all of them (None
    in a list page), `pauses` per assignment id, `latest` its latest info_requested /
    resolved events (app.tickets.callback) when its status shows them."""
    pauses = pauses or {}
    latest = latest or {}
    # The current assignment also appears in the full list: build it once.
    built: dict[int | None, AssignmentRead] = {}

    def assignment(a: Assignment) -> AssignmentRead:
        if a.id not in built:
            built[a.id] = assignment_read(ctx, a, pauses.get(a.id, []))
        return built[a.id]

    return TicketRead(
        id=ticket.id,
        reference=ctx.reference(ticket),
        channel=ticket.channel,
        status=ticket.status,
        priority=ticket.priority,
        caller=caller(ctx, ticket),
        description=free_text(ctx, ticket, ticket.description),
        topic=ref(ctx, "topic", ticket.topic_code),
        area=ref(ctx, "area", ticket.area_code),
        area_resolution=AreaResolutionRead.model_validate(ticket.area_resolution)
        if ticket.area_resolution
        else None,
        address=free_text(ctx, ticket, ticket.address),
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        attachments=free_text(ctx, ticket, ticket.attachments),
        public=bool(ticket.public),
        # An erased or anonymised caller is owed no call: no number or address is left.
        callback_requested=bool(ticket.callback_requested) and ticket.caller_anonymised_at is None,
        received_at=ticket.received_at,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        version=ticket.version,
        duplicate_of=duplicate_of,
        current_assignment=assignment(current) if current else None,
        pending_question=callback.pending_question(ticket, latest),
        resolution=callback.resolution(ticket, latest),
        allowed_actions=allowed_actions(
            ticket.status, area_unsettled=bool(stored_candidates(ticket.area_resolution))
        ),
        assignments=[assignment(a) for a in assignments] if assignments is not None else None,
        legal_hold=legal_hold(ctx, ticket),
        reported_count=ticket.reports_count,
    )


def event_reads(ctx: TicketContext, ticket: Ticket, rows: list[TicketEvent]) -> list[EventRead]:
    """The ticket's events as this viewer may see their details."""
    reads = [EventRead.model_validate(r, from_attributes=True) for r in rows]
    for read in reads:
        read.details = free_text(ctx, ticket, read.details)
    return reads
