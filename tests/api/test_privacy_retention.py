"""Retention: expired caller data, descriptions and attachments anonymised; reports unchanged."""

import asyncio
import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.cli import main
from app.config import get_settings
from app.privacy import retention
from app.privacy.models import AccessRecord
from app.privacy.retention import RetentionPolicy
from app.tickets.models import Ticket
from tests.api.test_reports import MARCH, NOW, act, history, local  # noqa: F401 (fixture)
from tests.conftest import create_ticket, runtime_changed


@pytest.fixture
def made(request):
    """test_reports' March history of ward tickets, by name (t1 resolved, t5 cancelled...)."""
    return request.getfixturevalue("history")


EVERYTHING = RetentionPolicy(caller_days=30, description_days=30, attachments_days=30)
LATER = NOW + timedelta(days=40)


async def _reports(client, auth):
    sup = auth("supervisor")
    out = []
    for path in ("/reports/sla", "/reports/sla/breaches"):
        for params in ({**MARCH, "group_by": "unit"}, {**MARCH, "format": "csv"}):
            out.append((await client.get(path, params=params, headers=sup)).text)
    return out


async def _found(client, q):
    items = (await client.get("/tickets", params={"q": q, "limit": 50})).json()["items"]
    return {t["reference"] for t in items}


async def _run(app, policy=EVERYTHING, batch=200):
    return await retention.run(
        app.state.runtime.session_factory,
        policy=policy,
        keys=app.state.runtime.privacy_keys,
        now=LATER,
        batch=batch,
    )


async def test_reports_and_sla_figures_are_identical_before_and_after(
    client, app, auth, clock, made
):
    await act(client, made["t1"], "close", local(17, 10))
    before = await _reports(client, auth)
    assert made["t1"]["reference"] in await _found(client, "rac thai un u")
    sla_before = (await client.get(f"/tickets/{made['t1']['id']}")).json()["assignments"]
    done = await _run(app)
    assert done == {"caller": 2, "description": 2, "attachments": 2}  # t1 closed, t5 cancelled
    clock.now = NOW
    assert await _reports(client, auth) == before
    t1 = (await client.get(f"/tickets/{made['t1']['id']}")).json()
    assert t1["assignments"] == sla_before
    assert t1["description"] == "[Nội dung đã xoá hết thời hạn lưu trữ]"
    assert t1["caller"]["phone"].startswith("~") and t1["caller"]["name"].startswith("~")
    events = (await client.get(f"/tickets/{made['t1']['id']}/events")).json()["items"]
    resolved = next(e for e in events if e["kind"] == "resolved")
    assert resolved["details"]["resolution"] == "[Nội dung đã xoá hết thời hạn lưu trữ]"
    # The redacted words are out of the search text too.
    assert made["t1"]["reference"] not in await _found(client, "rac thai un u")
    # Open tickets are untouched.
    t2 = (await client.get(f"/tickets/{made['t2']['id']}")).json()
    assert t2["caller"]["phone"] == "+84912345678"
    # A repeat caller is still one caller: the number finds the anonymised tickets too.
    by_phone = await client.get("/tickets", params={"caller_phone": "0912345678", "limit": 50})
    refs = {t["reference"] for t in by_phone.json()["items"]}
    assert {made["t1"]["reference"], made["t5"]["reference"]} <= refs
    # A second run has nothing left to do.
    assert await _run(app) == {"caller": 0, "description": 0, "attachments": 0}


async def test_each_batch_writes_one_access_record_and_legal_hold_keeps_a_ticket(
    client, app, auth, clock, made
):
    await act(client, made["t1"], "close", local(17, 10))
    hold = {"reason": "Thanh tra thành phố đang xem xét"}
    held = await client.post(
        f"/tickets/{made['t5']['id']}/legal-hold", json=hold, headers=auth("supervisor")
    )
    assert held.status_code == 200
    policy = RetentionPolicy(caller_days=30)
    assert await _run(app, policy, batch=1) == {"caller": 1}
    async with app.state.runtime.session_factory() as session:
        records = (
            await session.scalars(select(AccessRecord).where(AccessRecord.action == "retention"))
        ).all()
        t5 = await session.get(Ticket, made["t5"]["id"])
    assert [(r.actor, r.details["tickets"]) for r in records] == [("retention", [made["t1"]["id"]])]
    assert t5.caller_phone == "+84912345678" and t5.caller_anonymised_at is None
    lift = {"reason": "Đã kết thúc thanh tra"}
    await client.post(
        f"/tickets/{made['t5']['id']}/legal-hold/lift", json=lift, headers=auth("supervisor")
    )
    assert await _run(app, policy) == {"caller": 1}


async def test_concurrent_runs_anonymise_each_ticket_once(client, app, clock, made):
    await act(client, made["t1"], "close", local(17, 10))
    policy = RetentionPolicy(caller_days=30)
    results = await asyncio.gather(*(_run(app, policy, batch=1) for _ in range(3)))
    assert sum(r["caller"] for r in results) == 2
    async with app.state.runtime.session_factory() as session:
        batches = (
            await session.scalars(
                select(AccessRecord.details).where(AccessRecord.action == "retention")
            )
        ).all()
    assert sorted(i for d in batches for i in d["tickets"]) == sorted(
        [made["t1"]["id"], made["t5"]["id"]]
    )


async def test_dry_run_prints_per_kind_and_year_and_changes_nothing(
    client, app, settings, monkeypatch, capsys, made
):
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_RETENTION_CALLER_DAYS", "0")
    monkeypatch.setenv("HOTLINE_RETENTION_DESCRIPTION_DAYS", "0")
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(main, ["retention", "run", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "caller: 1 ticket(s) would be anonymised\n  2026: 1" in out  # t5, cancelled
        assert "description: 1 ticket(s)" in out and "attachments" not in out
        t5 = (await client.get(f"/tickets/{made['t5']['id']}")).json()
        assert t5["caller"]["phone"] == "+84912345678"
        assert await asyncio.to_thread(main, ["retention", "run"]) == 0
        out = capsys.readouterr().out
        assert "caller: 1 ticket(s) anonymised" in out and "retention done: caller 1" in out
    finally:
        get_settings.cache_clear()


async def test_every_instance_runs_retention_in_the_background(client, app):
    from app.main import _retain

    ticket = await create_ticket(client)
    await client.post(f"/tickets/{ticket['id']}/cancel", json={})
    settings = app.state.runtime.settings
    with runtime_changed(
        app, settings=settings.model_copy(update={"retention_caller_days": 0})
    ) as runtime:
        task = asyncio.create_task(_retain(runtime, 0.05))
        try:
            for _ in range(100):
                await asyncio.sleep(0.05)
                read = (await client.get(f"/tickets/{ticket['id']}")).json()
                if read["caller"]["phone"] != "+84912345678":
                    break
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert read["caller"]["phone"].startswith("~")
