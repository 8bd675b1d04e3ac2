"""The report service called directly: counts, breaches and parameter errors, no HTTP."""

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from app.errors import Forbidden, ValidationFailed
from app.reports.backlog import backlog
from app.reports.parameters import ReportFilters
from app.reports.repository import BreachQuery
from app.reports.service import ReportService
from app.tickets.models import Assignment, Ticket
from app.users.principal import Principal
from tests.service.conftest import SUPERVISOR, make_assignment, make_event, make_ticket, utc

MARCH = (date(2026, 3, 1), date(2026, 3, 31))
NOW = utc(2026, 4, 1)  # after March: every due instant below has passed


def reports(runtime, session, principal=SUPERVISOR, now=NOW) -> ReportService:
    return ReportService(
        session=session,
        catalog=runtime.catalog,
        sla=runtime.sla,
        now=now,
        principal=principal,
        timezone=runtime.settings.timezone,
    )


async def three_assignments(session):
    """On time, late (then resolved), and open past its due, all assigned in March: their
    tickets in that order."""
    on_time = await make_ticket(session, received_at=utc(2026, 3, 2, 2))
    await make_assignment(
        session, on_time, acknowledge_done_at=utc(2026, 3, 2, 3), acknowledged_at=utc(2026, 3, 2, 3)
    )
    late = await make_ticket(session, received_at=utc(2026, 3, 3, 2))
    await make_assignment(
        session,
        late,
        acknowledge_done_at=utc(2026, 3, 4, 2),
        acknowledged_at=utc(2026, 3, 4, 2),
        ended_at=utc(2026, 3, 6, 2),
        resolve_done_at=utc(2026, 3, 6, 2),
        outcome="resolved",
    )
    overdue = await make_ticket(session, received_at=utc(2026, 3, 9, 2))
    await make_assignment(session, overdue)
    return on_time, late, overdue


async def test_the_report_counts_each_target_on_time_late_or_open_overdue(runtime, session):
    await three_assignments(session)
    service = reports(runtime, session)
    scope = service.scope(*MARCH, ReportFilters())
    report = await service.sla_report(MARCH, scope, service.grouping(["unit"], None, None))

    [row] = report.rows
    assert row.group["unit_code"] == "ubnd-phuong-cau-giay"
    assert (row.assignments, row.open_now) == (3, 2)  # the late one was resolved
    assert (row.acknowledge_on_time, row.acknowledge_late, row.acknowledge_open_overdue) == (
        1,
        1,
        1,
    )
    assert row.acknowledge_on_time_rate == round(1 / 3, 4)
    # Resolve targets (5 days): the late one resolved in 3 days, the two open ones overdue.
    assert (row.resolve_on_time, row.resolve_open_overdue, row.resolved) == (1, 2, 1)
    assert report.totals.assignments == 3


async def test_a_reopened_resolution_is_counted_once_as_reopened(runtime, session):
    _, late, _ = await three_assignments(session)
    resolved = (
        await session.execute(select(Assignment).where(Assignment.ticket_id == late.id))
    ).scalar_one()
    await make_event(session, late, "reopened", utc(2026, 3, 7), assignment_id=resolved.id)
    service = reports(runtime, session)
    report = await service.sla_report(
        MARCH, service.scope(*MARCH, ReportFilters()), service.grouping(None, None, None)
    )
    assert (report.totals.resolved, report.totals.reopened) == (1, 1)


async def test_breaches_list_the_late_and_the_open_overdue_with_minutes_past_due(runtime, session):
    _, late, overdue = await three_assignments(session)
    service = reports(runtime, session)
    scope = service.scope(*MARCH, ReportFilters())
    page = await service.breaches(scope, BreachQuery(targets=("acknowledge",)))

    assert page.total == 2
    by_ticket = {item.ticket_id: item for item in page.items}
    assert by_ticket[late.id].state == "late"
    assert by_ticket[late.id].overdue_minutes == 16 * 60  # done 24 h after receipt, due at 8 h
    assert by_ticket[overdue.id].state == "open_overdue"
    assert by_ticket[overdue.id].done_at is None
    assert by_ticket[overdue.id].reference.endswith(f"-2026-{overdue.id:06d}")


async def test_filters_narrow_the_report_to_a_topic_subtree_and_a_channel(runtime, session):
    await three_assignments(session)
    other = await make_ticket(
        session, topic_code="giao-thong.mat-duong", channel="zalo", received_at=utc(2026, 3, 5)
    )
    await make_assignment(session, other)
    service = reports(runtime, session)
    grouping = service.grouping(None, None, None)

    by_topic = service.scope(*MARCH, ReportFilters(topics=["moi-truong"]))
    by_channel = service.scope(*MARCH, ReportFilters(channels=["zalo"]))
    assert (await service.sla_report(MARCH, by_topic, grouping)).totals.assignments == 3
    assert (await service.sla_report(MARCH, by_channel, grouping)).totals.assignments == 1


