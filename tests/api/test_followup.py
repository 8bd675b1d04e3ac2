"""Citizen follow-up: feedback once per resolution (app and operator callback), "no" reopens for
the unit that resolved it, unanswered resolutions close by themselves, satisfaction report."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.db import transaction
from app.open311.feedback import close_unanswered
from app.tickets.models import TicketEvent
from app.tickets.repository import get_ticket
from tests.api.open311_support import BASE, integration_key
from tests.api.test_open311 import POTHOLE, RUBBISH

PHONE = "0912 345 678"


async def resolved_request(client, auth):
    """A rubbish report filed through Open311 and resolved by the ward's agent: (key, ticket)."""
    key = await integration_key(client, auth)
    form = {k: v for k, v in {**POTHOLE, **RUBBISH, "api_key": key}.items() if v is not None}
    made = await client.post(f"{BASE}/requests.json", data=form)
    assert made.status_code == 200, made.text
    ticket = (await client.get(f"/tickets/{made.json()[0]['service_request_id']}")).json()
    r = await client.post(
        f"/tickets/{ticket['id']}/resolve",
        json={"resolution": "Đã thu gom"},
        headers=auth("agent.caugiay"),
    )
    assert r.status_code == 200, r.text
    return key, ticket


async def test_app_feedback_once_per_resolution(client, auth):
    key, ticket = await resolved_request(client, auth)
    url = f"{BASE}/requests/{ticket['reference']}/feedback.json"
    form = {"api_key": key, "phone": PHONE, "fixed": "yes", "rating": "5", "comment": "Cảm ơn"}
    wrong = await client.post(url, data={**form, "phone": "0987 654 321"})
    assert wrong.status_code == 404
    assert (await client.post(url, data={**form, "api_key": ""})).status_code == 403
    bad = await client.post(url, data={**form, "rating": "9"})
    assert bad.status_code == 400 and "rating" in bad.json()[0]["description"]
    ok = await client.post(url, data=form)
    assert ok.status_code == 200, ok.text
    assert ok.json() == [
        {
            "service_request_id": ticket["reference"],
            "fixed": "yes",
            "rating": 5,
            "reopened": False,
            "status": "closed",
        }
    ]
    again = await client.post(url, data=form)
    assert again.status_code == 409
    xml = await client.post(f"{BASE}/requests/{ticket['reference']}/feedback.xml", data=form)
    assert xml.status_code == 409 and b"<errors><error><code>409</code>" in xml.content


async def test_not_fixed_reopens_for_the_unit_that_resolved_it(client, auth):
    key, ticket = await resolved_request(client, auth)
    unit = ticket["current_assignment"]["unit"]["code"]
    r = await client.post(
        f"{BASE}/requests/{ticket['reference']}/feedback",
        data={"api_key": key, "phone": PHONE, "fixed": "no", "comment": "Rác vẫn còn nguyên"},
    )
    assert r.status_code == 200 and r.json()[0]["reopened"] is True
    after = (await client.get(f"/tickets/{ticket['id']}")).json()
    assert after["status"] == "assigned"
    assert after["current_assignment"]["unit"]["code"] == unit
    assert after["current_assignment"]["id"] != ticket["current_assignment"]["id"]
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    reopened = [e for e in events if e["kind"] == "reopened"]
    assert reopened[0]["details"]["reason"] == "Rác vẫn còn nguyên"
    assert [e["details"]["fixed"] for e in events if e["kind"] == "feedback"] == ["no"]


