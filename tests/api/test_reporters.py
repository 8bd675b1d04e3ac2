"""Marking a duplicate links its caller to the original: reporters, count, history, sort."""

from tests.conftest import create_ticket


async def test_duplicate_links_its_caller_to_the_original(client, auth):
    original = await create_ticket(client, caller={"name": "Trần Văn Bảo", "phone": "0903 111 001"})
    before = (await client.get(f"/tickets/{original['id']}")).json()
    dupes = []
    for caller in [
        {"name": "Lê Thị Cúc", "phone": "0903 111 002"},
        {"phone": "0903 111 003", "confidential": True},
    ]:
        dupe = await create_ticket(client, caller=caller)
        marked = await client.post(
            f"/tickets/{dupe['id']}/duplicate", json={"duplicate_of": original["reference"]}
        )
        assert marked.status_code == 200, marked.text
        assert marked.json()["status"] == "duplicate"
        assert marked.json()["duplicate_of"] == original["reference"]
        dupes.append(dupe)
    read = (await client.get(f"/tickets/{original['id']}", headers=auth("supervisor"))).json()
    assert read["reported_count"] == 3
    assert [r["reference"] for r in read["reporters"]] == [
        original["reference"],
        *(d["reference"] for d in dupes),
    ]
    assert read["reporters"][1]["caller"]["name"] == "Lê Thị Cúc"
    # A confidential reporter stays masked here as everywhere.
    assert read["reporters"][2]["caller"]["phone"] is None
    assert read["reporters"][2]["caller"]["masked"] is True
    # The SLA clock of the original is untouched.
    assert read["current_assignment"] == before["current_assignment"]
    events = (await client.get(f"/tickets/{original['id']}/events")).json()["items"]
    linked = [e for e in events if e["kind"] == "duplicate_linked"]
    assert [e["details"]["duplicate"] for e in linked] == [d["reference"] for d in dupes]


async def test_supervisors_sort_by_reported_count(client, auth):
    quiet = await create_ticket(client)
    loud = await create_ticket(client)
    for _ in range(2):
        dupe = await create_ticket(client)
        await client.post(
            f"/tickets/{dupe['id']}/duplicate", json={"duplicate_of": str(loud["id"])}
        )
    sup = auth("supervisor")
    page = await client.get("/tickets", params={"sort": "-reports", "limit": 1}, headers=sup)
    first = page.json()
    assert first["items"][0]["id"] == loud["id"] and first["items"][0]["reported_count"] == 3
    rest = await client.get(
        "/tickets",
        params={"sort": "-reports", "limit": 10, "cursor": first["next_cursor"]},
        headers=sup,
    )
    ids = [t["id"] for t in rest.json()["items"]]
    assert quiet["id"] in ids and loud["id"] not in ids
    assert all(t["reported_count"] == 1 for t in rest.json()["items"])
