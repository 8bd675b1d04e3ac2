"""sla.yaml hot reload: validated first, then open assignments re-planned with a reason."""

import shutil
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from app.tickets.assignment_clock import run_scan
from app.tickets.sla_reload import LiveSla, reload_sla
from tests.conftest import create_ticket, runtime_changed

HN = ZoneInfo("Asia/Ho_Chi_Minh")
SWAP = "12729/VPCP-KGVX"


def local(*args):
    return datetime(*args, tzinfo=HN)


def without_swap(text: str) -> str:
    """sla.yaml as before the decree was added: no override lines."""
    return "\n".join(line for line in text.splitlines() if "- {date: 2026-01-" not in line)


@pytest.fixture
async def scratch_sla(app, tmp_path):
    """The app's SLA config comes from a copy of routing_rules/ without the 2026 swap, which a
    test may edit; the app's own config is restored afterwards."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(app.state.runtime.settings.rules_dir, rules_dir)
    path = rules_dir / "sla.yaml"
    shipped = path.read_text()
    path.write_text(without_swap(shipped))
    runtime = app.state.runtime
    saved_policies = runtime.rules.sla_policies
    from app.sla import load_sla

    config = load_sla(rules_dir, runtime.catalog)
    with runtime_changed(app, sla_live=LiveSla(rules_dir, runtime.catalog, config)):
        yield path, shipped
    runtime.rules.sla_policies = saved_policies


async def test_a_decree_added_later_replans_open_assignments_with_a_reason(
    client, app, clock, auth, scratch_sla
):
    path, shipped = scratch_sla
    # Received Mon 29 Dec 2025 08:00: acknowledge breached on Tuesday (events written).
    clock.now = local(2025, 12, 29, 8, 0)
    early = await create_ticket(client)
    # Received Wed 31 Dec 16:00: everything still ahead.
    clock.now = local(2025, 12, 31, 16, 0)
    late = await create_ticket(client)
    assert late["current_assignment"]["acknowledge_due_at"] == "2026-01-02T16:30:00+07:00"
    now = local(2025, 12, 31, 17, 0)
    await run_scan(app.state.runtime.session_factory, catalog=app.state.runtime.catalog, now=now)
    clock.now = now

    path.write_text(shipped)  # the admin adds the decree
    response = await client.post("/admin/rules/reload", headers=auth("admin"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sla_changed"] is True and body["replanned"] == 2

    a = (await client.get(f"/tickets/{late['id']}")).json()["current_assignment"]
    assert a["acknowledge_due_at"] == "2026-01-05T16:30:00+07:00"
    assert a["sla"]["acknowledge"]["due_at"] == "2026-01-05T16:30:00+07:00"  # read agrees
    events = (await client.get(f"/tickets/{late['id']}/events")).json()["items"]
    (replanned,) = [e for e in events if e["kind"] == "sla_replanned"]
    ack_due = next(
        c
        for c in replanned["details"]["changes"]
        if (c["target"], c["mark"]) == ("acknowledge", "due")
    )
    assert ack_due["old"].startswith("2026-01-02T09:30") and ack_due["new"].startswith(
        "2026-01-05T09:30"
    )  # UTC
    assert ack_due["days"] == [
        {"date": "2026-01-02", "now": "off", "was": "worked", "note": ack_due["days"][0]["note"]}
    ]
    assert SWAP in ack_due["days"][0]["note"]

    # The breached acknowledge target keeps its instant and its one breach event; the resolve
    # target (still ahead) moves from Mon 5 Jan 17:00 to Tue 6 Jan 17:00.
    b = (await client.get(f"/tickets/{early['id']}")).json()["current_assignment"]
    assert b["acknowledge_due_at"] == "2025-12-30T08:30:00+07:00"
    assert b["resolve_due_at"] == "2026-01-06T17:00:00+07:00"
    events = (await client.get(f"/tickets/{early['id']}/events")).json()["items"]
    assert [e["kind"] for e in events].count("sla_breached") == 1
    (replanned,) = [e for e in events if e["kind"] == "sla_replanned"]
    moved = {(c["target"], c["mark"]) for c in replanned["details"]["changes"]}
    assert moved == {("resolve", "due"), ("resolve", "warning")}

    # Every other instance reloads too: nothing left to move, no second event.
    again = await client.post("/admin/rules/reload", headers=auth("admin"))
    assert again.json()["sla_changed"] is False and again.json()["replanned"] == 0
    assert (await reload_sla(app.state.runtime, now, force=True))[1] == 0


async def test_an_invalid_file_is_refused_and_the_old_one_keeps_serving(
    client, app, auth, scratch_sla
):
    path, _ = scratch_sla
    running = app.state.runtime.sla
    path.write_text(path.read_text().replace("acknowledge: 8h", "acknowledge: 8 hours", 1))
    response = await client.post("/admin/rules/reload", headers=auth("admin"))
    assert response.status_code == 422
    assert any("sla.yaml" in e for e in response.json()["errors"])
    assert app.state.runtime.sla is running
    # A policy the running rules name cannot disappear either.
    path.write_text(path.read_text().replace("acknowledge: 8 hours", "acknowledge: 8h", 1))
    path.write_text(path.read_text().replace("id: khan-cap", "id: khan-cap-moi"))
    response = await client.post("/admin/rules/reload", headers=auth("admin"))
    assert response.status_code == 422
    assert any("khan-cap" in e for e in response.json()["errors"])
    assert app.state.runtime.sla is running
