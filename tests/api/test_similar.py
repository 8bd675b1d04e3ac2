"""Duplicate suggestions: POST /tickets/similar, GET /tickets/{id}/similar, intake's option."""

from tests.conftest import create_ticket

FACTS = {
    "caller_phone": "0912 345 678",
    "area": "phuong-cau-giay",
    "topic": "moi-truong.rac-thai",
    "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông",
}


async def similar(client, **body):
    response = await client.post("/tickets/similar", json=body)
    assert response.status_code == 200, response.text
    return response.json()["candidates"]


async def test_reasons_and_order(client):
    same = await create_ticket(client)  # conftest's default: same phone, area, topic, text
    other_area = await create_ticket(
        client,
        caller={"phone": "0903 000 001"},
        area="xa-bat-trang",
        description="Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông",
    )
    await create_ticket(
        client, caller={"phone": "0903 000 002"}, description="Đèn đường không sáng"
    )
    found = await similar(client, **FACTS)
    assert found[0]["id"] == same["id"]
    kinds = {r["kind"] for r in found[0]["reasons"]}
    assert kinds == {"same_caller", "same_area_topic_open", "similar_text"}
    assert 0 < found[0]["score"] <= 1
    # Another area, same words: found by the text alone only among the topic's tickets.
    by_topic = await similar(client, topic="moi-truong.rac-thai", description=FACTS["description"])
    assert other_area["id"] in [c["id"] for c in by_topic]
    # Unrelated facts suggest nothing; nothing was written.
    assert await similar(client, caller_phone="0977 000 000", description="Cây đổ") == []
    assert len((await client.get("/tickets")).json()["items"]) == 3


async def test_nearby_and_at_most_five(client):
    for i in range(7):
        await create_ticket(
            client,
            caller={"phone": f"0903 000 1{i:02d}"},
            description=f"Sự việc số {i} khác hẳn",
            latitude=21.0360,
            longitude=105.7900 + i * 0.0001,
            topic="giao-thong",
        )
    found = await similar(
        client, area="phuong-cau-giay", latitude=21.0362, longitude=105.7901, description="x"
    )
    assert len(found) == 5
    assert all(r["kind"] == "nearby" and r["metres"] <= 250 for c in found for r in c["reasons"])
    far = await similar(client, area="phuong-cau-giay", latitude=21.06, longitude=105.79)
    assert far == []


async def test_confidential_callers_are_not_linked_by_phone(client):
    await create_ticket(
        client,
        caller={"phone": "0912 345 678", "confidential": True},
        area="xa-bat-trang",
        topic="giao-thong",
        description="Tố cáo xây dựng trái phép",
    )
    assert await similar(client, caller_phone="0912 345 678") == []


async def test_for_a_stored_ticket_and_at_intake(client, auth):
    first = await create_ticket(client)
    again = await client.post(
        "/tickets",
        params={"suggest_duplicates": "true"},
        json={
            "channel": "phone",
            "caller": {"name": "Nguyễn Văn An", "phone": "0912 345 678"},
            "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông",
            "topic": "moi-truong.rac-thai",
            "area": "phuong-cau-giay",
        },
    )
    assert again.status_code == 201, again.text
    assert [c["id"] for c in again.json()["possible_duplicates"]] == [first["id"]]
    plain = await create_ticket(client)
    assert plain.get("possible_duplicates") is None
    stored = await client.get(f"/tickets/{first['id']}/similar")
    ids = [c["id"] for c in stored.json()["candidates"]]
    assert first["id"] not in ids and again.json()["id"] in ids
    agent = await client.get(f"/tickets/{first['id']}/similar", headers=auth("agent.caugiay"))
    assert agent.status_code == 403


async def test_problems_name_the_field(client):
    bad = await client.post("/tickets/similar", json={"topic": "khong-co"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "topic"
    bad = await client.post("/tickets/similar", json={"caller_phone": "12"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][-1] == "caller_phone"
    bad = await client.post("/tickets/similar", json={"latitude": 123})
    assert bad.status_code == 422
    missing = await client.get("/tickets/999999/similar")
    assert missing.status_code == 404
