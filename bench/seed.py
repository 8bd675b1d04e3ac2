"""Bulk-load a realistic SLA history into PostgreSQL for bench/reports.py (not run by the tests).

    .venv/bin/python bench/seed.py --assignments 1000000
    .venv/bin/python bench/seed.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench

Fast path for benchmarks: rows go in with COPY, not through the service (the realistic,
slower path is `hotline demo generate`). The database is created if missing, migrated, given
the reference data, and its ticket tables are emptied first.

What is realistic about it:
- tickets over --months up to now: more on weekdays and office hours, a rainy-season peak for
  flooding and drainage, volume growing over time; every current ward and commune (weighted),
  every topic (weighted), Vietnamese channels and priorities;
- each ticket is routed by the real rules (app.routing) and timed by the real SLA policies and
  calendars (sla.yaml, Vietnamese holidays): due and warning instants, and the working seconds
  to each response, are exact, computed on a per-minute table of cumulative working time
  (spot-checked against app.sla.add_working at the end);
- units differ: most answer well within their targets, about one in eight is slow; the
  switchboard transfers, ward committees sometimes reject ("not our jurisdiction"), citizens
  are asked for details (pauses), resolutions are reopened, tickets cancelled or duplicated;
  recent work is still open, some of it overdue.
Of the events only `reopened` is generated (the report counts reopened resolutions from it);
co-handlers are not generated.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import math
import random
import sys
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy.engine import make_url

from app.catalog.loader import load_catalog
from app.config import Settings
from app.migrate import upgrade
from app.routing import TicketFacts, load_ruleset
from app.setup import sync_reference
from app.sla import CALENDAR_TIME, Calendar, Policy, SlaConfig, add_working, load_sla
from app.text import fold
from app.tickets.models import Assignment, AssignmentPause, Ticket
from app.timefmt import LOCAL_TZ

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_reports"
MINUTE = 60

CHANNELS = {
    "phone": 55,
    "zalo": 15,
    "app": 10,
    "web": 8,
    "sms": 4,
    "email": 3,
    "walk_in": 2,
    "open311": 3,
}
PRIORITIES = {"normal": 72, "high": 14, "low": 8, "urgent": 6}
# Calls per local hour of the day (relative).
HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 12, 8, 10, 14, 15, 13, 10, 8, 7, 6, 4, 3, 2]
WEEKDAY = [1.0, 1.0, 0.97, 0.95, 0.92, 0.55, 0.45]
RAINY = {"ngap-ung", "cay-xanh-chieu-sang"}
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Ngọc", "Hữu"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Tuấn"]
STREETS = ["Trần Thái Tông", "Xuân Thủy", "Láng", "Giải Phóng", "Kim Mã", "Nguyễn Trãi"]


class WorkClock:
    """Cumulative working seconds per minute of one calendar, for O(log n) clock arithmetic.

    Exact for minute-aligned instants and whole-minute durations (working periods are
    minute-aligned), which is all the seed uses.
    """

    def __init__(self, calendar: Calendar, start: datetime, end: datetime):
        self.origin = start
        minutes = int((end - start).total_seconds() // MINUTE)
        working = bytearray(minutes)
        if calendar.always_open:
            working = bytearray(b"\x01" * minutes)
        else:
            day = start.astimezone(calendar.zone).date() - timedelta(days=1)
            last = end.astimezone(calendar.zone).date()
            while day <= last:
                for a, b in calendar.periods_on(day):
                    i = max(0, self._index(a))
                    j = min(minutes, self._index(b))
                    if i < j:
                        working[i:j] = b"\x01" * (j - i)
                day += timedelta(days=1)
        self.cum = array("q", itertools.accumulate(working, initial=0))
        self.minutes = minutes

    def _index(self, at: datetime) -> int:
        return int((at - self.origin).total_seconds() // MINUTE)

    def at(self, index: int) -> datetime:
        return self.origin + timedelta(minutes=index)

    def between(self, a: datetime, b: datetime) -> int:
        """Working seconds in [a, b)."""
        if b <= a:
            return 0
        return (self.cum[self._index(b)] - self.cum[self._index(a)]) * MINUTE

    def add(self, start: datetime, seconds: int) -> datetime:
        """The instant `seconds` of working time after `start` (like app.sla.add_working)."""
        if seconds <= 0:
            return start
        i = self._index(start)
        j = bisect.bisect_left(self.cum, self.cum[i] + seconds // MINUTE, lo=i)
        if j > self.minutes:
            raise ValueError("due beyond the seed's clock horizon")
        return self.at(j)


@dataclass
class Plan:
    """What the seed needs per (unit, policy): targets and the clocks they run on."""

    policy: Policy
    ack_seconds: int
    res_seconds: int
    ack_clock: WorkClock
    res_clock: WorkClock


@dataclass
class Seeder:
    catalog: Any
    sla: SlaConfig
    ruleset: Any
    start: datetime
    now: datetime
    rng: random.Random
    clocks: dict[str, WorkClock] = field(default_factory=dict)
    plans: dict[tuple[str, str], Plan] = field(default_factory=dict)
    unit_speed: dict[str, float] = field(default_factory=dict)
    next_ticket: int = 1
    next_assignment: int = 1
    next_pause: int = 1

    def __post_init__(self) -> None:
        horizon = self.now + timedelta(days=400)
        origin = self.start - timedelta(days=2)
        codes = {
            self.sla.calendar_code_for(p, u)
            for p in self.sla.policies
            for u in self.catalog.units.values()
        }
        for code in sorted(codes):
            self.clocks[code] = WorkClock(self.sla.calendars[code], origin, horizon)
        self.clocks["calendar-time"] = WorkClock(CALENDAR_TIME, origin, horizon)
        for code in sorted(self.catalog.units):
            speed = math.exp(self.rng.gauss(0, 0.35))
            if self.rng.random() < 0.12:  # the late units
                speed *= self.rng.uniform(2.5, 5.0)
            self.unit_speed[code] = speed
        self.areas = [a for a in self.catalog.areas.values() if a.parent is not None]
        self.area_weights = list(
            itertools.accumulate(math.exp(self.rng.gauss(0, 0.6)) for _ in self.areas)
        )
        self.topics = list(self.catalog.topics.values())
        self.topic_weights = list(
            itertools.accumulate(
                math.exp(self.rng.gauss(0, 0.8)) * (0.15 if t.parent is None else 1.0)
                for t in self.topics
            )
        )
        self.days = []
        weights = []
        day = self.start.astimezone(LOCAL_TZ).date()
        last = self.now.astimezone(LOCAL_TZ).date()
        total_days = (last - day).days + 1
        for n in range(total_days):
            current = day + timedelta(days=n)
            growth = 1 + 0.3 * n / 365
            self.days.append(current)
            weights.append(WEEKDAY[current.weekday()] * growth)
        self.day_weights = list(itertools.accumulate(weights))
        self.hour_weights = list(itertools.accumulate(HOURS))

    def plan(self, unit: str, decision_policy: str | None, facts: TicketFacts) -> Plan:
        kind = self.catalog.units[unit].kind
        policy = self.sla.policy_for(
            unit, kind, facts.topic, facts.priority, facts.channel, requested=decision_policy
        )
        key = (unit, policy.id)
        plan = self.plans.get(key)
        if plan is None:
            calendar = self.sla.calendar_for(policy, unit)

            def clock(target: Any) -> WorkClock:
                return self.clocks["calendar-time" if target.calendar_time else calendar.code]

            plan = self.plans[key] = Plan(
                policy,
                policy.acknowledge.seconds(calendar),
                policy.resolve.seconds(calendar),
                clock(policy.acknowledge),
                clock(policy.resolve),
            )
        return plan

    # -- one ticket ----------------------------------------------------------------------

    def calls(self, assignments: int) -> Iterator[tuple[datetime, date]]:
        """Call instants in time order, day by day, until about `assignments` were made.

        Rows then go in roughly in the order the service would write them (assigned_at
        correlates with the physical order, as in production). The calls per day follow the
        day weights, re-aimed each day at the assignments still to make.
        """
        rng = self.rng
        weights = [b - a for a, b in itertools.pairwise([0.0, *self.day_weights])]
        for n, day in enumerate(self.days):
            left = assignments - (self.next_assignment - 1)
            if left <= 0:
                return
            made = self.next_ticket - 1
            per_ticket = (self.next_assignment - 1) / made if made else 1.4
            share = weights[n] / sum(weights[n:])
            expected = left / per_ticket * share
            count = int(expected) + (rng.random() < expected - int(expected))
            instants = sorted(
                datetime(
                    day.year,
                    day.month,
                    day.day,
                    bisect.bisect_left(self.hour_weights, rng.random() * self.hour_weights[-1]),
                    rng.randrange(60),
                    tzinfo=LOCAL_TZ,
                )
                for _ in range(count)
            )
            for at in instants:
                if self.next_assignment > assignments:
                    return
                if at <= self.now:
                    yield at.astimezone(UTC), day
        # Short of the target after the last day: a few more calls in the last hours.
        while self.next_assignment <= assignments:
            at = self.now - timedelta(minutes=rng.randrange(1, 600))
            yield at, at.astimezone(LOCAL_TZ).date()

    def pick_topic(self, day: date) -> Any:
        rng = self.rng
        while True:
            topic = self.topics[
                bisect.bisect_left(self.topic_weights, rng.random() * self.topic_weights[-1])
            ]
            group = topic.code.split(".")[0]
            # Rainy season (June to September): flooding and fallen trees two to three times.
            if group in RAINY and day.month not in (6, 7, 8, 9) and rng.random() < 0.6:
                continue
            return topic

    def ticket(
        self, received: datetime, day: date
    ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
        rng = self.rng
        topic = self.pick_topic(day)
        area = self.areas[
            bisect.bisect_left(self.area_weights, rng.random() * self.area_weights[-1])
        ]
        channel = rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0]
        priority = rng.choices(list(PRIORITIES), weights=list(PRIORITIES.values()))[0]
        description = f"{topic.name} tại {area.name}"
        address = f"Số {rng.randrange(1, 300)} {rng.choice(STREETS)}"
        facts = TicketFacts(
            topic=topic.code,
            area=area.code,
            channel=channel,
            priority=priority,
            description=description,
            received_at=received,
        )
        ticket_id = self.next_ticket
        self.next_ticket += 1
        anonymous = rng.random() < 0.08
        confidential = not anonymous and rng.random() < 0.04
        ticket: dict[str, Any] = {
            "id": ticket_id,
            "channel": channel,
            "status": "new",
            "priority": priority,
            "caller_name": None
            if anonymous
            else f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "caller_phone": None if anonymous else f"+849{rng.randrange(10**8):08d}",
            "caller_email": None,
            "anonymous": anonymous,
            "confidential": confidential,
            "description": description,
            "search_text": fold(f"{description} {address}"),
            "topic_code": topic.code,
            "area_code": area.code,
            "address": address,
            "latitude": None,
            "longitude": None,
            "attachments": "[]",
            "tags": "[]",
            "received_at": received,
            "created_at": received + timedelta(minutes=rng.randrange(1, 6)),
            "updated_at": received,
            "last_event_at": received,
            "current_unit_code": None,
            "duplicate_of_id": None,
            "sla_due_at": None,
            "sla_warn_at": None,
            "created_by": "seed",
            "version": 1,
        }
        assignments: list[dict[str, Any]] = []
        pauses: list[dict[str, Any]] = []
        exclude: set[str] = set()
        decision = self.ruleset.route(facts, frozenset())
        unit, requested = decision.unit, decision.sla_policy
        at = received
        for _ in range(5):
            if unit is None or at > self.now:
                break
            row, next_step = self.assignment(ticket_id, unit, requested, facts, at, pauses)
            assignments.append(row)
            if next_step is None:
                break
            kind, at = next_step
            if kind == "reject":
                exclude.add(unit)
                decision = self.ruleset.route(facts, frozenset(exclude))
                unit, requested = decision.unit, decision.sla_policy
            elif kind == "transfer":
                ward = self.catalog.units_serving(area.code, "ubnd")
                choices = [u.code for u in ward] or ["so-xay-dung"]
                unit, requested = rng.choice(choices), None
            else:  # reopen: the same unit, a fresh clock
                requested = row["sla_policy"]
        last = assignments[-1] if assignments else None
        ticket["current_unit_code"] = (
            last["unit_code"] if last and last["ended_at"] is None else None
        )
        ticket["status"] = self.status(last)
        if last is not None:
            ticket["last_event_at"] = ticket["updated_at"] = max(
                t for t in (last["assigned_at"], last["acknowledged_at"], last["ended_at"]) if t
            )
            if last["ended_at"] is None:
                ticket["sla_due_at"] = (
                    last["resolve_due_at"]
                    if last["acknowledged_at"]
                    else last["acknowledge_due_at"]
                )
        return ticket, assignments, pauses

    @staticmethod
    def status(last: dict[str, Any] | None) -> str:
        if last is None:
            return "new"
        outcome = last["outcome"]
        if outcome is None:
            return "in_progress" if last["acknowledged_at"] else "assigned"
        return {"resolved": "closed", "cancelled": "cancelled", "duplicate": "duplicate"}.get(
            outcome, "new"
        )

    def assignment(
        self,
        ticket_id: int,
        unit: str,
        requested: str | None,
        facts: TicketFacts,
        assigned: datetime,
        pauses: list[dict[str, Any]],
    ) -> tuple[dict[str, Any], tuple[str, datetime] | None]:
        rng = self.rng
        plan = self.plan(unit, requested, facts)
        kind = self.catalog.units[unit].kind
        speed = self.unit_speed[unit]
        ack_clock, res_clock = plan.ack_clock, plan.res_clock
        row: dict[str, Any] = {
            "id": self.next_assignment,
            "ticket_id": ticket_id,
            "unit_code": unit,
            "assigned_at": assigned,
            "acknowledged_at": None,
            "resolved_at": None,
            "ended_at": None,
            "outcome": None,
            "rule_id": None,
            "ruleset_version": None,
            "sla_policy": plan.policy.id,
            "acknowledge_working_seconds": None,
            "resolve_working_seconds": None,
        }
        self.next_assignment += 1

        def minutes(seconds: float) -> int:
            return max(MINUTE, int(seconds) // MINUTE * MINUTE)

        ack_work = minutes(plan.ack_seconds * speed * math.exp(rng.gauss(math.log(0.3), 0.9)))
        res_work = minutes(plan.res_seconds * speed * math.exp(rng.gauss(math.log(0.4), 0.8)))
        res_work = max(res_work, ack_work + MINUTE)
        ack_at = ack_clock.add(assigned, ack_work)
        ended_kind: str | None = None
        roll = rng.random()
        if kind == "tong-dai":
            ended_kind = "transferred"
        elif roll < (0.06 if kind == "ubnd" else 0.03):
            ended_kind = "rejected"
        elif roll < 0.075:
            ended_kind = "cancelled" if rng.random() < 0.4 else "duplicate"
        else:
            ended_kind = "resolved"
        # Waiting for the citizen, now and then, between acknowledging and resolving.
        pause: tuple[datetime, datetime] | None = None
        if ended_kind == "resolved" and rng.random() < 0.1:
            start = res_clock.add(
                assigned, ack_work + rng.randrange(0, res_work - ack_work, MINUTE)
            )
            start = max(start, ack_at)
            stop = start + timedelta(minutes=rng.randrange(240, 6 * 1440))
            pause = (start, stop)
        pause_work = res_clock.between(*pause) if pause else 0
        if ended_kind in ("transferred", "rejected"):
            end_at = ack_at
        elif ended_kind in ("cancelled", "duplicate"):
            end_at = assigned + timedelta(minutes=rng.randrange(5, 3 * 1440))
        else:
            end_at = res_clock.add(assigned, res_work + pause_work)
        # What had happened by now.
        now = self.now
        ack_due = ack_clock.add(assigned, plan.ack_seconds)
        warn = plan.policy.warning_seconds
        ack_warn = ack_clock.add(assigned, warn(plan.ack_seconds))
        # A pause begun before the due pushes it by the working time spent waiting; while it
        # is still open the due is unknown (NULL), as the service stores it.
        res_due = res_clock.add(assigned, plan.res_seconds)
        res_warn = res_clock.add(assigned, warn(plan.res_seconds))
        if pause is not None and pause[0] <= now and pause[0] < res_due:
            if pause[1] > now:
                res_due = res_warn = None
            else:
                res_due = res_clock.add(assigned, plan.res_seconds + pause_work)
                res_warn = res_clock.add(assigned, warn(plan.res_seconds) + pause_work)
        if pause is not None and pause[0] <= now:
            pauses.append(
                {
                    "id": self.next_pause,
                    "assignment_id": row["id"],
                    "started_at": pause[0],
                    "ended_at": pause[1] if pause[1] <= now else None,
                }
            )
            self.next_pause += 1
        if ended_kind in ("resolved",) and ack_at <= now:
            row["acknowledged_at"] = ack_at
            row["acknowledge_working_seconds"] = ack_work
        next_step: tuple[str, datetime] | None = None
        if end_at <= now:
            row["ended_at"] = end_at
            row["outcome"] = ended_kind
            if ended_kind in ("resolved", "rejected", "transferred"):
                if ended_kind != "resolved":
                    row["acknowledge_working_seconds"] = ack_clock.between(assigned, end_at)
                row["resolve_working_seconds"] = res_clock.between(assigned, end_at) - pause_work
            if ended_kind == "resolved":
                row["resolved_at"] = end_at
                if rng.random() < 0.03:
                    reopen = end_at + timedelta(minutes=rng.randrange(600, 7 * 1440))
                    next_step = ("reopen", reopen)
            elif ended_kind in ("rejected", "transferred"):
                next_step = ("reject" if ended_kind == "rejected" else "transfer", end_at)
        row.update(
            acknowledge_due_at=ack_due,
            resolve_due_at=res_due,
            acknowledge_warn_at=ack_warn,
            resolve_warn_at=res_warn,
        )
        # The scan's flags, as they would stand by now (set once when reached).
        ack_done = row["acknowledged_at"] or (
            row["ended_at"] if row["outcome"] in ("rejected", "transferred") else None
        )
        res_done = (
            row["ended_at"] if row["outcome"] in ("resolved", "rejected", "transferred") else None
        )
        row["acknowledge_done_at"], row["resolve_done_at"] = ack_done, res_done
        row["acknowledge_warned_at"] = ack_warn if ack_warn <= min(ack_done or now, now) else None
        row["acknowledge_breached_at"] = ack_due if ack_due < min(ack_done or now, now) else None
        row["resolve_warned_at"] = (
            res_warn if res_warn is not None and res_warn <= min(res_done or now, now) else None
        )
        row["resolve_breached_at"] = (
            res_due if res_due is not None and res_due < min(res_done or now, now) else None
        )
        return row, next_step

    def check(self, samples: int = 300) -> None:
        """Spot-check the per-minute clocks against app.sla.add_working."""
        for (unit, _), plan in itertools.islice(self.plans.items(), samples):
            calendar = self.sla.calendar_for(plan.policy, unit)
            clock = calendar if not plan.policy.resolve.calendar_time else CALENDAR_TIME
            start = self.start + timedelta(minutes=self.rng.randrange(0, 500_000))
            expected = add_working(start, plan.res_seconds, clock)
            got = plan.res_clock.add(start, plan.res_seconds)
            assert expected == got, (unit, plan.policy.id, start, expected, got)


def _columns(model: Any) -> list[str]:
    return [c.name for c in model.__table__.columns]


def _records(model: Any, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Rows as COPY records in _columns(model) order; a column the seeder does not set (one
    added by a later migration) takes the model's scalar default, else NULL."""
    defaults = {
        c.name: c.default.arg
        for c in model.__table__.columns
        if c.default is not None and c.default.is_scalar
    }
    names = _columns(model)
    return [tuple(r[n] if n in r else defaults.get(n) for n in names) for r in rows]


