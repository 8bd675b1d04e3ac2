"""sla.yaml without a release: every instance picks up a valid new file, and open assignments
whose still-future due or warning instants move are re-planned, each with an event saying why.

Like the rules (app.routing.live): each instance polls the file's version (and reloads on
POST /admin/rules/reload); an invalid file, or one dropping a policy the running rules name, is
refused and the running config keeps serving. After a change each instance re-plans; the
first to lock a ticket moves its instants and writes the event, the others then find nothing
to move. Only instants still in the future move: a target already warned or breached keeps
its instant and its events.
"""

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.catalog import Catalog
from app.db import transaction
from app.routing.engine import Ruleset
from app.sla import Calendar, SlaConfig, due_times, read_sla, warning_times
from app.sla.loader import SLA_FILE, sla_version
from app.tickets.assignment_clock import SlaKeeper, event_row, next_marks, pauses_of
from app.tickets.models import Assignment, Ticket, TicketEvent

log = logging.getLogger("hotline.sla")

# (target, mark) -> (instant column, flag column set once its event is written)
_MARKS = {
    ("acknowledge", "due"): ("acknowledge_due_at", "acknowledge_breached_at"),
    ("acknowledge", "warning"): ("acknowledge_warn_at", "acknowledge_warned_at"),
    ("resolve", "due"): ("resolve_due_at", "resolve_breached_at"),
    ("resolve", "warning"): ("resolve_warn_at", "resolve_warned_at"),
}


@dataclass
class SlaReload:
    changed: bool
    version: str
    errors: list[str] = field(default_factory=list)
    previous: SlaConfig | None = None  # the config replaced, when changed


class LiveSla:
    """The running SLA config of one instance, swapped atomically on a valid reload."""

    def __init__(self, rules_dir: Path, catalog: Catalog, config: SlaConfig):
        self.rules_dir = Path(rules_dir)
        self.catalog = catalog
        self.current = config
        self.keeper = SlaKeeper(config, catalog)
        self.refused_version: str | None = None

    def reload(self, rules: Ruleset, *, force: bool = True) -> SlaReload:
        """Read sla.yaml again; keep the running config when it is invalid or drops a policy
        that a running rule names (`set: {sla_policy: ...}`)."""
        running = self.current
        on_disk = sla_version(self.rules_dir / SLA_FILE)
        if not force and on_disk in (running.version, self.refused_version):
            return SlaReload(False, running.version)
        config, errors, _ = read_sla(self.rules_dir, self.catalog)
        problems = [str(e) for e in errors]
        if config is not None:
            named = {r.sla_policy for r in rules.rules if r.sla_policy}
            problems += [
                f"{SLA_FILE}: policy '{p}' is named by the running rules; keep it or change the "
                "rules first"
                for p in sorted(named - config.policy_ids)
            ]
        if problems or config is None:
            self.refused_version = on_disk
            log.error("sla.yaml reload refused, still serving %s:\n%s", running.version, problems)
            return SlaReload(False, running.version, problems)
        if config.version == running.version:
            return SlaReload(False, running.version)
        self.current, self.keeper = config, SlaKeeper(config, self.catalog)
        log.info("sla.yaml %s loaded (was %s)", config.version, running.version)
        return SlaReload(True, config.version, previous=running)


async def reload_sla(state: Any, now: datetime, *, force: bool = True) -> tuple[SlaReload, int]:
    """Reload sla.yaml into a process's runtime (app.runtime: sla_live, rules, session_factory)
    and re-plan what the change moves; (result, assignments re-planned)."""
    live: LiveSla = state.sla_live
    result = live.reload(state.rules.current, force=force)
    if not result.changed or result.previous is None:
        return result, 0
    state.rules.sla_policies = live.current.policy_ids
    replanned = await replan_open(
        state.session_factory, keeper=live.keeper, previous=result.previous, now=now
    )
    if replanned:
        log.info("sla.yaml %s: %d open assignment(s) re-planned", result.version, replanned)
    return result, replanned


def calendar_changes(old: Calendar, new: Calendar, first: date, last: date) -> list[dict[str, Any]]:
    """The local days in [first, last] whose working periods differ between two versions of a
    calendar, with the override note that explains each (for the re-plan event)."""
    out = []
    day = first
    while day <= last:
        before, after = old.local_periods(day), new.local_periods(day)
        if before != after:
            note = new.override_notes.get(day) or old.override_notes.get(day)
            out.append(
                {
                    "date": day.isoformat(),
                    "now": "worked" if after else "off",
                    "was": "worked" if before else "off",
                    "note": note,
                }
            )
        day += timedelta(days=1)
    return out


