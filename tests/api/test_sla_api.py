"""SLA on real timelines: due times, states, pauses, the scan's exactly-once events."""

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app.sla import working_between
from app.tickets.assignment_clock import run_scan
from app.tickets.models import TicketEvent
from tests.conftest import create_ticket

HN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args):
    return datetime(*args, tzinfo=HN)


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def scan(app, now):
    return await run_scan(
        app.state.runtime.session_factory, catalog=app.state.runtime.catalog, now=now
    )


async def events_of(client, ticket_id, kind=None):
    items = (await client.get(f"/tickets/{ticket_id}/events")).json()["items"]
    return [e for e in items if kind is None or e["kind"] == kind]


async def test_friday_1650_ward_ticket_is_due_tuesday_0820(client, clock):
    clock.now = local(2026, 3, 16, 10, 0)  # typed in on Monday morning
    ticket = await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    current = ticket["current_assignment"]
    assert current["unit"]["code"] == "ubnd-phuong-cau-giay"
    assert current["sla_policy"] == "ubnd"
    # 10 min on Friday, 7h30 on Monday, 20 min on Tuesday: 8 working hours.
    assert current["acknowledge_due_at"] == "2026-03-17T08:20:00+07:00"
    sla = current["sla"]
    assert sla["calendar"] == "office" and sla["state"] == "on_track"
    assert sla["acknowledge"]["elapsed_seconds"] == (10 + 120) * 60
    assert sla["acknowledge"]["remaining_seconds"] == (8 * 60 - 130) * 60
    # Five working days of 7h30 from Friday 16:50.
    assert (
        working_between(
            at(current["assigned_at"]),
            at(current["resolve_due_at"]),
            client_app_calendar(client),
        )
        == 5 * 7.5 * 3600
    )


def client_app_calendar(client):
    app = client._transport.app
    return app.state.runtime.sla.calendars["office"]


async def test_warning_then_breach_are_written_once_with_escalation(client, app, clock):
    clock.now = local(2026, 3, 16, 10, 0)
    ticket = await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    tid = ticket["id"]
    # 80% of 8h (6h24) is reached on Monday at 15:44.
    clock.now = local(2026, 3, 16, 15, 44)
    assert (await scan(app, clock.now)).warnings == 1
    assert (await scan(app, clock.now)).warnings == 0
    (warning,) = await events_of(client, tid, "sla_warning")
    assert warning["occurred_at"] == "2026-03-16T15:44:00+07:00"
    assert warning["details"]["target"] == "acknowledge"
    read = (await client.get(f"/tickets/{tid}")).json()
    assert read["current_assignment"]["sla"]["state"] == "warning"
    assert [
        t["id"]
        for t in (await client.get("/tickets", params={"sla_state": "warning"})).json()["items"]
    ] == [tid]
    clock.now = local(2026, 3, 17, 8, 21)
    report = await scan(app, clock.now)
    assert report.breaches == 1
    assert (await scan(app, clock.now)).breaches == 0
    (breach,) = await events_of(client, tid, "sla_breached")
    assert breach["occurred_at"] == "2026-03-17T08:20:00+07:00"
    (escalation,) = await events_of(client, tid, "escalated")
    assert escalation["details"]["to_unit"] == "ubnd-ha-noi"
    breached = (await client.get("/tickets", params={"sla_state": "breached"})).json()["items"]
    assert [t["id"] for t in breached] == [tid]
    assert breached[0]["current_assignment"]["sla"]["acknowledge"]["state"] == "breached"


async def test_acknowledging_late_without_a_scan_still_records_the_breach_once(
    client, app, clock, auth
):
    clock.now = local(2026, 3, 16, 10, 0)
    ticket = await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    clock.now = local(2026, 3, 17, 9, 0)
    agent = auth("agent.caugiay")
    acked = (await client.post(f"/tickets/{ticket['id']}/acknowledge", headers=agent)).json()
    assert acked["current_assignment"]["sla"]["acknowledge"]["state"] == "missed"
    assert len(await events_of(client, ticket["id"], "sla_breached")) == 1
    await scan(app, clock.now)
    assert len(await events_of(client, ticket["id"], "sla_breached")) == 1


async def test_acknowledged_in_time_is_met_and_never_flagged(client, app, clock, auth):
    clock.now = local(2026, 3, 16, 10, 0)
    ticket = await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    body = {"occurred_at": "2026-03-16T09:00:00+07:00"}
    acked = await client.post(
        f"/tickets/{ticket['id']}/acknowledge", json=body, headers=auth("agent.caugiay")
    )
    assert acked.json()["current_assignment"]["sla"]["acknowledge"]["state"] == "met"
    await scan(app, local(2026, 3, 18, 9, 0))
    assert await events_of(client, ticket["id"], "sla_breached") == []


