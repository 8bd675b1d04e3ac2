"""The outbox row is written in the same transaction as the event it announces, on every path
that writes ticket events: the ORM (actions), Core bulk inserts (SQLite intake, the SLA scan) and
PostgreSQL's one-statement intake."""

import asyncio
import math
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.db import transaction
from app.outbox.capture import NOTIFY_CHANNEL, insert_events
from app.outbox.models import OutboxMessage
from app.outbox.types import EVENT_TYPES
from app.outbox.wakeup import WINDOW_SECONDS
from app.tickets.assignment_clock import run_scan
from app.tickets.intake_pg import wake_ups_of
from app.tickets.models import TicketEvent
from tests.conftest import create_ticket


async def outbox(app):
    async with app.state.runtime.session_factory() as session:
        return (
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id)))
            .scalars()
            .all()
        )


async def events(app):
    async with app.state.runtime.session_factory() as session:
        return (await session.execute(select(TicketEvent).order_by(TicketEvent.id))).scalars().all()


async def assert_every_announced_event_has_one_message(app):
    announced = {e.id: EVENT_TYPES[e.kind] for e in await events(app) if e.kind in EVENT_TYPES}
    messages = await outbox(app)
    assert sorted(m.event_id for m in messages) == sorted(announced)
    assert {m.event_id: m.type for m in messages} == announced


async def test_intake_and_actions_write_one_message_per_announced_event(client, app, auth):
    ticket = await create_ticket(client)
    assert [m.type for m in await outbox(app)] == ["ticket.created", "ticket.assigned"]
    agent = auth("agent.caugiay")
    for action, body in (
        ("acknowledge", {}),
        ("notes", {"text": "Đã cử tổ vệ sinh"}),  # a note announces nothing
        ("request-info", {"question": "Số nhà cụ thể?"}),
        ("info-received", {}),
        ("resolve", {"resolution": "Đã thu gom"}),
    ):
        r = await client.post(f"/tickets/{ticket['id']}/{action}", json=body, headers=agent)
        assert r.status_code == 200, r.text
    types = [m.type for m in await outbox(app)]
    assert types[2:] == [
        "ticket.acknowledged",
        "ticket.waiting_citizen",
        "ticket.info_received",
        "ticket.resolved",
    ]
    await assert_every_announced_event_has_one_message(app)


async def test_idempotent_replay_writes_no_second_message(client, app):
    headers = {"Idempotency-Key": "outbox-once"}
    for _ in range(2):
        r = await client.post("/tickets", json=_body(), headers=headers)
        assert r.status_code in (200, 201), r.text
    assert [m.type for m in await outbox(app)] == ["ticket.created", "ticket.assigned"]


def _body():
    from tests.conftest import ticket_body

    return ticket_body()


async def test_sla_scan_events_are_announced(client, app, clock):
    clock.now = datetime(2026, 3, 16, 3, 0, tzinfo=UTC)
    await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    await run_scan(
        app.state.runtime.session_factory,
        catalog=app.state.runtime.catalog,
        now=datetime(2026, 4, 30, 3, 0, tzinfo=UTC),
    )
    types = [m.type for m in await outbox(app)]
    assert {"sla.warning", "sla.breached", "sla.escalated"} <= set(types)
    await assert_every_announced_event_has_one_message(app)


@pytest.mark.parametrize("path", ["orm", "core"])
async def test_a_rolled_back_event_leaves_no_message_and_a_committed_one_has_it(client, app, path):
    ticket = await create_ticket(client)
    before = len(await outbox(app))
    now = datetime.now(UTC)
    row = {
        "ticket_id": ticket["id"],
        "assignment_id": None,
        "kind": "updated",
        "occurred_at": now,
        "recorded_at": now,
        "actor": "test",
        "details": {"changes": {}},
    }

    async def write(session):
        if path == "orm":
            session.add(TicketEvent(**row))
            await session.flush()
        else:
            await insert_events(await session.connection(), [row])

    async with app.state.runtime.session_factory() as session:
        await write(session)
        assert len((await session.execute(select(OutboxMessage))).all()) == before + 1
        await session.rollback()
    assert len(await outbox(app)) == before
    async with transaction(app.state.runtime.session_factory) as session:
        await write(session)
    assert [m.type for m in await outbox(app)][before:] == ["ticket.updated"]
    await assert_every_announced_event_has_one_message(app)


async def test_a_burst_of_intakes_wakes_the_relays_at_once_and_after_the_last_commit(
    client, app, settings, is_postgres
):
    # PostgreSQL's intake statement carries the NOTIFY only when its process sent none in the
    # last window (app.outbox.wakeup); the others are covered by one sent after the window.
    # The window is widened here so that the whole burst surely falls in one.
    heard: list[float] = []
    listener = None
    wake = wake_ups_of(app.state.runtime.engine.sync_engine)
    if is_postgres:
        url = make_url(settings.database_url).set(drivername="postgresql")
        listener = await asyncpg.connect(url.render_as_string(hide_password=False))
        loop = asyncio.get_running_loop()
        await listener.add_listener(NOTIFY_CHANNEL, lambda *_: heard.append(loop.time()))
    await asyncio.sleep(WINDOW_SECONDS * 3)  # what earlier tests owed is sent by now
    heard.clear()
    wake.window, wake.last = 3.0, -math.inf
    try:
        started = asyncio.get_running_loop().time()
        burst = await asyncio.gather(*(create_ticket(client) for _ in range(6)))
        last_commit = asyncio.get_running_loop().time()
        if is_postgres:
            await asyncio.sleep(3.5)
    finally:
        wake.window, wake.last = WINDOW_SECONDS, -math.inf
        if listener is not None:
            await listener.close()
    # Every ticket's messages are there, whoever announced them.
    assert sorted({m.ticket_id for m in await outbox(app)}) == sorted(t["id"] for t in burst)
    if is_postgres:
        assert last_commit - started < 3.0  # the burst fell in one window
        # One NOTIFY at the first commit, one after the window (after the last commit), not
        # one per ticket.
        assert len(heard) == 2
        assert heard[0] < last_commit <= heard[1]
        assert heard[1] - started >= 3.0
