"""An agent's open queue, and what a callback needs on the ticket read (issue #10)."""

from tests.conftest import create_ticket

AGENT = "agent.caugiay"


async def test_open_queue_of_my_units(client, auth):
    agent = auth(AGENT)
    assigned = await create_ticket(client)
    waiting = await create_ticket(client)
    await client.post(f"/tickets/{waiting['id']}/acknowledge", headers=agent)
    await client.post(
        f"/tickets/{waiting['id']}/request-info", json={"question": "Số nhà?"}, headers=agent
    )
    resolved = await create_ticket(client)
    await client.post(
        f"/tickets/{resolved['id']}/resolve", json={"resolution": "Đã thu gom"}, headers=agent
    )
    elsewhere = await create_ticket(client, area="phuong-ba-dinh")
    mine = {assigned["id"], waiting["id"], resolved["id"], elsewhere["id"]}

    response = await client.get(
        "/tickets", params={"status": "open", "unit": "mine", "limit": 200}, headers=agent
    )
    assert response.status_code == 200, response.text
    got = {t["id"] for t in response.json()["items"]} & mine
    assert got == {assigned["id"], waiting["id"]}
    # As the operator: every unit's open tickets.
    everyone = await client.get("/tickets", params={"status": "open", "limit": 200})
    assert {t["id"] for t in everyone.json()["items"]} & mine == {
        assigned["id"],
        waiting["id"],
        elsewhere["id"],
    }
    both = await client.get("/tickets", params=[("status", "open"), ("status", "resolved")])
    assert resolved["id"] in {t["id"] for t in both.json()["items"]}


async def test_unit_mine_needs_units_and_status_values_are_checked(client):
    mine = await client.get("/tickets", params={"unit": "mine"})
    assert mine.status_code == 422 and mine.json()["errors"][0]["loc"] == ["query", "unit"]
    bad = await client.get("/tickets", params={"status": "opened"})
    assert bad.status_code == 422
    error = bad.json()["errors"][0]
    assert error["loc"] == ["query", "status"] and "open" in error["msg"]


async def test_read_shows_the_pending_question_then_the_resolution(client, auth):
    agent = auth(AGENT)
    ticket = await create_ticket(client)
    tid = ticket["id"]
    assert ticket["pending_question"] is None and ticket["resolution"] is None
    await client.post(f"/tickets/{tid}/acknowledge", headers=agent)
    asked = await client.post(
        f"/tickets/{tid}/request-info", json={"question": "Số nhà chính xác?"}, headers=agent
    )
    question = asked.json()["pending_question"]
    assert question["question"] == "Số nhà chính xác?" and question["asked_by"] == AGENT
    listed = (await client.get("/tickets", params={"status": "waiting_citizen"})).json()
    assert next(t for t in listed["items"] if t["id"] == tid)["pending_question"] == question
    answered = await client.post(f"/tickets/{tid}/info-received", headers=agent)
    assert answered.json()["pending_question"] is None
    done = await client.post(
        f"/tickets/{tid}/resolve", json={"resolution": "Đã thu gom rác"}, headers=agent
    )
    resolution = done.json()["resolution"]
    assert resolution["text"] == "Đã thu gom rác" and resolution["unit"] == "ubnd-phuong-cau-giay"
    closed = await client.post(f"/tickets/{tid}/close")
    assert closed.json()["resolution"] == resolution
    reopened = await client.post(f"/tickets/{tid}/reopen", json={"reason": "Chưa xong"})
    assert reopened.json()["resolution"] is None
