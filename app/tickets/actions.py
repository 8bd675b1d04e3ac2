"""Lifecycle actions on a ticket: one handler per action, then the SLA settled once.

An action loads the ticket's assignments and pauses once (app.tickets.loaded), changes them in
place, and writes everything in one flush at the end (a new assignment flushes once more to
learn its id). The statements each action costs are counted in tests/services.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from app.search.reporters import link as link_duplicate
from app.tickets import loaded as loading
from app.tickets.area_policy import stored_candidates
from app.tickets.assigning import assign, end, end_pause, route
from app.tickets.assignment_clock import breach_events, late_targets, next_marks
from app.tickets.checks import action_instant, check_unit, read_area
from app.tickets.context import TicketContext
from app.tickets.corrections import reroute_if_unacknowledged
from app.tickets.duplicates import live_original
from app.tickets.lifecycle import CLOCK_NEUTRAL, Status, allowed_actions, check_transition
from app.tickets.loaded import LoadedTicket
from app.tickets.models import Assignment, AssignmentPause, Ticket, TicketEvent
from app.tickets.queries import load
from app.tickets.schemas import (
    ActionIn,
    CallerInformedIn,
    ConfirmAreaIn,
    DuplicateIn,
    NoteIn,
    OptionalReasonIn,
    ReasonIn,
    RequestInfoIn,
    ResolveIn,
    TransferIn,
)
from app.users.permissions import UNIT_WORK


@dataclass
class Step:
    """One action being applied: at `at`, to the status `target` (None: status unchanged)."""

    ctx: TicketContext
    loaded: LoadedTicket
    at: datetime
    target: Status | None
    a: Assignment | None  # the open assignment before the action

    @property
    def ticket(self) -> Ticket:
        return self.loaded.ticket

    @property
    def a_id(self) -> int | None:
        return self.a.id if self.a else None

    def end(self, outcome: str) -> None:
        """End the open assignment, its SLA fields planned at once: the flush that writes the
        end writes them too (settle_sla later plans it again, to the same values)."""
        end(self.loaded, self.a, self.at, outcome)
        if self.a is not None:
            self.ctx.sla.plan(self.a, self.loaded.pauses_of(self.a))

    def event(self, kind: str, assignment_id: int | None, details: dict[str, Any]) -> None:
        self.ctx.record_event(self.ticket, kind, self.at, assignment_id, details)


async def act(ctx: TicketContext, ticket: Ticket, action: str, body: ActionIn) -> LoadedTicket:
    """Apply one lifecycle action at body.occurred_at (default now) to a ticket row-locked
    by the caller; the ticket as loaded and changed (for the read that follows).

    409 (InvalidTransition, naming the current status) when the status does not allow it,
    e.g. because a concurrent request changed it first; 403 when an agent acts on a ticket
    another unit has; 422 for a body that does not fit (unknown unit, not a candidate area).
    """
    target = check_transition(action, ticket.status)
    at = action_instant(ctx, ticket, body.occurred_at)
    loaded = await loading.load(ctx.session, ticket)
    current = loaded.current
    if (
        ctx.principal.scoped_to_units
        and action in UNIT_WORK
        and (current is None or current.unit_code not in ctx.principal.units)
    ):
        raise Forbidden(
            f"This ticket is now assigned to {current.unit_code if current else 'no unit'}; "
            "only that unit can work on it."
        )
    step = Step(ctx, loaded, at, target, current)
    await HANDLERS[action](step, body)
    if action not in CLOCK_NEUTRAL:
        settle_sla(ctx, loaded, current)
    if body.note and action not in NOTE_KEPT:
        step.event("note", step.a_id, {"text": body.note})
    ctx.touch(ticket, at)
    await ctx.session.flush()
    return loaded


def settle_sla(ctx: TicketContext, loaded: LoadedTicket, before: Assignment | None) -> None:
    """After an action: re-plan due times around pauses, record targets completed late,
    and mirror the current assignment's next due on the ticket."""
    ticket = loaded.ticket
    now_open = loaded.current
    touched = {a.id: a for a in (before, now_open) if a is not None}
    for a in touched.values():
        ctx.sla.plan(a, loaded.pauses_of(a))
        for target, due in late_targets(a):
            setattr(a, f"{target}_breached_at", ctx.now)
            unit = ctx.catalog.units.get(a.unit_code)
            rows = breach_events(
                ticket_id=ticket.id,
                assignment_id=a.id,
                unit=a.unit_code,
                target=target,
                due_at=due,
                escalate_to=unit.escalation if unit else None,
                now=ctx.now,
                actor="sla",
            )
            ctx.session.add_all(TicketEvent(**row) for row in rows)
    ticket.sla_due_at, ticket.sla_warn_at = next_marks(now_open)


# -- the unit's work ---------------------------------------------------------------------


async def _acknowledge(s: Step, body: ActionIn) -> None:
    assert s.a is not None
    s.a.acknowledged_at = s.at
    s.ticket.status = s.target
    s.event("acknowledged", s.a.id, {"unit": s.a.unit_code})


async def _start(s: Step, body: ActionIn) -> None:
    assert s.a is not None
    s.a.acknowledged_at = s.a.acknowledged_at or s.at
    s.ticket.status = s.target
    s.event("started", s.a.id, {"unit": s.a.unit_code})


async def _request_info(s: Step, body: RequestInfoIn) -> None:
    assert s.a is not None
    pause = AssignmentPause(assignment_id=s.a.id, started_at=s.at)
    s.ctx.session.add(pause)
    s.loaded.pauses[s.a.id].append(pause)
    s.ticket.status = s.target
    s.event("info_requested", s.a.id, {"question": body.question})


