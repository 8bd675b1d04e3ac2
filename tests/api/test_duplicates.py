"""Marking duplicates leaves a live original: never itself, never cancelled, never a cycle."""

import asyncio

from tests.conftest import create_ticket


async def mark(client, copy, original):
    return await client.post(
        f"/tickets/{copy['id']}/duplicate", json={"duplicate_of": original["reference"]}
    )


async def test_a_chain_points_at_its_root_and_a_cycle_is_refused(client):
    a, b, c = [await create_ticket(client) for _ in range(3)]
    assert (await mark(client, b, a)).status_code == 200
    c_dup = await mark(client, c, b)
    assert c_dup.status_code == 200
    assert c_dup.json()["duplicate_of"] == a["reference"]  # B's original, the live one
    events = (await client.get(f"/tickets/{c['id']}/events")).json()["items"]
    marked = next(e for e in events if e["kind"] == "marked_duplicate")
    assert marked["details"] == {"duplicate_of": a["reference"], "asked": b["reference"]}
    refused = await mark(client, a, c)
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["loc"] == ["duplicate_of"]
    assert c["reference"] in error["msg"] and "no original" in error["msg"]
    live = (await client.get(f"/tickets/{a['id']}")).json()
    assert live["status"] == "assigned" and live["current_assignment"] is not None


async def test_itself_and_a_cancelled_original_are_refused(client):
    a, b = await create_ticket(client), await create_ticket(client)
    itself = await mark(client, a, a)
    assert itself.status_code == 422 and "itself" in itself.json()["errors"][0]["msg"]
    assert (await client.post(f"/tickets/{b['id']}/cancel")).status_code == 200
    cancelled = await mark(client, a, b)
    assert cancelled.status_code == 422
    assert "cancelled" in cancelled.json()["errors"][0]["msg"]
    # Through a chain too: C duplicates A, A is cancelled later; D cannot duplicate C.
    c, d = await create_ticket(client), await create_ticket(client)
    assert (await mark(client, c, a)).status_code == 200
    assert (await client.post(f"/tickets/{a['id']}/cancel")).status_code == 200
    via = await mark(client, d, c)
    assert via.status_code == 422 and "cancelled" in via.json()["errors"][0]["msg"]


async def _root(client, ticket_id):
    seen = set()
    while True:
        assert ticket_id not in seen, "a cycle of duplicates"
        seen.add(ticket_id)
        ticket = (await client.get(f"/tickets/{ticket_id}")).json()
        if ticket["duplicate_of"] is None:
            return ticket
        ticket_id = ticket["duplicate_of"]


async def test_concurrent_markings_never_form_a_cycle(client):
    for _ in range(4):
        a, b, c = [await create_ticket(client) for _ in range(3)]
        results = await asyncio.gather(mark(client, b, a), mark(client, c, b), mark(client, a, c))
        codes = sorted(r.status_code for r in results)
        assert 500 not in codes and codes.count(200) in (1, 2), [r.text for r in results]
        assert all(code in (200, 409, 422) for code in codes)
        roots = {(await _root(client, t["id"]))["id"] for t in (a, b, c)}
        assert len(roots) == 1
        (root_id,) = roots
        root = (await client.get(f"/tickets/{root_id}")).json()
        assert root["status"] == "assigned" and root["current_assignment"] is not None


async def test_two_tickets_marked_as_each_others_duplicate_at_once(client):
    for _ in range(4):
        a, b = await create_ticket(client), await create_ticket(client)
        results = await asyncio.gather(mark(client, a, b), mark(client, b, a))
        codes = sorted(r.status_code for r in results)
        assert codes[0] == 200 and codes[1] in (409, 422), [r.text for r in results]
