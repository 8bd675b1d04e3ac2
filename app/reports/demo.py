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

import bisect
import itertools
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.catalog import Catalog
from app.db import transaction
from app.sla import SlaConfig, add_working
from app.tickets import repository as ticket_repo
from app.tickets.models import Assignment, Ticket
from app.tickets.schemas import (
    ActionIn,
    CallerIn,
    DuplicateIn,
    OptionalReasonIn,
    ReasonIn,
    RequestInfoIn,
    ResolveIn,
    TicketCreate,
    TransferIn,
)
from app.tickets.service import Router, TicketService
from app.tickets.sla import SlaKeeper, run_scan
from app.timefmt import LOCAL_TZ
from app.users.principal import Principal

CHANNELS = {"phone": 55, "zalo": 15, "app": 10, "web": 8, "sms": 4, "email": 3, "walk_in": 2}
PRIORITIES = {"normal": 72, "high": 14, "low": 8, "urgent": 6}
HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 12, 8, 10, 14, 15, 13, 10, 8, 7, 6, 4, 3, 2]
WEEKDAY = [1.0, 1.0, 0.97, 0.95, 0.92, 0.55, 0.45]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Ngọc", "Hữu", "Thanh"]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Hà", "Hùng", "Lan", "Mai", "Nam", "Phương", "Tuấn", "Yến"]
STREETS = [
    "Trần Thái Tông",
    "Xuân Thủy",
    "Láng",
    "Giải Phóng",
    "Kim Mã",
    "Nguyễn Trãi",
    "Hoàng Quốc Việt",
]
PHRASES = [
    "Đề nghị cơ quan chức năng kiểm tra, xử lý",
    "Tình trạng kéo dài nhiều ngày",
    "Người dân rất bức xúc",
    "Đã phản ánh nhưng chưa được giải quyết",
]
RESOLUTIONS = ["Đã xử lý xong", "Đã kiểm tra và khắc phục", "Đã chuyển đội thi công khắc phục"]
REJECTIONS = ["Không thuộc thẩm quyền", "Địa chỉ thuộc địa bàn khác", "Nội dung thuộc ngành dọc"]
MINUTE = 60
MOBILE = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "070", "081"]


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
    factory: async_sessionmaker[AsyncSession]
    catalog: Catalog
    sla: SlaConfig
    router: Router
    now: datetime
    rng: random.Random
    reference_prefix: str = "HN"
    report: DemoReport = field(default_factory=DemoReport)
    speed: dict[str, float] = field(default_factory=dict)
    earlier: dict[str | None, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.keeper = SlaKeeper(self.sla, self.catalog)
        self.operator = Principal(username="operator.demo", role="operator")
        for code in sorted(self.catalog.units):
            speed = math.exp(self.rng.gauss(0, 0.35))
            if self.rng.random() < 0.12:  # the late units
                speed *= self.rng.uniform(2.5, 5.0)
            self.speed[code] = speed

    # -- what comes in -------------------------------------------------------------------

    def call_times(self, count: int, months: float) -> list[datetime]:
        """`count` call instants over the last `months`, weekdays and office hours busier."""
        start = (self.now - timedelta(days=round(months * 30.44))).astimezone(LOCAL_TZ).date()
        days = [start + timedelta(days=n) for n in range((self.now.date() - start).days + 1)]
        day_weights = list(itertools.accumulate(WEEKDAY[d.weekday()] for d in days))
        hour_weights = list(itertools.accumulate(HOURS))
        out = []
        while len(out) < count:
            day = days[bisect.bisect_left(day_weights, self.rng.random() * day_weights[-1])]
            hour = bisect.bisect_left(hour_weights, self.rng.random() * hour_weights[-1])
            at = datetime(
                day.year, day.month, day.day, hour, self.rng.randrange(60), tzinfo=LOCAL_TZ
            )
            if at < self.now - timedelta(minutes=10):
                out.append(at.astimezone(UTC))
        return sorted(out)

    def area_text(self, n: int) -> tuple[str, str]:
        """(area code, what the operator typed): every area in turn, then at random."""
        areas = sorted(
            (a for a in self.catalog.areas.values() if a.parent is not None), key=lambda a: a.code
        )
        area = areas[n % len(areas)] if n < len(areas) else self.rng.choice(areas)
        roll = self.rng.random()
        if roll < 0.5:
            return area.code, area.code
        if roll < 0.8:
            return area.code, area.name
        former = [f.name for f in self.catalog.former if f.areas == (area.code,)]
        text = self.rng.choice(former) if former else area.name.lower()
        try:  # a former name some other district also had is not one the demo types
            if self.catalog.resolve_area(text).code == area.code:  # exactly that one area
                return area.code, text
        except LookupError:
            pass
        return area.code, area.name

    def topic(self, n: int) -> str:
        codes = sorted(self.catalog.topics)
        return codes[n % len(codes)] if n < len(codes) else self.rng.choice(codes)

    def body(self, n: int, received_at: datetime) -> TicketCreate:
        rng = self.rng
        topic = self.topic(n)
        _, area = self.area_text(n)
        anonymous = rng.random() < 0.08
        caller = CallerIn(
            name=None
            if anonymous
            else f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            phone=None
            if anonymous
            else f"{rng.choice(MOBILE)}{rng.randrange(10)} {rng.randrange(1000):03d} "
            f"{rng.randrange(1000):03d}",
            anonymous=anonymous,
            confidential=not anonymous and rng.random() < 0.04,
        )
        name = self.catalog.topics[topic].name
        return TicketCreate(
            channel=rng.choices(list(CHANNELS), weights=list(CHANNELS.values()))[0],
            caller=caller,
            description=f"{name}. {rng.choice(PHRASES)}.",
            topic=topic,
            area=area,
            address=f"Số {rng.randrange(1, 300)} {rng.choice(STREETS)}",
            priority=rng.choices(list(PRIORITIES), weights=list(PRIORITIES.values()))[0],
            received_at=received_at,
        )

    # -- the service, as of an instant ----------------------------------------------------

    def service(self, session: AsyncSession, at: datetime, principal: Principal) -> TicketService:
        return TicketService(
            session=session,
            catalog=self.catalog,
            router=self.router,
            now=at,
            principal=principal,
            sla=self.keeper,
            reference_prefix=self.reference_prefix,
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
        body = self.body(n, received_at)
        ticket, _ = await service.create(body, None)
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
    factory: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    sla: SlaConfig,
    router: Router,
    tickets: int,
    months: float = 6,
    seed: int = 1022,
    now: datetime,
    reference_prefix: str = "HN",
    progress: Callable[[int], Any] | None = None,
) -> DemoReport:
    """Create `tickets` tickets with their histories up to `now`, one transaction each."""
    generator = DemoGenerator(
        factory, catalog, sla, router, now, random.Random(seed), reference_prefix
    )
    for n, received_at in enumerate(generator.call_times(tickets, months)):
        async with transaction(factory) as session:
            await generator.story(session, n, received_at)
        if progress is not None:
            progress(n + 1)
    scan = await run_scan(factory, catalog=catalog, now=now)
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