async def test_a_unit_agent_sees_their_own_units_and_is_refused_others(runtime, session):
    await three_assignments(session)
    elsewhere = await make_ticket(session, area_code="phuong-ba-dinh")
    await make_assignment(session, elsewhere, unit="ubnd-phuong-ba-dinh")
    agent = Principal(
        username="agent.test", role="unit_agent", units=frozenset({"ubnd-phuong-ba-dinh"})
    )
    service = reports(runtime, session, principal=agent)

    scope = service.scope(*MARCH, ReportFilters())
    report = await service.sla_report(MARCH, scope, service.grouping(None, None, None))
    assert report.totals.assignments == 1
    with pytest.raises(Forbidden, match="ubnd-phuong-cau-giay"):
        service.scope(*MARCH, ReportFilters(units=["ubnd-phuong-cau-giay"]))


async def test_parameter_errors_name_the_parameter_and_no_http_location(runtime, session):
    service = reports(runtime, session)
    with pytest.raises(ValidationFailed) as caught:
        service.scope(*MARCH, ReportFilters(units=["zzzz"], channels=["fax"]))
    unit_error, channel_error = caught.value.extra["errors"]
    assert unit_error["loc"] == ["unit"]
    assert unit_error["catalog_list"] == "units"  # the API adds where that list is
    assert "GET" not in unit_error["msg"]
    assert channel_error["loc"] == ["channel"]

    with pytest.raises(ValidationFailed) as caught:
        service.period("2026-02-30", None)
    assert caught.value.extra["errors"][0]["loc"] == ["from"]

    with pytest.raises(ValidationFailed) as caught:
        service.grouping(["untis"], None, "1")
    assert [e["loc"] for e in caught.value.extra["errors"]] == [["group_by"], ["topic_level"]]


async def test_nothing_written_by_a_test_outlives_it(runtime, session):
    """The factories' rows are not seen outside the test's transaction (rolled back at its end)."""
    count = select(func.count()).select_from(Ticket)
    # A plain engine of its own: the app's SQLite pool holds one connection, which begins
    # IMMEDIATE (a writer's lock); this one only reads, beside the test's open transaction.
    other = create_async_engine(runtime.settings.database_url)
    try:
        async with other.connect() as outside:
            before = (await outside.execute(count)).scalar_one()
        await three_assignments(session)
        async with other.connect() as outside:
            seen = (await outside.execute(count)).scalar_one()
    finally:
        await other.dispose()
    assert (await session.execute(count)).scalar_one() == before + 3
    assert seen == before


async def test_days_are_local_days(runtime, session):
    """18:30 UTC on 2 March is 01:30 on 3 March in Hà Nội: the report's day is the 3rd."""
    late_evening = await make_ticket(session, received_at=utc(2026, 3, 2, 18, 30))
    await make_assignment(session, late_evening)
    service = reports(runtime, session)
    report = await service.sla_report(
        MARCH,
        service.scope(*MARCH, ReportFilters()),
        service.grouping(["day"], None, None),
        percentiles=False,
    )
    assert [(row.group["day"], row.assignments) for row in report.rows] == [("2026-03-03", 1)]


async def test_the_backlog_counts_open_assignments_by_age_and_ticket_sla_state(runtime, session):
    old = await make_ticket(
        session,
        received_at=utc(2026, 3, 2),
        sla_due_at=utc(2026, 3, 3),
        sla_warn_at=utc(2026, 3, 2),
    )
    await make_assignment(session, old)
    waiting = await make_ticket(session, received_at=utc(2026, 3, 30), status="waiting_citizen")
    await make_assignment(session, waiting)
    done = await make_ticket(session, received_at=utc(2026, 3, 30))
    await make_assignment(session, done, ended_at=utc(2026, 3, 31), outcome="resolved")
    service = reports(runtime, session)

    report = await backlog(session, scope=service.scope(*MARCH, ReportFilters()))
    cells = {(c.age, c.state): c.assignments for c in report.cells if c.assignments}
    assert report.total == 2  # the ended one is no longer held by its unit
    # As of 1 April: assigned 2 March (30 days ago) and past the ticket's due; 30 March, paused.
    assert cells == {("30d+", "breached"): 1, ("1-3d", "paused"): 1}
