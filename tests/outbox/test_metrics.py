"""Outbox metrics: the backlog by stage and how late it is, attempts by outcome, disabled
endpoints; the gauges written by the periodic-work leader, the counter by every relay."""

import asyncio
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from app import periodic
from app.db import transaction
from app.leader import Leadership
from app.outbox import backlog
from app.outbox.backlog import attempt_outcome
from app.outbox.setup import relay_of
from tests.conftest import create_ticket
from tests.outbox.support import Clock, subscribe


async def measured(app, now):
    async with transaction(app.state.runtime.session_factory) as session:
        return await backlog.measure(session, now=now)


def attempts(outcome: str) -> float:
    return REGISTRY.get_sample_value("hotline_webhook_attempts_total", {"outcome": outcome}) or 0


def test_attempt_outcomes_are_a_closed_set():
    assert attempt_outcome(204, None) == "delivered"
    assert attempt_outcome(301, "HTTP 301") == "redirect"
    assert attempt_outcome(404, "HTTP 404") == "client_error"
    assert attempt_outcome(410, "HTTP 410") == "client_error"
    assert attempt_outcome(503, "HTTP 503") == "server_error"
    assert attempt_outcome(None, "timed out") == "timeout"
    assert attempt_outcome(None, "refused: 10.0.0.1 is private") == "refused"
    assert attempt_outcome(None, "ClientConnectorError: refused") == "connection_error"
    assert {attempt_outcome(s, None) for s in (200, 302, 418, 599)} <= set(backlog.ATTEMPT_OUTCOMES)


async def test_the_backlog_by_stage_and_how_late_it_is(client, app, admin, receiver):
    now = datetime.now(UTC)
    empty = await measured(app, now)
    assert empty.pending == {"fanout": 0, "webhook": 0, "mail": 0}
    assert empty.age == {"fanout": 0.0, "webhook": 0.0, "mail": 0.0}
    assert empty.disabled_endpoints == 0

    await subscribe(client, admin, receiver.at("/down"), events=["ticket.created"])
    receiver.script["/down"] = [500, 500]
    await create_ticket(client)
    await create_ticket(client)
    # Written with the tickets, not fanned out yet: created and assigned, two tickets.
    later = datetime.now(UTC) + timedelta(seconds=40)
    found = await measured(app, later)
    assert found.pending["fanout"] == 4 and found.pending["webhook"] == 0
    assert 40 <= found.age["fanout"] < 100

    relay = relay_of(app.state.runtime)
    relay.clock = clock = Clock()
    failed = attempts("server_error")
    await relay.run_once()
    assert attempts("server_error") == failed + 2
    # Fanned out; both deliveries wait for their retry (5 s): pending, not late.
    found = await measured(app, clock.now)
    assert found.pending == {"fanout": 0, "webhook": 2, "mail": 0}
    assert found.age == {"fanout": 0.0, "webhook": 0.0, "mail": 0.0}
    # Twenty seconds on, nobody sent them: late by about 15 s (the 5 s retry, ±10 %).
    found = await measured(app, clock.now + timedelta(seconds=20))
    assert 14 <= found.age["webhook"] <= 16

    delivered = attempts("delivered")
    clock.now += timedelta(seconds=20)
    await relay.run_once()
    await relay.close()
    assert attempts("delivered") == delivered + 2
    found = await measured(app, clock.now)
    assert found.pending["webhook"] == 0 and found.age["webhook"] == 0.0


async def test_disabled_endpoints_are_counted(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/gone"), events=["ticket.created"])
    await subscribe(client, admin, receiver.at("/fine"), events=["ticket.created"])
    receiver.script["/gone"] = [410]
    gone = attempts("client_error")
    await create_ticket(client)
    await app.state.runtime.relay.run_once()
    assert attempts("client_error") == gone + 1
    found = await measured(app, datetime.now(UTC))
    assert found.disabled_endpoints == 1
    assert found.pending["webhook"] == 0  # the gone endpoint's messages are parked


async def test_the_outbox_gauges_reach_metrics(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/hook"))
    await create_ticket(client)
    # What the leader's loop (periodic.count_open_work) does each interval, without a loop
    # to cancel in the middle of a transaction.
    periodic.record_outbox(await measured(app, datetime.now(UTC)))

    def gauge(name: str, **labels: str) -> float | None:
        return REGISTRY.get_sample_value(name, labels)

    assert gauge("hotline_outbox_pending", stage="fanout") == 2
    assert gauge("hotline_outbox_pending", stage="webhook") == 0
    assert gauge("hotline_outbox_pending", stage="mail") == 0
    assert gauge("hotline_outbox_oldest_pending_age_seconds", stage="fanout") >= 0
    assert gauge("hotline_webhook_endpoints_disabled") == 0
    counted = gauge("hotline_outbox_counted_timestamp_seconds")
    assert counted is not None and abs(counted - datetime.now(UTC).timestamp()) < 60

    # And /metrics shows them (no query runs for the scrape itself).
    text = (await client.get("http://test/metrics")).text
    assert 'hotline_outbox_pending{stage="fanout"} 2.0' in text
    assert 'hotline_outbox_oldest_pending_age_seconds{stage="webhook"} 0.0' in text


async def test_the_leader_loop_writes_the_outbox_gauges(client, app):
    await create_ticket(client)
    leadership = Leadership("sqlite://")  # leads at once, as on SQLite
    runner = asyncio.create_task(periodic.count_open_work(app.state.runtime, leadership, 0.01))
    try:
        await asyncio.sleep(0.3)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
    assert REGISTRY.get_sample_value("hotline_outbox_pending", {"stage": "fanout"}) == 2
