"""The SLA clock of stored assignments: plan due times, report status, scan for warnings/breaches.

The clock math and policies are pure (app/sla); this module applies them to rows.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.catalog import Catalog
from app.db import ids_in, set_fields, transaction
from app.outbox.capture import insert_events
from app.sla import (
    RESPONSE_OUTCOMES,
    Pause,
    Policy,
    SlaConfig,
    SlaStatus,
    done_times,
    due_times,
    response_seconds,
    sla_status,
    warning_times,
)
from app.tickets.models import Assignment, AssignmentPause

TARGETS = ("acknowledge", "resolve")


@dataclass
class SlaKeeper:
    config: SlaConfig
    catalog: Catalog

    def policy_for(self, a: Assignment, topic: str | None, priority: str, channel: str) -> Policy:
        """The policy a new assignment runs on (a rule may have requested one)."""
        unit = self.catalog.units.get(a.unit_code)
        return self.config.policy_for(
            a.unit_code,
            unit.kind if unit else None,
            topic,
            priority,
            channel,
            requested=a.sla_policy,
        )

    def _stored_policy(self, a: Assignment) -> Policy:
        try:
            return self.config.get(a.sla_policy or "")
        except KeyError:  # a policy since removed from sla.yaml: the default applies
            return self.config.policy_for(a.unit_code, None, None, None, None)

    def plan(self, a: Assignment, pauses: Sequence[Pause], policy: Policy | None = None) -> None:
        """Store the policy, due and warning instants on the assignment (None while paused),
        and for each target the unit has responded to: when, and in how much working time."""
        policy = policy or self._stored_policy(a)
        calendar = self.config.calendar_for(policy, a.unit_code)
        kw = {"acknowledged_at": a.acknowledged_at}
        due = due_times(a.assigned_at, pauses, policy, calendar, **kw)
        warn = warning_times(a.assigned_at, pauses, policy, calendar, **kw)
        # When and how fast the unit responded, once it has (for the SLA report).
        facts = {
            "acknowledged_at": a.acknowledged_at,
            "resolved_at": a.resolved_at,
            "ended_at": a.ended_at,
            "outcome": a.outcome,
        }
        done = done_times(**facts)
        seconds = response_seconds(
            assigned_at=a.assigned_at, policy=policy, calendar=calendar, pauses=pauses, **facts
        )
        set_fields(
            a,
            {
                "sla_policy": policy.id,
                "acknowledge_due_at": due.acknowledge,
                "resolve_due_at": due.resolve,
                "acknowledge_warn_at": warn.acknowledge,
                "resolve_warn_at": warn.resolve,
                "acknowledge_done_at": done.acknowledge,
                "resolve_done_at": done.resolve,
                "acknowledge_working_seconds": seconds.acknowledge,
                "resolve_working_seconds": seconds.resolve,
            },
        )

    def status(self, a: Assignment, pauses: Sequence[Pause], now: datetime) -> SlaStatus:
        policy = self._stored_policy(a)
        return sla_status(
            assigned_at=a.assigned_at,
            policy=policy,
            calendar=self.config.calendar_for(policy, a.unit_code),
            now=now,
            acknowledged_at=a.acknowledged_at,
            resolved_at=a.resolved_at,
            ended_at=a.ended_at,
            outcome=a.outcome,
            pauses=pauses,
        )


def next_marks(a: Assignment | None) -> tuple[datetime | None, datetime | None]:
    """(earliest due, earliest warning) of the open targets, mirrored on the ticket for the
    `sla_state` filters and `sort=due`; (None, None) when paused or no clock runs.

    The earliest of each, not the pair of the target due first: the read's headline state is
    `warning` as soon as any open target is, even one whose due comes later.
    """
    if a is None or a.ended_at is not None:
        return None, None
    pairs = [(a.resolve_due_at, a.resolve_warn_at)]
    if a.acknowledged_at is None:
        pairs.insert(0, (a.acknowledge_due_at, a.acknowledge_warn_at))
    if any(due is None or warn is None for due, warn in pairs):
        return None, None
    return min(due for due, _ in pairs), min(warn for _, warn in pairs)  # type: ignore[type-var]


def late_targets(a: Assignment) -> list[tuple[str, datetime]]:
    """Targets just completed after their due and not yet flagged: (target, due)."""
    late = []
    response = a.acknowledged_at or (a.ended_at if a.outcome in RESPONSE_OUTCOMES else None)
    ack_due = a.acknowledge_due_at
    if response and ack_due and response > ack_due and a.acknowledge_breached_at is None:
        late.append(("acknowledge", ack_due))
    done = a.ended_at if a.outcome in RESPONSE_OUTCOMES else None
    if done and a.resolve_due_at and done > a.resolve_due_at and a.resolve_breached_at is None:
        late.append(("resolve", a.resolve_due_at))
    return late


async def pauses_of(
    session: AsyncSession, *, assignment_ids: Iterable[int]
) -> dict[int, list[Pause]]:
    """Pauses per assignment, oldest first."""
    ids = list(assignment_ids)
    if not ids:
        return {}
    stmt = (
        select(AssignmentPause)
        .where(ids_in(session, AssignmentPause.assignment_id, ids))
        .order_by(AssignmentPause.started_at)
    )
    out: dict[int, list[Pause]] = {i: [] for i in ids}
    for p in (await session.scalars(stmt)).all():
        out[p.assignment_id].append((p.started_at, p.ended_at))
    return out


def breach_events(
    *,
    ticket_id: int,
    assignment_id: int,
    unit: str,
    target: str,
    due_at: datetime,
    escalate_to: str | None,
    now: datetime,
    actor: str,
) -> list[dict[str, Any]]:
    """sla_breached (at the due instant) and the escalation it records."""
    rows = [
        event_row(
            ticket_id,
            assignment_id,
            "sla_breached",
            due_at,
            now,
            actor,
            {"target": target, "unit": unit, "due_at": due_at.isoformat()},
        ),
    ]
    if escalate_to:
        rows.append(
            event_row(
                ticket_id,
                assignment_id,
                "escalated",
                due_at,
                now,
                actor,
                {"target": target, "from_unit": unit, "to_unit": escalate_to},
            )
        )
    return rows


def event_row(
    ticket_id: int,
    assignment_id: int | None,
    kind: str,
    at: datetime,
    now: datetime,
    actor: str,
    details: dict[str, Any],
) -> dict[str, Any]:
    """A ticket_event row; details without the keys whose value is None."""
    return {
        "ticket_id": ticket_id,
        "assignment_id": assignment_id,
        "kind": kind,
        "occurred_at": at,
        "recorded_at": now,
        "actor": actor,
        "details": {k: v for k, v in details.items() if v is not None},
    }


# -- the scan ------------------------------------------------------------------------------


@dataclass
class ScanReport:
    warnings: int = 0
    breaches: int = 0

    def __str__(self) -> str:
        return f"{self.warnings} warning(s), {self.breaches} breach(es)"


def claim_statement(target: str, kind: str, now: datetime, batch: int, dialect: str) -> Any:
    """UPDATE … RETURNING that flags up to `batch` due targets, each exactly once.

    The flag column is set only where it is still NULL, re-checked under the row lock, so of
    several scanners racing for a row one wins; on PostgreSQL SKIP LOCKED also keeps them from
    queueing behind each other.
    """
    instant = getattr(Assignment, f"{target}_{'due_at' if kind == 'breach' else 'warn_at'}")
    flag = getattr(Assignment, f"{target}_{'breached_at' if kind == 'breach' else 'warned_at'}")
    open_ = [Assignment.ended_at.is_(None)]
    if target == "acknowledge":
        open_.append(Assignment.acknowledged_at.is_(None))
    pending = and_(flag.is_(None), *open_, instant <= now)
    candidates = select(Assignment.id).where(pending).order_by(instant).limit(batch)
    if dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    return (
        update(Assignment)
        .where(Assignment.id.in_(candidates.scalar_subquery()), pending)
        .values({flag: now})
        .returning(Assignment.id, Assignment.ticket_id, Assignment.unit_code, instant)
        .execution_options(synchronize_session=False)
    )


async def scan_batch(
    session: AsyncSession, *, catalog: Catalog, now: datetime, batch: int = 500
) -> ScanReport:
    """Flag and record every warning and breach due by `now` (up to `batch` per kind)."""
    report = ScanReport()
    connection = await session.connection()
    dialect = connection.dialect.name
    events: list[dict[str, Any]] = []
    for target in TARGETS:
        for kind in ("warning", "breach"):
            rows = (
                await connection.execute(claim_statement(target, kind, now, batch, dialect))
            ).all()
            for assignment_id, ticket_id, unit, instant in rows:
                if kind == "warning":
                    report.warnings += 1
                    events.append(
                        event_row(
                            ticket_id,
                            assignment_id,
                            "sla_warning",
                            instant,
                            now,
                            "sla-scan",
                            {"target": target, "unit": unit, "warn_at": instant.isoformat()},
                        )
                    )
                else:
                    report.breaches += 1
                    parent = catalog.units.get(unit)
                    events.extend(
                        breach_events(
                            ticket_id=ticket_id,
                            assignment_id=assignment_id,
                            unit=unit,
                            target=target,
                            due_at=instant,
                            escalate_to=parent.escalation if parent else None,
                            now=now,
                            actor="sla-scan",
                        )
                    )
    if events:
        await insert_events(connection, events)  # with their outbox rows
    return report


async def run_scan(
    factory: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    now: datetime,
    batch: int = 500,
) -> ScanReport:
    """Scan until nothing is left, one transaction per batch. Safe to run in every instance."""
    total = ScanReport()
    while True:
        async with transaction(factory) as session:
            report = await scan_batch(session, catalog=catalog, now=now, batch=batch)
        total.warnings += report.warnings
        total.breaches += report.breaches
        if report.warnings < batch and report.breaches < batch:
            return total
