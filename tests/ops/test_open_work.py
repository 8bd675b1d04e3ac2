"""The open-assignments gauge: counts by unit kind and SLA state, written by the leader."""

import asyncio
from datetime import timedelta

from prometheus_client import REGISTRY

from app import periodic
from app.db import transaction, utcnow
from app.leader import Leadership
from app.tickets.open_work import open_assignment_counts
from tests.conftest import create_ticket


async def test_open_assignments_by_unit_and_state(client, app, auth):
    waiting = await create_ticket(client)
    await create_ticket(client)
    closed = await create_ticket(client)
    agent = auth("agent.caugiay")
    assert (await client.post(f"/tickets/{waiting['id']}/acknowledge", headers=agent)).is_success
    asked = await client.post(
        f"/tickets/{waiting['id']}/request-info", json={"question": "Số nhà?"}, headers=agent
    )
    assert asked.is_success, asked.text
    cancel = await client.post(f"/tickets/{closed['id']}/cancel", json={"reason": "trùng"})
    assert cancel.is_success, cancel.text
    unit = waiting["current_assignment"]["unit"]["code"]

    async with transaction(app.state.runtime.session_factory) as session:
        now = await open_assignment_counts(session, now=utcnow())
        later = await open_assignment_counts(session, now=utcnow() + timedelta(days=60))
    assert now == {(unit, "paused"): 1, (unit, "on_track"): 1}
    assert later == {(unit, "paused"): 1, (unit, "breached"): 1}


async def test_the_leader_writes_every_kind_and_state(client, app):
    created = await create_ticket(client)
    kind = app.state.runtime.catalog.units[created["current_assignment"]["unit"]["code"]].kind
    leadership = Leadership("sqlite://")  # leads at once, as on SQLite
    runner = asyncio.create_task(periodic.count_open_work(app.state.runtime, leadership, 0.01))
    try:
        await asyncio.sleep(0.3)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    def gauge(unit_kind: str, state: str) -> float | None:
        labels = {"unit_kind": unit_kind, "sla_state": state}
        return REGISTRY.get_sample_value("hotline_open_assignments", labels)

    assert gauge(kind, "on_track") == 1
    for other in ("warning", "breached", "paused"):
        assert gauge(kind, other) == 0
    for k in {u.kind for u in app.state.runtime.catalog.units.values()} - {kind}:
        assert gauge(k, "on_track") == 0
