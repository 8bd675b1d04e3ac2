"""PATCH /tickets/{id}: operator corrections with optimistic concurrency."""

from tests.conftest import create_ticket


async def test_patch_with_current_etag_applies_and_records_changes(client):
    ticket = await create_ticket(client)
    read = await client.get(f"/tickets/{ticket['id']}")
    etag = read.headers["etag"]
    response = await client.patch(
        f"/tickets/{ticket['id']}",
        json={"topic": "nuoc-sach.mat-nuoc", "area": "Bát Tràng", "priority": "high"},
        headers={"If-Match": etag},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["topic"]["code"] == "nuoc-sach.mat-nuoc"
    assert body["area"]["code"] == "xa-bat-trang"
    assert body["priority"] == "high"
    assert body["version"] == ticket["version"] + 1
    assert response.headers["etag"] != etag
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    kinds = [e["kind"] for e in events]
    assert kinds[-3:] == ["updated", "rerouted", "assigned"]
    changes = events[-3]["details"]["changes"]
    assert changes["area_code"] == ["phuong-cau-giay", "xa-bat-trang"]
    assert changes["priority"] == ["normal", "high"]
    # Not yet acknowledged, so the corrected topic re-routes it: water goes to the water company.
    assert body["current_assignment"]["unit"]["code"] == "nuoc-sach-ha-noi"
    assert [a["outcome"] for a in body["assignments"]] == ["rerouted", None]


async def test_correction_after_acknowledgement_keeps_the_unit(client, auth):
    ticket = await create_ticket(client)
    await client.post(f"/tickets/{ticket['id']}/acknowledge", headers=auth("agent.caugiay"))
    body = (
        await client.patch(f"/tickets/{ticket['id']}", json={"topic": "nuoc-sach.mat-nuoc"})
    ).json()
    assert body["topic"]["code"] == "nuoc-sach.mat-nuoc"
    assert body["current_assignment"]["unit"]["code"] == "ubnd-phuong-cau-giay"
    assert len(body["assignments"]) == 1


async def test_correction_that_routes_to_the_same_unit_changes_no_assignment(client):
    ticket = await create_ticket(client)
    body = (await client.patch(f"/tickets/{ticket['id']}", json={"topic": "trat-tu-do-thi"})).json()
    assert body["current_assignment"]["id"] == ticket["current_assignment"]["id"]


async def test_stale_if_match_is_412_and_changes_nothing(client):
    ticket = await create_ticket(client)
    etag = (await client.get(f"/tickets/{ticket['id']}")).headers["etag"]
    first = await client.patch(
        f"/tickets/{ticket['id']}", json={"priority": "high"}, headers={"If-Match": etag}
    )
    assert first.status_code == 200
    stale = await client.patch(
        f"/tickets/{ticket['id']}", json={"priority": "low"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["priority"] == "high"


async def test_actions_also_change_the_etag(client, auth):
    ticket = await create_ticket(client)
    etag = (await client.get(f"/tickets/{ticket['id']}")).headers["etag"]
    await client.post(f"/tickets/{ticket['id']}/acknowledge", headers=auth("agent.caugiay"))
    stale = await client.patch(
        f"/tickets/{ticket['id']}", json={"priority": "high"}, headers={"If-Match": etag}
    )
    assert stale.status_code == 412


async def test_description_search_text_follows_corrections(client):
    ticket = await create_ticket(client)
    await client.patch(f"/tickets/{ticket['id']}", json={"description": "Cây đổ chắn đường"})
    found = (await client.get("/tickets", params={"q": "cay do"})).json()["items"]
    assert [t["id"] for t in found] == [ticket["id"]]


async def test_invalid_corrections_are_422(client):
    ticket = await create_ticket(client)
    for body in (
        {"topic": "nope"},
        {"area": "Nowhere"},
        {"priority": "top"},
        {"description": None},
        {"status": "closed"},
    ):
        response = await client.patch(f"/tickets/{ticket['id']}", json=body)
        assert response.status_code == 422, body


async def test_no_change_keeps_the_version(client):
    ticket = await create_ticket(client)
    same = await client.patch(f"/tickets/{ticket['id']}", json={"priority": "normal"})
    assert same.json()["version"] == ticket["version"]
