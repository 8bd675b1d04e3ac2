"""Routing at intake, explain, the running ruleset, and safe reloads."""

import shutil
from datetime import UTC, datetime

import pytest

from app.routing.live import LiveRuleset
from tests.conftest import create_ticket, runtime_changed, ticket_body


async def test_intake_records_rule_version_co_handlers_and_tags(client):
    # Waste in Ba Đình (a former inner district): the ward committee owns it, URENCO is informed.
    ticket = await create_ticket(client, area="phuong-ba-dinh")
    current = ticket["current_assignment"]
    assert current["unit"]["code"] == "ubnd-phuong-ba-dinh"
    assert current["rule_id"] == "rac-thai-noi-do"
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assigned = events[1]["details"]
    assert assigned["rule_id"] == "rac-thai-noi-do" and assigned["co_handlers"] == ["urenco"]
    assert assigned["ruleset_version"] == current["ruleset_version"]


async def test_rules_can_raise_priority_and_tag(client):
    ticket = await create_ticket(
        client, topic=None, description="Có đám cháy lớn ở tầng 3 chung cư", priority="normal"
    )
    assert ticket["current_assignment"]["unit"]["code"] == "pccc-ha-noi"
    assert ticket["priority"] == "urgent"
    assert ticket["current_assignment"]["sla_policy"] == "khan-cap"


async def test_explain_gives_the_decision_and_why_each_rule_failed(client):
    body = ticket_body(topic="nuoc-sach.mat-nuoc", area="Trúc Bạch")
    response = await client.post("/routing/explain", json=body)
    assert response.status_code == 200
    result = response.json()
    assert result["decision"]["unit"] == "nuoc-sach-ha-noi"
    trace = result["trace"]
    assert trace[-1]["matched"] and trace[-1]["rule_id"] == result["decision"]["rule_id"]
    assert all(not t["matched"] and t["reason"] for t in trace[:-1])
    assert any("not under" in t["reason"] for t in trace[:-1])
    # Nothing was stored.
    assert (await client.get("/tickets")).json()["items"] == []


async def test_explain_with_excluded_units_and_bad_area(client):
    excluded = await client.post(
        "/routing/explain", json=ticket_body(exclude_units=["ubnd-phuong-cau-giay"])
    )
    assert excluded.json()["decision"]["unit"] == "tong-dai-1022"
    bad = await client.post("/routing/explain", json=ticket_body(area="Cau Giai"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["area"]


async def test_running_rules_are_listed_in_order(client, app):
    body = (await client.get("/routing/rules")).json()
    assert body["version"] == app.state.runtime.rules.current.version
    assert body["fallback"] == "tong-dai-1022" and body["warnings"] == []
    assert body["rules"][0]["id"] == "chay-no-khan-cap"
    assert body["loaded_at"].endswith("+07:00")


@pytest.fixture
async def scratch_rules(app, tmp_path):
    """The app routes with a copy of routing_rules/ that a test may edit; restored after."""
    rules_dir = tmp_path / "rules"
    shutil.copytree(app.state.runtime.settings.rules_dir, rules_dir)
    runtime = app.state.runtime
    live = LiveRuleset(
        rules_dir, runtime.catalog, datetime.now(UTC), sla_policies=runtime.sla.policy_ids
    )
    with runtime_changed(app, rules=live):
        yield rules_dir / "rules.yaml"


WASTE_TO_URENCO = """rules:
  - id: rac-thai-urenco-truoc
    when: {topic: moi-truong.rac-thai}
    assign: urenco
"""


async def test_invalid_reload_is_refused_and_the_running_rules_keep_serving(
    client, auth, app, scratch_rules
):
    running = app.state.runtime.rules.current.version
    text = scratch_rules.read_text(encoding="utf-8")
    scratch_rules.write_text(
        text.replace("assign: cdc-ha-noi", "assign: cdc-ha-noii", 1), encoding="utf-8"
    )
    response = await client.post("/admin/rules/reload", headers=auth("admin"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["running_version"] == running
    assert any(
        "rules.yaml:" in e and "covid-cdc" in e and "cdc-ha-noii" in e for e in problem["errors"]
    )
    assert (await client.get("/routing/rules")).json()["version"] == running
    assert (await create_ticket(client))["current_assignment"]["unit"][
        "code"
    ] == "ubnd-phuong-cau-giay"


async def test_valid_reload_switches_new_tickets_atomically(client, auth, app, scratch_rules):
    old = await create_ticket(client)
    text = scratch_rules.read_text(encoding="utf-8")
    scratch_rules.write_text(text.replace("rules:\n", WASTE_TO_URENCO, 1), encoding="utf-8")
    response = await client.post("/admin/rules/reload", headers=auth("admin"))
    assert response.status_code == 200 and response.json()["changed"] is True
    new = await create_ticket(client)
    assert new["current_assignment"]["unit"]["code"] == "urenco"
    assert new["current_assignment"]["rule_id"] == "rac-thai-urenco-truoc"
    assert (
        new["current_assignment"]["ruleset_version"] != old["current_assignment"]["ruleset_version"]
    )
    # Existing assignments keep the version that chose them.
    kept = (await client.get(f"/tickets/{old['id']}")).json()["current_assignment"]
    assert kept["ruleset_version"] == old["current_assignment"]["ruleset_version"]


async def test_polling_picks_up_a_new_version_once(app, scratch_rules):
    live = app.state.runtime.rules
    before = live.current.version
    assert live.reload(datetime.now(UTC), force=False).changed is False
    text = scratch_rules.read_text(encoding="utf-8")
    scratch_rules.write_text(text.replace("rules:\n", WASTE_TO_URENCO, 1), encoding="utf-8")
    result = live.reload(datetime.now(UTC), force=False)
    assert result.changed and live.current.version != before
    assert live.reload(datetime.now(UTC), force=False).changed is False


async def test_polling_skips_a_refused_version(app, scratch_rules):
    live = app.state.runtime.rules
    before = live.current
    scratch_rules.write_text("rules: [", encoding="utf-8")
    first = live.reload(datetime.now(UTC), force=False)
    assert first.errors and live.current is before
    # The same broken files are not parsed (nor logged) again on every poll.
    second = live.reload(datetime.now(UTC), force=False)
    assert second.errors == [] and live.current is before