async def test_operator_records_a_callback(client, auth):
    _, ticket = await resolved_request(client, auth)
    body = {"fixed": "partly", "rating": 3, "comment": "Mới thu một phần"}
    r = await client.post(f"/tickets/{ticket['id']}/feedback", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["fixed"] == "partly" and r.json()["reopened"] is False
    assert (await client.post(f"/tickets/{ticket['id']}/feedback", json=body)).status_code == 409
    invalid = await client.post(f"/tickets/{ticket['id']}/feedback", json={"fixed": "maybe"})
    assert invalid.status_code == 422
    agent = await client.post(
        f"/tickets/{ticket['id']}/feedback", json=body, headers=auth("agent.caugiay")
    )
    assert agent.status_code == 403


async def test_operator_feedback_refuses_a_nul_comment_naming_it(client, auth):
    """The follow-up router checks text like every other: a NUL was a 500 on PostgreSQL."""
    _, ticket = await resolved_request(client, auth)
    r = await client.post(
        f"/tickets/{ticket['id']}/feedback", json={"fixed": "no", "comment": "Vẫn còn\u0000"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["comment"]
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["status"] == "resolved"


async def test_app_feedback_waits_for_a_concurrent_close_and_is_refused(app, client, auth):
    """The app's answer reads the ticket under its row lock, as the operator's route does: a
    close committing meanwhile makes it a 409. It used to read the ticket unlocked, record the
    feedback on the closed ticket, reopen it ("no"), and lose a version bump ("yes")."""
    key, ticket = await resolved_request(client, auth)
    url = f"{BASE}/requests/{ticket['reference']}/feedback.json"
    form = {"api_key": key, "phone": PHONE, "fixed": "no"}
    async with app.state.runtime.session_factory() as closing:
        row = await get_ticket(closing, ticket_id=ticket["id"], for_update=True)
        row.status, row.version = "closed", row.version + 1
        await closing.flush()
        answer = asyncio.create_task(client.post(url, data=form))
        await asyncio.sleep(0.5)  # the answer is waiting for the lock (or for the connection)
        await closing.commit()
    r = await answer
    assert r.status_code == 409, r.text
    read = (await client.get(f"/tickets/{ticket['id']}")).json()
    assert read["status"] == "closed" and read["version"] == ticket["version"] + 2
    async with app.state.runtime.session_factory() as session:
        kinds = (
            await session.scalars(
                select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket["id"])
            )
        ).all()
    assert "feedback" not in kinds and "reopened" not in kinds


async def test_unanswered_resolutions_close_by_themselves_once(app, client, auth, is_postgres):
    _, quiet = await resolved_request(client, auth)
    _, answered = await resolved_request(client, auth)
    r = await client.post(f"/tickets/{answered['id']}/feedback", json={"fixed": "yes"})
    assert r.status_code == 200
    factory = app.state.runtime.session_factory
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)

    async def sweep(now):
        async with transaction(factory) as session:
            return await close_unanswered(session, now=now, after=timedelta(days=7))

    assert await sweep(datetime.now(UTC) + timedelta(days=6)) == 0
    if is_postgres:  # two instances at once: each ticket closed once
        assert sorted(await asyncio.gather(sweep(later), sweep(later))) == [0, 1]
    else:
        assert await sweep(later) == 1
    assert await sweep(later) == 0
    assert (await client.get(f"/tickets/{quiet['id']}")).json()["status"] == "closed"
    assert (await client.get(f"/tickets/{answered['id']}")).json()["status"] == "resolved"
    async with transaction(factory) as session:
        count = await session.scalar(select(func.count()).where(TicketEvent.kind == "auto_closed"))
    assert count == 1


async def test_satisfaction_report_per_unit(client, auth):
    _, first = await resolved_request(client, auth)
    _, second = await resolved_request(client, auth)
    await client.post(f"/tickets/{first['id']}/feedback", json={"fixed": "yes", "rating": 5})
    await client.post(f"/tickets/{second['id']}/feedback", json={"fixed": "no", "rating": 2})
    report = await client.get("/reports/satisfaction", headers=auth("supervisor"))
    assert report.status_code == 200, report.text
    [row] = report.json()["units"]
    assert row["unit_code"] == first["current_assignment"]["unit"]["code"]
    assert (row["answers"], row["fixed"], row["not_fixed"]) == (2, 1, 1)
    assert (row["fixed_pct"], row["mean_rating"], row["reopen_rate"]) == (50.0, 3.5, 50.0)
    other = await client.get("/reports/satisfaction", headers=auth("agent.badinh"))
    assert other.json()["units"] == []
