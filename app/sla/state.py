"""Where an assignment stands against its SLA: due times, elapsed and remaining time, a state.

Pure: the facts of one assignment and `now` are passed in; nothing is read from a clock or a
database. Semantics (docs/sla.md):

- The clock of an assignment starts at `assigned_at` (for a ticket's first assignment the
  service passes the ticket's `received_at`) and counts working time on the policy's calendar,
  or plain time for a target in calendar mode. Paused intervals (waiting for the citizen) do
  not count.
- A target is **done** when the unit responded: `acknowledge` at the first of acknowledged_at,
  resolved_at, or the end of the assignment by a rejection or transfer; `resolve` at
  resolved_at or the end by a rejection or transfer. A rejection or transfer is the unit's
  response: it is judged on time (`met`) or late (`missed`) like a resolution, so a unit
  cannot escape a breach by handing the ticket on late.
- An assignment ended another way (ticket cancelled, marked duplicate) stops the clock without
  a response: a target already overdue at that moment is `missed`, otherwise `ended` (no
  verdict; left out of on-time rates).
- Due = the instant the target's working time has elapsed since the start, pauses excluded.
  Done at or before the due: `met`; after: `missed`. Not done: `breached` once now > due.

States of one target, open: `on_track` -> `warning` (>= warning_at of the target elapsed) ->
`breached` (now > due); `paused` while the clock is stopped before the due (a pause begun
after the due does not lift a breach). Done: `met` / `missed`; ended without response:
`ended` (or `missed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NamedTuple

from app.sla.calendar import Calendar
from app.sla.clock import Pause, add_working, working_between
from app.sla.policy import TARGETS, Policy, Target

# Outcomes that end an assignment *as the unit's response*: they complete both targets.
RESPONSE_OUTCOMES = frozenset({"resolved", "rejected", "transferred"})


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MET = "met"
    MISSED = "missed"
    ENDED = "ended"


class DueTimes(NamedTuple):
    """One instant per target; unpacks as (acknowledge, resolve)."""

    acknowledge: datetime | None
    resolve: datetime | None


@dataclass(frozen=True, slots=True)
class TargetStatus:
    """Where one target (`acknowledge` or `resolve`) stands at `now`.

    `due_at` is None only while an open pause stops the clock before the due: the due moves
    by however long the pause lasts. `earliest_due_at` then gives the due if the clock resumed
    at `now` (it can only get later). `warn_at` is the instant the target turns `warning`,
    None likewise. Seconds are of the target's clock (working seconds, or plain seconds in
    calendar mode); `remaining_seconds` is negative once more than the target has elapsed.
    For a done target, elapsed and remaining are frozen at `done_at`.
    """

    name: str
    state: SlaState
    mode: str  # "working" or "calendar"
    target_seconds: int
    warning_seconds: int
    elapsed_seconds: int
    remaining_seconds: int
    due_at: datetime | None
    warn_at: datetime | None
    done_at: datetime | None = None
    earliest_due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SlaStatus:
    """Both targets of one assignment at `now`, with the policy and calendar they ran on."""

    policy: str
    calendar: str
    acknowledge: TargetStatus
    resolve: TargetStatus
    paused: bool  # the clock is stopped at `now`

    @property
    def state(self) -> SlaState:
        """One headline state for lists and filters.

        An open target's live state wins, the most urgent first (breached > warning > paused
        > on_track); once both are done: missed if either was missed, else met (ended if
        neither target was judged).
        """
        states = (self.acknowledge.state, self.resolve.state)
        for live in (SlaState.BREACHED, SlaState.WARNING, SlaState.PAUSED, SlaState.ON_TRACK):
            if live in states:
                return live
        if SlaState.MISSED in states:
            return SlaState.MISSED
        return SlaState.MET if SlaState.MET in states else SlaState.ENDED

    def target(self, name: str) -> TargetStatus:
        if name not in TARGETS:
            raise KeyError(f"unknown SLA target {name!r}")
        return self.acknowledge if name == "acknowledge" else self.resolve


# -- helpers ----------------------------------------------------------------------------------


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value!r}")
    return value.astimezone(UTC)


def _clip(pauses: Iterable[Pause], end: datetime) -> list[Pause]:
    """The pauses as they stood at `end`: later ones dropped, one open or running past cut."""
    out: list[Pause] = []
    for start, stop in pauses:
        start = _utc(start, "pause start")
        if start >= end:
            continue
        stop = end if stop is None else min(_utc(stop, "pause end"), end)
        out.append((start, stop))
    return out


def _resumed(pauses: Iterable[Pause], at: datetime) -> list[Pause]:
    """The pauses with any open one closed at `at` (or at its start, if that is later)."""
    out: list[Pause] = []
    for start, stop in pauses:
        start = _utc(start, "pause start")
        out.append((start, max(start, at) if stop is None else stop))
    return out


def _paused_at(pauses: Iterable[Pause], at: datetime) -> bool:
    return any(
        _utc(start, "pause start") <= at and (stop is None or at < _utc(stop, "pause end"))
        for start, stop in pauses
    )


def _done_times(
    acknowledged_at: datetime | None,
    resolved_at: datetime | None,
    ended_at: datetime | None,
    outcome: str | None,
) -> tuple[datetime | None, datetime | None]:
    """When each target was done (the unit's response), or None."""
    response_end = ended_at if ended_at is not None and outcome in RESPONSE_OUTCOMES else None
    resolved = resolved_at if resolved_at is not None else response_end
    acknowledged = min(
        (t for t in (acknowledged_at, resolved, response_end) if t is not None), default=None
    )
    return acknowledged, resolved


# -- due times to store on the assignment -----------------------------------------------------


def _instants(
    assigned_at: datetime,
    pauses: Iterable[Pause],
    policy: Policy,
    calendar: Calendar,
    acknowledged_at: datetime | None,
    share: bool,
) -> DueTimes:
    start = _utc(assigned_at, "assigned_at")
    pauses = list(pauses)
    out = []
    for name in TARGETS:
        target = policy.target(name)
        seconds = target.seconds(calendar)
        if share:
            seconds = policy.warning_seconds(seconds)
        used = pauses
        if name == "acknowledge" and acknowledged_at is not None:
            used = _clip(pauses, _utc(acknowledged_at, "acknowledged_at"))
        out.append(add_working(start, seconds, target.clock(calendar), used))
    return DueTimes(*out)


def due_times(
    assigned_at: datetime,
    pauses: Iterable[Pause],
    policy: Policy,
    calendar: Calendar,
    *,
    acknowledged_at: datetime | None = None,
) -> DueTimes:
    """(acknowledge_due, resolve_due) to store on the assignment; recompute when a pause ends.

    A due is None while an open pause began before it was reached (the scan then cannot find
    it overdue: a paused clock cannot breach). Pass `acknowledged_at` once known: pauses after
    it no longer move the acknowledge due (that target is done).
    """
    return _instants(assigned_at, pauses, policy, calendar, acknowledged_at, share=False)


def warning_times(
    assigned_at: datetime,
    pauses: Iterable[Pause],
    policy: Policy,
    calendar: Calendar,
    *,
    acknowledged_at: datetime | None = None,
) -> DueTimes:
    """The instants each target turns `warning` (warning_at of it elapsed), like `due_times`."""
    return _instants(assigned_at, pauses, policy, calendar, acknowledged_at, share=True)


def done_times(
    *,
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
    ended_at: datetime | None = None,
    outcome: str | None = None,
) -> DueTimes:
    """When the unit responded to each target, (acknowledge, resolve); None while not done.

    Stored on the assignment (`acknowledge_done_at`, `resolve_done_at`) so that reports judge
    on time / late with plain comparisons against the stored due times.
    """
    return DueTimes(
        *_done_times(
            None if acknowledged_at is None else _utc(acknowledged_at, "acknowledged_at"),
            None if resolved_at is None else _utc(resolved_at, "resolved_at"),
            None if ended_at is None else _utc(ended_at, "ended_at"),
            outcome,
        )
    )


class ResponseSeconds(NamedTuple):
    """Seconds on each target's clock from the start to the unit's response (None: not done)."""

    acknowledge: int | None
    resolve: int | None


def response_seconds(
    *,
    assigned_at: datetime,
    policy: Policy,
    calendar: Calendar,
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
    ended_at: datetime | None = None,
    outcome: str | None = None,
    pauses: Iterable[Pause] = (),
) -> ResponseSeconds:
    """How long the unit took to respond to each target, as the SLA clock counts it.

    The time from `assigned_at` to the target's done instant (see `sla_status`: a rejection or
    transfer completes both), in working seconds of the policy's calendar, or plain seconds
    for a target in calendar mode; paused intervals are left out. It equals the
    `elapsed_seconds` that `sla_status` reports for a done target. Stored on the assignment
    when a target completes, for the SLA report's medians and percentiles.
    """
    start = _utc(assigned_at, "assigned_at")
    ack_done, resolve_done = _done_times(
        None if acknowledged_at is None else _utc(acknowledged_at, "acknowledged_at"),
        None if resolved_at is None else _utc(resolved_at, "resolved_at"),
        None if ended_at is None else _utc(ended_at, "ended_at"),
        outcome,
    )
    pauses = list(pauses)
    out: list[int | None] = []
    for name, done in (("acknowledge", ack_done), ("resolve", resolve_done)):
        if done is None:
            out.append(None)
            continue
        clock = policy.target(name).clock(calendar)
        out.append(working_between(start, done, clock, _clip(pauses, done)))
    return ResponseSeconds(*out)


# -- state at `now` ---------------------------------------------------------------------------


def _target_status(
    name: str,
    target: Target,
    policy: Policy,
    calendar: Calendar,
    start: datetime,
    pauses: list[Pause],
    now: datetime,
    done_at: datetime | None,
    stopped_at: datetime | None,
) -> TargetStatus:
    clock = target.clock(calendar)
    seconds = target.seconds(calendar)
    warn_seconds = policy.warning_seconds(seconds)
    end = done_at if done_at is not None else stopped_at
    earliest = None
    if end is not None:
        # The clock stopped at `end`: judge as of then; later pauses are irrelevant.
        used = _clip(pauses, end)
        due = add_working(start, seconds, clock, used)
        warn = add_working(start, warn_seconds, clock, used)
        elapsed = working_between(start, end, clock, used)
        assert due is not None  # no open pause is left after clipping
        if done_at is not None:
            state = SlaState.MET if done_at <= due else SlaState.MISSED
        else:
            state = SlaState.MISSED if end > due else SlaState.ENDED
    else:
        due = add_working(start, seconds, clock, pauses)
        warn = add_working(start, warn_seconds, clock, pauses)
        elapsed = working_between(start, now, clock, pauses)
        if due is not None and now > due:
            state = SlaState.BREACHED
        elif due is None or _paused_at(pauses, now):
            state = SlaState.PAUSED
            if due is None:
                earliest = add_working(start, seconds, clock, _resumed(pauses, now))
        elif elapsed >= warn_seconds:
            state = SlaState.WARNING
        else:
            state = SlaState.ON_TRACK
    return TargetStatus(
        name=name,
        state=state,
        mode=target.mode,
        target_seconds=seconds,
        warning_seconds=warn_seconds,
        elapsed_seconds=elapsed,
        remaining_seconds=seconds - elapsed,
        due_at=due,
        warn_at=warn,
        done_at=done_at,
        earliest_due_at=earliest,
    )


def sla_status(
    *,
    assigned_at: datetime,
    policy: Policy,
    calendar: Calendar,
    now: datetime,
    acknowledged_at: datetime | None = None,
    resolved_at: datetime | None = None,
    ended_at: datetime | None = None,
    outcome: str | None = None,
    pauses: Iterable[Pause] = (),
) -> SlaStatus:
    """Both targets of one assignment as of `now` (all datetimes timezone-aware).

    `ended_at` + `outcome` as stored on the assignment: an outcome in RESPONSE_OUTCOMES
    (resolved, rejected, transferred) completes both targets at `ended_at`; any other
    (cancelled, duplicate, ...) stops the clock without a response.
    """
    start = _utc(assigned_at, "assigned_at")
    now = _utc(now, "now")
    acknowledged_at, resolved_at, ended_at = (
        None if t is None else _utc(t, n)
        for t, n in (
            (acknowledged_at, "acknowledged_at"),
            (resolved_at, "resolved_at"),
            (ended_at, "ended_at"),
        )
    )
    pauses = [
        (_utc(s, "pause start"), None if e is None else _utc(e, "pause end")) for s, e in pauses
    ]
    ack_done, resolve_done = _done_times(acknowledged_at, resolved_at, ended_at, outcome)
    stopped = ended_at if ended_at is not None and outcome not in RESPONSE_OUTCOMES else None

    def status(name: str, done: datetime | None) -> TargetStatus:
        return _target_status(
            name, policy.target(name), policy, calendar, start, pauses, now, done, stopped
        )

    stopped_clock = stopped is not None or resolve_done is not None
    return SlaStatus(
        policy=policy.id,
        calendar=calendar.code,
        acknowledge=status("acknowledge", ack_done),
        resolve=status("resolve", resolve_done),
        paused=not stopped_clock and _paused_at(pauses, now),
    )