async def _info_received(s: Step, body: ActionIn) -> None:
    end_pause(s.loaded, s.a, s.at)
    s.ticket.status = s.target
    s.event("info_received", s.a_id, {})


async def _resolve(s: Step, body: ResolveIn) -> None:
    assert s.a is not None
    s.a.acknowledged_at = s.a.acknowledged_at or s.at
    s.a.resolved_at = s.at
    s.end("resolved")
    s.ticket.status = s.target
    s.event("resolved", s.a.id, {"unit": s.a.unit_code, "resolution": body.resolution})


async def _reject(s: Step, body: ReasonIn) -> None:
    assert s.a is not None
    s.end("rejected")
    s.event("rejected", s.a.id, {"unit": s.a.unit_code, "reason": body.reason})
    await route(s.ctx, s.loaded, s.at, s.loaded.rejected_units())


# -- moving the ticket between units ------------------------------------------------------


async def _transfer(s: Step, body: TransferIn) -> None:
    check_unit(s.ctx, body.unit, ["unit"])
    if s.a is not None and s.a.unit_code == body.unit:
        raise Conflict(
            f"The ticket is already assigned to {body.unit} (it is {s.ticket.status}).",
            current_status=s.ticket.status,
            allowed_actions=allowed_actions(s.ticket.status),
        )
    s.end("transferred")
    from_unit = s.a.unit_code if s.a else None
    details = {"from_unit": from_unit, "to_unit": body.unit, "reason": body.reason}
    s.event("transferred", s.a_id, details)
    await assign(s.ctx, s.loaded, body.unit, s.at, reason=body.reason)


async def _reroute(s: Step, body: OptionalReasonIn) -> None:
    """Send the ticket back to routing (e.g. after the rules changed or it was misfiled)."""
    s.end("rerouted")
    s.event("rerouted", s.a_id, {"reason": body.reason})
    await route(s.ctx, s.loaded, s.at, s.loaded.rejected_units(), reason=body.reason)


async def _reopen(s: Step, body: ReasonIn) -> None:
    # Back to the unit that resolved it, on a fresh assignment; the old record stays as it was.
    previous = s.loaded.assignments[-1]
    s.event("reopened", previous.id, {"reason": body.reason})
    await assign(s.ctx, s.loaded, previous.unit_code, s.at, reason="reopened")


# -- ending the ticket --------------------------------------------------------------------


async def _close(s: Step, body: ActionIn) -> None:
    s.ticket.status = s.target
    s.event("closed", None, {})


async def _cancel(s: Step, body: OptionalReasonIn) -> None:
    s.end("cancelled")
    s.ticket.status = s.target
    s.ticket.current_unit_code = None
    s.event("cancelled", s.a_id, {"reason": body.reason})


async def _duplicate(s: Step, body: DuplicateIn) -> None:
    ctx, ticket = s.ctx, s.ticket
    try:
        asked = await load(ctx, body.duplicate_of)
    except NotFound as exc:
        raise ValidationFailed([field_error(["duplicate_of"], exc.detail)]) from exc
    original = await live_original(ctx.session, ticket, asked, ctx.reference)
    s.end("duplicate")
    ticket.status = s.target
    ticket.duplicate_of_id = original.id
    ticket.current_unit_code = None
    s.event(
        "marked_duplicate",
        s.a_id,
        {
            "duplicate_of": ctx.reference(original),
            "asked": ctx.reference(asked) if asked.id != original.id else None,
        },
    )
    link_duplicate(ctx, ticket, original, s.at)


# -- notes and the area --------------------------------------------------------------------


async def _confirm_area(s: Step, body: ConfirmAreaIn) -> None:
    """Settle an area kept as candidates at intake: one of them, chosen by whoever knows."""
    ticket = s.ticket
    candidates = stored_candidates(ticket.area_resolution)
    if not candidates:
        raise ValidationFailed(
            [
                field_error(
                    ["area"],
                    f"the ticket's area is already settled ({ticket.area_code or 'none'}); "
                    "an operator corrects it with PATCH",
                )
            ]
        )
    resolution = read_area(s.ctx, body.area, ["area"])
    chosen = resolution.code if resolution else None
    if chosen not in candidates:
        raise ValidationFailed(
            [
                field_error(
                    ["area"],
                    f"'{body.area}' is not one of the ticket's candidate areas: "
                    f"{', '.join(candidates)}",
                    candidates=ticket.area_resolution["candidates"],  # type: ignore[index]
                )
            ]
        )
    ticket.area_code = chosen
    ticket.area_resolution = {**(ticket.area_resolution or {}), "outcome": "confirmed"}
    s.event("area_confirmed", s.a_id, {"area": chosen})
    await reroute_if_unacknowledged(s.ctx, s.loaded, s.at)


async def _notes(s: Step, body: NoteIn) -> None:
    s.event("note", s.a_id, {"text": body.text})


async def _caller_informed(s: Step, body: CallerInformedIn) -> None:
    """The call back was made; the callback queue (app.console.callbacks) drops every wait
    that began before this event."""
    s.event("caller_informed", s.a_id, {"note": body.note})


Handler = Callable[[Step, Any], Awaitable[None]]

HANDLERS: dict[str, Handler] = {
    "acknowledge": _acknowledge,
    "start": _start,
    "request-info": _request_info,
    "info-received": _info_received,
    "resolve": _resolve,
    "reject": _reject,
    "transfer": _transfer,
    "reroute": _reroute,
    "close": _close,
    "reopen": _reopen,
    "cancel": _cancel,
    "duplicate": _duplicate,
    "confirm-area": _confirm_area,
    "notes": _notes,
    "caller-informed": _caller_informed,
}

# Actions whose event keeps the body's note itself (no separate `note` event).
NOTE_KEPT = frozenset({"notes", "caller-informed"})
