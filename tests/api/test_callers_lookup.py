"""POST /callers/lookup and the operator's caller_history summary."""

from datetime import UTC, datetime, timedelta

from tests.conftest import create_ticket

PHONE = {"name": "Lê Văn Tâm", "phone": "0987 123 456"}


async def test_lookup_lists_newest_first_with_counts_in_any_format(client, auth):
    old = await create_ticket(
        client,
        caller=PHONE,
        received_at=(datetime.now(UTC) - timedelta(days=40)).isoformat(),
    )
    first = await create_ticket(client, caller=PHONE)
    second = await create_ticket(client, caller=PHONE, topic="nuoc-sach.mat-nuoc")
    await client.post(
        f"/tickets/{first['id']}/resolve",
        json={"resolution": "Xong"},
        headers=auth("agent.caugiay"),
    )
    await create_ticket(client, caller={**PHONE, "confidential": True})
    await create_ticket(client, caller={"phone": "0912 000 111"})
    for phone in ("+84 987 123 456", "84987123456", "0987.123.456"):
        response = await client.post("/callers/lookup", json={"phone": phone})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["phone"] == "+84987123456"
        # The confidential ticket is neither listed nor counted.
        assert [t["id"] for t in body["tickets"]] == [second["id"], first["id"], old["id"]]
        assert (body["calls_30_days"], body["calls_365_days"], body["open"]) == (2, 3, 2)
        listed = {t["id"]: t for t in body["tickets"]}
        assert listed[first["id"]]["status"] == "resolved"
        assert listed[second["id"]]["unit"] and listed[second["id"]]["sla_state"] == "on_track"
        assert body["truncated"] is False


async def test_lookup_is_on_the_access_log_and_refused_to_agents(client, auth):
    await create_ticket(client, caller=PHONE)
    sup = auth("supervisor")
    assert (await client.post("/callers/lookup", json=PHONE, headers=sup)).status_code == 200
    log = await client.get("/audit/access", params={"user": "supervisor"}, headers=sup)
    (record,) = log.json()["items"]
    assert record["action"] == "caller_history" and record["route"] == "POST /api/v1/callers/lookup"
    assert "987123456" not in log.text
    agent = await client.post("/callers/lookup", json=PHONE, headers=auth("agent.caugiay"))
    assert agent.status_code == 403


async def test_lookup_rejects_what_is_not_a_phone(client):
    response = await client.post("/callers/lookup", json={"phone": "abc"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["loc"][-1] == "phone"


async def test_operator_read_carries_a_short_summary(client, auth):
    earlier = await create_ticket(client, caller=PHONE)
    now = await create_ticket(client, caller=PHONE)
    read = (await client.get(f"/tickets/{now['id']}")).json()
    summary = read["caller_history"]
    assert (summary["calls_30_days"], summary["open"]) == (1, 1)
    assert summary["last"]["reference"] == earlier["reference"]
    # Not for agents or supervisors' reads, not on the intake answer, not for confidential callers.
    assert now.get("caller_history") is None
    agent = await client.get(f"/tickets/{now['id']}", headers=auth("agent.caugiay"))
    assert agent.json()["caller_history"] is None
    secret = await create_ticket(client, caller={**PHONE, "confidential": True})
    assert (await client.get(f"/tickets/{secret['id']}")).json()["caller_history"] is None