async def test_waiting_for_the_citizen_pauses_and_pushes_the_due(client, clock, auth):
    agent = auth("agent.caugiay")
    clock.now = local(2026, 3, 16, 8, 0)
    ticket = await create_ticket(client)
    tid = ticket["id"]
    await client.post(f"/tickets/{tid}/acknowledge", headers=agent)
    before = (await client.get(f"/tickets/{tid}")).json()["current_assignment"]["resolve_due_at"]
    clock.now = local(2026, 3, 16, 10, 0)
    paused = (
        await client.post(
            f"/tickets/{tid}/request-info", json={"question": "Số nhà?"}, headers=agent
        )
    ).json()
    sla = paused["current_assignment"]["sla"]
    assert sla["paused"] and sla["state"] == "paused" and sla["resolve"]["due_at"] is None
    assert paused["current_assignment"]["resolve_due_at"] is None
    assert [
        t["id"]
        for t in (await client.get("/tickets", params={"sla_state": "paused"})).json()["items"]
    ] == [tid]
    # A day later the citizen answers: the due moves by the working time spent waiting.
    clock.now = local(2026, 3, 17, 10, 0)
    resumed = (await client.post(f"/tickets/{tid}/info-received", headers=agent)).json()
    after = resumed["current_assignment"]["resolve_due_at"]
    assert at(after) > at(before)
    office = client_app_calendar(client)
    assert working_between(at(before), at(after), office) == 7.5 * 3600
    assert resumed["current_assignment"]["sla"]["state"] == "on_track"


async def test_reject_counts_as_response_and_the_next_unit_starts_a_fresh_clock(
    client, clock, auth
):
    clock.now = local(2026, 3, 16, 9, 0)
    ticket = await create_ticket(client)
    clock.now = local(2026, 3, 16, 11, 0)
    body = (
        await client.post(
            f"/tickets/{ticket['id']}/reject", json={"reason": "Sai"}, headers=auth("agent.caugiay")
        )
    ).json()
    first, second = body["assignments"]
    assert first["sla"]["acknowledge"]["state"] == "met"
    assert first["sla"]["acknowledge"]["done_at"] == "2026-03-16T11:00:00+07:00"
    assert second["unit"]["code"] == "tong-dai-1022"
    assert second["assigned_at"] == "2026-03-16T11:00:00+07:00"
    # The switchboard works around the clock: 30 minutes to acknowledge.
    assert second["sla"]["calendar"] == "24x7"
    assert second["acknowledge_due_at"] == "2026-03-16T11:30:00+07:00"


async def test_reopen_starts_a_new_clock_and_leaves_the_old_record(client, clock, auth):
    agent = auth("agent.caugiay")
    clock.now = local(2026, 3, 16, 9, 0)
    ticket = await create_ticket(client)
    clock.now = local(2026, 3, 16, 10, 0)
    await client.post(
        f"/tickets/{ticket['id']}/resolve", json={"resolution": "Xong"}, headers=agent
    )
    old = (await client.get(f"/tickets/{ticket['id']}")).json()["assignments"][0]
    assert old["sla"]["state"] == "met"
    clock.now = local(2026, 3, 18, 14, 0)
    reopened = (
        await client.post(f"/tickets/{ticket['id']}/reopen", json={"reason": "Chưa xong"})
    ).json()
    first, second = reopened["assignments"]
    assert first == old
    assert second["assigned_at"] == "2026-03-18T14:00:00+07:00"
    assert second["acknowledge_due_at"] == "2026-03-19T14:30:00+07:00"


async def test_urgent_noise_at_night_goes_to_police_on_a_24x7_clock(client, clock):
    clock.now = local(2026, 3, 16, 23, 50)
    ticket = await create_ticket(
        client,
        topic="an-ninh-trat-tu.tieng-on",
        priority="urgent",
        description="Karaoke ồn ào quá nửa đêm",
    )
    current = ticket["current_assignment"]
    assert current["unit"]["code"] == "cong-an-ha-noi"
    assert current["sla"]["calendar"] == "24x7"
    # 15 minutes across midnight.
    assert current["acknowledge_due_at"] == "2026-03-17T00:05:00+07:00"


async def test_sort_by_due_puts_the_most_urgent_first(client, clock):
    clock.now = local(2026, 3, 16, 9, 0)
    ward = await create_ticket(client)  # office hours, 8h
    police = await create_ticket(client, topic="an-ninh-trat-tu.gay-roi", priority="urgent")  # 15m
    switchboard = await create_ticket(client, topic="khac")  # 30m on 24x7
    assert police["current_assignment"]["unit"]["code"] == "cong-an-ha-noi"
    ids = [t["id"] for t in (await client.get("/tickets", params={"sort": "due"})).json()["items"]]
    assert ids == [police["id"], switchboard["id"], ward["id"]]
    first = (await client.get("/tickets", params={"sort": "due", "limit": 1})).json()
    second = (
        await client.get(
            "/tickets", params={"sort": "due", "limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()
    assert [t["id"] for t in second["items"]] == [switchboard["id"], ward["id"]]


async def test_concurrent_scanners_write_each_event_exactly_once(client, app, clock):
    clock.now = local(2026, 3, 16, 10, 0)
    tickets = [
        await create_ticket(client, received_at="2026-03-13T16:50:00+07:00") for _ in range(12)
    ]
    later = local(2026, 3, 30, 9, 0)  # both targets overdue for every ticket
    reports = await asyncio.gather(*(scan(app, later) for _ in range(6)))
    assert sum(r.breaches for r in reports) == 24 and sum(r.warnings for r in reports) == 24
    async with app.state.runtime.session_factory() as session:
        counts = dict(
            (
                await session.execute(
                    select(TicketEvent.kind, func.count()).group_by(TicketEvent.kind)
                )
            ).all()
        )
    assert (
        counts["sla_breached"] == counts["sla_warning"] == counts["escalated"] == 2 * len(tickets)
    )
    assert (await scan(app, later + timedelta(days=1))).breaches == 0
