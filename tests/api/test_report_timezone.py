"""Reports in a time zone other than Vietnam's: the period's bounds and its days agree.

Issue 12, part 5: the period was bounded in Asia/Ho_Chi_Minh whatever HOTLINE_TIMEZONE said,
while PostgreSQL grouped days in the setting and SQLite in Vietnam's offset, so one ticket could
fall outside its own day or land in a day outside the period. Runs on both databases (the suite
runs on PostgreSQL when HOTLINE_TEST_DATABASE_URL is set).
"""

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from app.db import make_session_factory
from app.reports.service import ReportFilters, ReportService
from app.users.principal import Principal
from tests.conftest import create_ticket

# Instants chosen around midnight in Hà Nội, Tokyo (UTC+9) and UTC.
RECEIVED = (
    datetime(2026, 3, 16, 14, 30, tzinfo=UTC),  # 16th 21:30 Hà Nội, 16th 23:30 Tokyo
    datetime(2026, 3, 16, 15, 30, tzinfo=UTC),  # 16th 22:30 Hà Nội, 17th 00:30 Tokyo
    datetime(2026, 3, 16, 16, 30, tzinfo=UTC),  # 16th 23:30 Hà Nội, 17th 01:30 Tokyo
    datetime(2026, 3, 17, 3, 0, tzinfo=UTC),  # 17th everywhere
    datetime(2026, 3, 17, 16, 30, tzinfo=UTC),  # 17th 23:30 Hà Nội, 18th 01:30 Tokyo
    datetime(2026, 3, 17, 23, 30, tzinfo=UTC),  # 18th 06:30 Hà Nội, 18th 08:30 Tokyo
)
NOW = datetime(2026, 3, 20, 5, 0, tzinfo=UTC)
SUPERVISOR = Principal(username="supervisor", role="supervisor")


def local_days(timezone: str, first: date, last: date) -> dict[str, int]:
    """What the report must say: tickets per local day in the zone, inside [first, last]."""
    days = [at.astimezone(ZoneInfo(timezone)).date() for at in RECEIVED]
    return dict(sorted(Counter(d.isoformat() for d in days if first <= d <= last).items()))


@pytest.fixture
async def tickets(client, clock):
    clock.now = NOW
    # Every ticket goes to one unit at intake: an assignment assigned when it was received.
    for at in RECEIVED:
        await create_ticket(client, received_at=at.isoformat())


@pytest.mark.parametrize("timezone", ["Asia/Tokyo", "UTC", "Asia/Ho_Chi_Minh"])
async def test_days_and_period_bounds_follow_the_time_zone(app, tickets, timezone):
    sessions = make_session_factory(app.state.runtime.engine)
    async with sessions() as session:
        service = ReportService(
            session=session,
            catalog=app.state.runtime.catalog,
            sla=app.state.runtime.sla,
            now=NOW,
            principal=SUPERVISOR,
            timezone=timezone,
        )

        async def by_day(first: str, last: str) -> tuple[dict[str, int], int]:
            period = service.period(first, last)
            scope = service.scope(*period, ReportFilters())
            report = await service.sla_report(period, scope, service.grouping(["day"], None, None))
            assert report.period.timezone == timezone
            days = {row.group["day"]: row.assignments for row in report.rows}
            return days, report.totals.assignments

        # One day: exactly the tickets of that local date, all grouped under it.
        days, total = await by_day("2026-03-17", "2026-03-17")
        expected = local_days(timezone, date(2026, 3, 17), date(2026, 3, 17))
        assert days == expected and total == sum(expected.values())
        # Three days: every ticket, each in its own local day; no day outside the period.
        days, total = await by_day("2026-03-16", "2026-03-18")
        assert days == local_days(timezone, date(2026, 3, 16), date(2026, 3, 18))
        assert total == len(RECEIVED)


async def test_the_default_period_ends_today_in_the_time_zone(app):
    # At 23:30 UTC on 19 March it is still the 19th in UTC, already the 20th in Tokyo.
    late = datetime(2026, 3, 19, 23, 30, tzinfo=UTC)
    sessions = make_session_factory(app.state.runtime.engine)
    async with sessions() as session:
        for timezone, today in [("UTC", "2026-03-19"), ("Asia/Tokyo", "2026-03-20")]:
            service = ReportService(
                session=session,
                catalog=app.state.runtime.catalog,
                sla=app.state.runtime.sla,
                now=late,
                principal=SUPERVISOR,
                timezone=timezone,
            )
            first, last = service.period(None, None)
            assert last.isoformat() == today and (last - first).days == 29