def _instants(keeper: SlaKeeper, a: Assignment, pauses: list[Any]) -> dict[str, Any]:
    policy = keeper._stored_policy(a)
    calendar = keeper.config.calendar_for(policy, a.unit_code)
    kw = {"acknowledged_at": a.acknowledged_at}
    due = due_times(a.assigned_at, pauses, policy, calendar, **kw)
    warn = warning_times(a.assigned_at, pauses, policy, calendar, **kw)
    return {
        "acknowledge_due_at": due.acknowledge,
        "resolve_due_at": due.resolve,
        "acknowledge_warn_at": warn.acknowledge,
        "resolve_warn_at": warn.resolve,
        "calendar": calendar,
        "policy": policy,
    }


def moves(
    a: Assignment, new: dict[str, Any], now: datetime
) -> list[tuple[str, str, datetime, datetime]]:
    """(target, mark, old, new) for each instant a re-plan moves: open targets only, instants
    still in the future only, never one whose event was already written."""
    out = []
    for (target, mark), (column, flag) in _MARKS.items():
        if target == "acknowledge" and a.acknowledged_at is not None:
            continue  # done: its instants are history
        old, moved = getattr(a, column), new[column]
        if old == moved or old is None or moved is None or old <= now:
            continue  # unchanged, hidden by a pause, or already passed
        if getattr(a, flag) is not None:
            continue
        out.append((target, mark, old, moved))
    return out


async def replan_open(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    keeper: SlaKeeper,
    previous: SlaConfig,
    now: datetime,
    batch: int = 200,
) -> int:
    """Re-plan the open assignments a new SLA config moves; the number re-planned.

    Tickets are locked first, in id order (as actions lock them), then their assignments.
    """
    replanned, after = 0, 0
    while True:
        async with transaction(session_factory) as session:
            open_tickets = select(Assignment.ticket_id).where(Assignment.ended_at.is_(None))
            tickets = list(
                (
                    await session.scalars(
                        select(Ticket)
                        .where(Ticket.id.in_(open_tickets), Ticket.id > after)
                        .order_by(Ticket.id)
                        .limit(batch)
                        .with_for_update()
                    )
                ).all()
            )
            if not tickets:
                return replanned
            by_id = {t.id: t for t in tickets}
            assignments = (
                await session.scalars(
                    select(Assignment).where(
                        Assignment.ticket_id.in_(by_id), Assignment.ended_at.is_(None)
                    )
                )
            ).all()
            pauses = await pauses_of(session, assignment_ids=[a.id for a in assignments])
            for a in assignments:
                if await _replan_one(session, a, by_id[a.ticket_id], keeper, previous, pauses, now):
                    replanned += 1
            after = tickets[-1].id


async def _replan_one(
    session: AsyncSession,
    a: Assignment,
    ticket: Ticket,
    keeper: SlaKeeper,
    previous: SlaConfig,
    pauses: dict[int, list[Any]],
    now: datetime,
) -> bool:
    new = _instants(keeper, a, pauses.get(a.id, []))
    changes = moves(a, new, now)
    if not changes:
        return False
    calendar: Calendar = new["calendar"]
    old_calendar = previous.calendars.get(calendar.code, calendar)
    zone = calendar.zone
    details = []
    for target, mark, old, moved in changes:
        first = min(old, moved, a.assigned_at).astimezone(zone).date()
        last = max(old, moved).astimezone(zone).date()
        details.append(
            {
                "target": target,
                "mark": mark,
                "old": old.isoformat(),
                "new": moved.isoformat(),
                "days": calendar_changes(old_calendar, calendar, first, last),
            }
        )
        setattr(a, _MARKS[(target, mark)][0], moved)
    ticket.sla_due_at, ticket.sla_warn_at = next_marks(a)
    why = {
        "calendar": calendar.code,
        "policy": new["policy"].id,
        "sla_version": keeper.config.version,
        "previous_sla_version": previous.version,
        "changes": details,
    }
    session.add(TicketEvent(**event_row(ticket.id, a.id, "sla_replanned", now, now, "sla", why)))
    return True
