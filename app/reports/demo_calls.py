"""The calls of the demo history (app.reports.demo): when people call, from where, about what,
and what the operator types: area codes, names without accents or former names, as at the desk.

Weights are a plausible Hanoi switchboard (more on weekdays and in office hours, most calls by
phone, a few anonymous or confidential callers), not measured figures.
"""

import bisect
import itertools
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from app.catalog.catalog import Catalog
from app.tickets.schemas import CallerIn, TicketCreate
from app.timefmt import LOCAL_TZ

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
MOBILE = ["090", "091", "093", "094", "096", "097", "098", "086", "088", "070", "081"]


@dataclass
class Calls:
    """Makes the demo's calls from one random stream (shared with the stories, so that a seed
    gives one history); `now` is UTC, call instants are local office hours."""

    catalog: Catalog
    now: datetime
    rng: random.Random

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
