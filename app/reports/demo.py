"""`hotline demo generate`: a realistic history, written through the ticket service.

Every ticket is created and worked with `TicketService`, back-dated with `received_at` and
`occurred_at`, exactly as the API would do it: routing, SLA due times, pauses, breaches and
events are the service's own. So a new install shows a meaningful SLA report at once.

The history: calls over the last few months (more on weekdays and in office hours), every
topic and every current ward or commune (given as codes, names without accents or former
names, as operators type them), Vietnamese channels and priorities, some anonymous and
confidential callers. Units have a speed: most answer well within their SLA, about one in
eight is slow. The switchboard transfers what reaches it, ward committees sometimes reject
("not our jurisdiction"), units ask citizens for details (the clock pauses), operators close
resolved tickets, some are reopened, cancelled or marked duplicate; recent work is still open,
some of it overdue. Deterministic for a given --seed and "now".
"""

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import transaction
from app.reports.demo_calls import Calls
from app.sla import add_working
from app.tickets import repository as ticket_repo
from app.tickets.assignment_clock import run_scan
from app.tickets.models import Assignment, Ticket
from app.tickets.schemas import (
    ActionIn,
    DuplicateIn,
    OptionalReasonIn,
    ReasonIn,
    RequestInfoIn,
    ResolveIn,
    TransferIn,
)
from app.tickets.service import TicketService
from app.users.principal import Principal

if TYPE_CHECKING:
    from app.runtime import Runtime

RESOLUTIONS = ["Đã xử lý xong", "Đã kiểm tra và khắc phục", "Đã chuyển đội thi công khắc phục"]
REJECTIONS = ["Không thuộc thẩm quyền", "Địa chỉ thuộc địa bàn khác", "Nội dung thuộc ngành dọc"]
MINUTE = 60


@dataclass
class DemoReport:
    tickets: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    breaches: int = 0
    warnings: int = 0

    def __str__(self) -> str:
        acts = ", ".join(f"{n} {a}" for a, n in sorted(self.actions.items()))
        return (
            f"{self.tickets} tickets; actions: {acts}; the SLA scan recorded "
            f"{self.warnings} warning(s) and {self.breaches} breach(es)"
        )