async def _ensure_database(url: str) -> str:
    """The asyncpg DSN of the bench database, created if it does not exist."""
    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval(
            "SELECT 1 FROM pg_database WHERE datname = $1", parsed.database
        )
        if not exists:
            await conn.execute(f'CREATE DATABASE "{parsed.database}"')
    finally:
        await conn.close()
    return dsn


async def seed(args: argparse.Namespace, dsn: str) -> None:
    settings = Settings(env="test", database_url=args.url)
    await sync_reference(settings)
    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    ruleset = load_ruleset(settings.rules_dir, catalog, sla_policies=sla.policy_ids)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = (now - timedelta(days=round(args.months * 30.44))).replace(minute=0)
    t0 = time.perf_counter()
    seeder = Seeder(catalog, sla, ruleset, start, now, random.Random(args.seed))
    print(
        f"clocks built in {time.perf_counter() - t0:.1f}s; seeding {start:%Y-%m-%d} .. {now:%Y-%m-%d}"
    )
    conn = await asyncpg.connect(dsn)
    ticket_cols, assignment_cols = _columns(Ticket), _columns(Assignment)
    pause_cols = _columns(AssignmentPause)
    try:
        await conn.execute(
            "TRUNCATE co_handler, ticket_event, assignment_pause, idempotency_key, assignment, "
            "ticket RESTART IDENTITY CASCADE"
        )
        done = 0
        calls = seeder.calls(args.assignments)
        while done < args.assignments:
            tickets, assignments, pauses, events = [], [], [], []
            for received, day in calls:
                ticket, rows, stops = seeder.ticket(received, day)
                tickets.append(ticket)
                assignments += rows
                pauses += stops
                # The reopen events, recorded against the resolution they reopen (the
                # report's `reopened`); other events are not generated.
                events += [
                    (
                        ticket["id"],
                        a["id"],
                        "reopened",
                        b["assigned_at"],
                        b["assigned_at"],
                        "seed",
                        "{}",
                    )
                    for a, b in itertools.pairwise(rows)
                    if a["outcome"] == "resolved"
                ]
                if len(assignments) >= args.chunk:
                    break
            if not tickets:
                break
            await conn.copy_records_to_table(
                "ticket",
                records=_records(Ticket, tickets),
                columns=ticket_cols,
            )
            await conn.copy_records_to_table(
                "assignment",
                records=_records(Assignment, assignments),
                columns=assignment_cols,
            )
            if pauses:
                await conn.copy_records_to_table(
                    "assignment_pause",
                    records=[tuple(p[c] for c in pause_cols) for p in pauses],
                    columns=pause_cols,
                )
            if events:
                await conn.copy_records_to_table(
                    "ticket_event",
                    records=events,
                    columns=[
                        "ticket_id",
                        "assignment_id",
                        "kind",
                        "occurred_at",
                        "recorded_at",
                        "actor",
                        "details",
                    ],
                )
            done += len(assignments)
            rate = done / (time.perf_counter() - t0)
            print(f"  {done:>9,} assignments, {seeder.next_ticket - 1:>9,} tickets ({rate:,.0f}/s)")
        for table in ("ticket", "assignment", "assignment_pause", "ticket_event"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
        print("VACUUM ANALYZE ...")
        for table in ("ticket", "assignment", "assignment_pause", "ticket_event"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        seeder.check()
        stats = await conn.fetchrow(
            "SELECT count(*) AS n, count(*) FILTER (WHERE ended_at IS NULL) AS open, "
            "min(assigned_at) AS first, max(assigned_at) AS last FROM assignment"
        )
        print(
            f"done in {time.perf_counter() - t0:.0f}s: {stats['n']:,} assignments "
            f"({stats['open']:,} open), {stats['first']:%Y-%m-%d} .. {stats['last']:%Y-%m-%d}"
        )
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--assignments", type=int, default=1_000_000)
    parser.add_argument("--months", type=float, default=24)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1022)
    args = parser.parse_args()
    dsn = asyncio.run(_ensure_database(args.url))
    upgrade(args.url)
    asyncio.run(seed(args, dsn))


if __name__ == "__main__":
    main()