@dataclass
class DemoGenerator:
    """Plays each ticket's story through the TicketService of `runtime`, up to `now` (UTC)."""

    runtime: "Runtime"
    now: datetime
    rng: random.Random
    report: DemoReport = field(default_factory=DemoReport)
    speed: dict[str, float] = field(default_factory=dict)
    earlier: dict[str | None, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.catalog = self.runtime.catalog
        self.sla = self.runtime.sla
        self.keeper = self.runtime.sla_keeper
        self.operator = Principal(username="operator.demo", role="operator")
        for code in sorted(self.catalog.units):
            speed = math.exp(self.rng.gauss(0, 0.35))
            if self.rng.random() < 0.12:  # the late units
                speed *= self.rng.uniform(2.5, 5.0)
            self.speed[code] = speed
        self.calls = Calls(self.catalog, self.now, self.rng)

    # -- the service, as of an instant ----------------------------------------------------

    def service(self, session: AsyncSession, at: datetime, principal: Principal) -> TicketService:
        return TicketService(
            session=session,
            catalog=self.catalog,
            router=self.runtime.router,
            now=at,
            principal=principal,
            sla=self.keeper,
            reference_prefix=self.runtime.settings.reference_prefix,
        )

    def agent(self, unit: str) -> Principal:
        return Principal(username=f"agent.{unit}", role="unit_agent", units=frozenset({unit}))

    async def act(
        self,
        session: AsyncSession,
        ticket_id: int,
        action: str,
        at: datetime,
        principal: Principal,
        body: ActionIn,
    ) -> Ticket:
        service = self.service(session, at, principal)
        ticket = await service.load(str(ticket_id), for_update=True)
        await service.act(ticket, action, body)
        self.report.actions[action] += 1
        return ticket

    def working(self, a: Assignment, target: str, share: float) -> datetime | None:
        """The instant `share` of the target's time has run on the assignment's clock."""
        policy = self.sla.get(a.sla_policy or self.sla.default.id)
        calendar = self.sla.calendar_for(policy, a.unit_code)
        goal = policy.target(target)
        seconds = max(MINUTE, int(goal.seconds(calendar) * share) // MINUTE * MINUTE)
        return add_working(a.assigned_at, seconds, goal.clock(calendar))

    # -- one ticket's story ---------------------------------------------------------------

    async def story(self, session: AsyncSession, n: int, received_at: datetime) -> None:
        rng = self.rng
        typed = received_at + timedelta(minutes=rng.randrange(1, 8))
        service = self.service(session, min(typed, self.now), self.operator)
        body = self.calls.body(n, received_at)
        ticket = (await service.create(body, None)).ticket
        self.report.tickets += 1
        key = ticket.topic_code
        reopened = False
        for _ in range(6):  # one assignment after the other, as long as the story goes on
            current = (await ticket_repo.open_assignments(session, ticket_ids=[ticket.id])).get(
                ticket.id
            )
            if current is None:
                break
            step = await self.work(session, ticket, current, key, reopened)
            if step == "stop":
                break
            reopened = reopened or step == "reopened"
        self.earlier[key] = service.reference(ticket)

    async def work(
        self,
        session: AsyncSession,
        ticket: Ticket,
        a: Assignment,
        key: str | None,
        reopened: bool,
    ) -> str:
        """Play one assignment: 'next' (another unit has it), 'reopened', or 'stop'."""
        rng = self.rng
        unit = a.unit_code
        kind = self.catalog.units[unit].kind
        speed = self.speed[unit]
        agent = self.agent(unit)

        def share(median: float, spread: float) -> float:
            return speed * math.exp(rng.gauss(math.log(median), spread))

        respond = self.working(a, "acknowledge", share(0.3, 0.9))
        if respond is None or respond > self.now:
            return "stop"
        if kind == "tong-dai":
            rejected = set(await ticket_repo.rejected_units(session, ticket_id=ticket.id))
            wards = [u.code for u in self.catalog.units_serving(ticket.area_code or "", "ubnd")]
            to = next((c for c in wards if c not in rejected), "so-xay-dung")
            await self.act(
                session,
                ticket.id,
                "transfer",
                respond,
                self.operator,
                TransferIn(occurred_at=respond, unit=to, reason="Chuyển đơn vị có thẩm quyền"),
            )
            return "next"
        roll = rng.random()
        if roll < (0.06 if kind == "ubnd" else 0.03):
            await self.act(
                session,
                ticket.id,
                "reject",
                respond,
                agent,
                ReasonIn(occurred_at=respond, reason=rng.choice(REJECTIONS)),
            )
            return "next"
        if roll < 0.08:
            original = self.earlier.get(key)
            if original and rng.random() < 0.6:
                await self.act(
                    session,
                    ticket.id,
                    "duplicate",
                    respond,
                    self.operator,
                    DuplicateIn(occurred_at=respond, duplicate_of=original),
                )
            else:
                await self.act(
                    session,
                    ticket.id,
                    "cancel",
                    respond,
                    self.operator,
                    OptionalReasonIn(occurred_at=respond, reason="Gọi nhầm"),
                )
            return "stop"
        await self.act(
            session, ticket.id, "acknowledge", respond, agent, ActionIn(occurred_at=respond)
        )
        resolve = self.working(a, "resolve", max(share(0.4, 0.8), 0.02))
        if resolve is None or resolve <= respond:
            resolve = respond + timedelta(minutes=rng.randrange(10, 120))
        if rng.random() < 0.12:
            asked = respond + (resolve - respond) / 3
            answered = asked + timedelta(minutes=rng.randrange(120, 4 * 1440))
            if asked > self.now:
                return "stop"
            await self.act(
                session,
                ticket.id,
                "request-info",
                asked,
                agent,
                RequestInfoIn(
                    occurred_at=asked, question="Đề nghị cung cấp số nhà, vị trí cụ thể?"
                ),
            )
            if answered > self.now:
                return "stop"
            await self.act(
                session, ticket.id, "info-received", answered, agent, ActionIn(occurred_at=answered)
            )
            resolve += answered - asked
        if resolve > self.now:
            return "stop"
        await self.act(
            session,
            ticket.id,
            "resolve",
            resolve,
            agent,
            ResolveIn(occurred_at=resolve, resolution=rng.choice(RESOLUTIONS)),
        )
        later = resolve + timedelta(minutes=rng.randrange(600, 5 * 1440))
        if later > self.now:
            return "stop"
        if not reopened and rng.random() < 0.04:
            await self.act(
                session,
                ticket.id,
                "reopen",
                later,
                self.operator,
                ReasonIn(occurred_at=later, reason="Người dân phản ánh chưa được xử lý triệt để"),
            )
            return "reopened"
        if rng.random() < 0.7:
            await self.act(
                session, ticket.id, "close", later, self.operator, ActionIn(occurred_at=later)
            )
        return "stop"


async def generate(
    runtime: "Runtime",
    *,
    tickets: int,
    months: float = 6,
    seed: int = 1022,
    now: datetime,
    progress: Callable[[int], Any] | None = None,
) -> DemoReport:
    """Create `tickets` tickets with their histories up to `now` (UTC), one transaction each,
    through the runtime's catalog, rules and sla.yaml; the SLA scan then writes what is late."""
    factory = runtime.session_factory
    generator = DemoGenerator(runtime, now, random.Random(seed))
    for n, received_at in enumerate(generator.calls.call_times(tickets, months)):
        async with transaction(factory) as session:
            await generator.story(session, n, received_at)
        if progress is not None:
            progress(n + 1)
    scan = await run_scan(factory, catalog=runtime.catalog, now=now)
    generator.report.warnings, generator.report.breaches = scan.warnings, scan.breaches
    return generator.report


async def count_tickets(database_url: str) -> int:
    """How many tickets the database holds (demo generate refuses to mix with real ones)."""
    from sqlalchemy import func, select

    from app.db import make_engine

    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return (await conn.execute(select(func.count()).select_from(Ticket))).scalar_one()
    finally:
        await engine.dispose()
