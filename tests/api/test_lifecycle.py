"""Lifecycle actions: every action from every status, plus what each one records."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import create_ticket

# Written out by hand from the product rules (not derived from app code) so that a wrong
# transition table in the app fails here. An operator may record a call back
# (`caller-informed`) in any status, as a note: a caller is told of a cancellation too.
ALLOWED = {
    "new": {"transfer", "reroute", "cancel", "duplicate", "notes", "caller-informed"},
    "assigned": {"acknowledge", "start", "resolve", "reject"}
    | {"transfer", "reroute", "cancel", "duplicate", "notes", "caller-informed"},
    "acknowledged": {"start", "request-info", "resolve", "reject"}
    | {"transfer", "reroute", "cancel", "duplicate", "notes", "caller-informed"},
    "in_progress": {"request-info", "resolve", "reject"}
    | {"transfer", "reroute", "cancel", "duplicate", "notes", "caller-informed"},
    "waiting_citizen": {"info-received", "resolve"}
    | {"transfer", "reroute", "cancel", "duplicate", "notes", "caller-informed"},
    "resolved": {"close", "reopen", "notes", "caller-informed"},
    "closed": {"reopen", "notes", "caller-informed"},
    "cancelled": {"notes", "caller-informed"},
    "duplicate": {"notes", "caller-informed"},
}
ACTIONS = sorted(set().union(*ALLOWED.values()))

BODIES = {
    "resolve": {"resolution": "Đã thu gom rác"},
    "reject": {"reason": "Không thuộc thẩm quyền"},
    "transfer": {"unit": "ubnd-phuong-ba-dinh"},
    "reopen": {"reason": "Rác lại ùn ứ"},
    "notes": {"text": "Đã gọi lại cho người dân"},
}

UNIT_WORK = {"acknowledge", "start", "request-info", "info-received", "resolve", "reject"}
AGENT_OF = {
    "tong-dai-1022": "agent.tongdai",
    "ubnd-phuong-cau-giay": "agent.caugiay",
    "ubnd-phuong-ba-dinh": "agent.badinh",
}


def who_acts(ticket, action):
    """Unit work is done by an agent of the assigned unit; the rest by the operator."""
    current = ticket.get("current_assignment") or (ticket.get("assignments") or [None])[-1]
    if action in UNIT_WORK and current:
        return AGENT_OF[current["unit"]["code"]]
    return "operator"


async def act(client, auth, ticket, action, body=None, **kw):
    headers = auth(who_acts(ticket, action), **kw)
    return await client.post(f"/tickets/{ticket['id']}/{action}", json=body, headers=headers)


# How to bring a fresh (assigned) ticket to each status.
PATHS = {
    # The ward rejects, then the switchboard (the fallback) rejects too: no unit is left.
    "new": [
        ("reject", {"reason": "Không thuộc thẩm quyền"}),
        ("reject", {"reason": "Tổng đài chuyển"}),
    ],
    "assigned": [],
    "acknowledged": [("acknowledge", None)],
    "in_progress": [("start", None)],
    "waiting_citizen": [("acknowledge", None), ("request-info", {"question": "Số nhà?"})],
    "resolved": [("resolve", BODIES["resolve"])],
    "closed": [("resolve", BODIES["resolve"]), ("close", None)],
    "cancelled": [("cancel", None)],
    "duplicate": [("duplicate", "ORIGINAL")],
}


async def ticket_in(client, auth, status):
    ticket = await create_ticket(client)
    for action, body in PATHS[status]:
        if body == "ORIGINAL":
            body = {"duplicate_of": (await create_ticket(client))["reference"]}
        response = await act(client, auth, ticket, action, body)
        assert response.status_code == 200, response.text
        ticket = response.json()
    assert ticket["status"] == status
    return ticket


async def body_for(client, action):
    if action == "duplicate":
        return {"duplicate_of": (await create_ticket(client))["reference"]}
    return BODIES.get(action)


@pytest.mark.parametrize("status", sorted(ALLOWED))
@pytest.mark.parametrize("action", ACTIONS)
async def test_action_from_status(client, auth, status, action):
    ticket = await ticket_in(client, auth, status)
    assert set(ticket["allowed_actions"]) == ALLOWED[status]
    response = await act(client, auth, ticket, action, await body_for(client, action))
    if action in ALLOWED[status]:
        assert response.status_code == 200, response.text
        assert response.json()["version"] > ticket["version"] or action == "notes"
    else:
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["current_status"] == status
        assert set(problem["allowed_actions"]) == ALLOWED[status]
        assert status in problem["detail"]
        after = (await client.get(f"/tickets/{ticket['id']}")).json()
        assert after["status"] == status and after["version"] == ticket["version"]


async def test_acknowledge_start_resolve_record_times_on_the_assignment(client, auth):
    ticket = await create_ticket(client)
    tid = ticket["id"]
    ack = (await act(client, auth, ticket, "acknowledge")).json()
    assert ack["current_assignment"]["acknowledged_at"] is not None
    await act(client, auth, ticket, "start")
    done = (await act(client, auth, ticket, "resolve", BODIES["resolve"])).json()
    assert done["status"] == "resolved" and done["current_assignment"] is None
    (only,) = done["assignments"]
    assert only["outcome"] == "resolved" and only["resolved_at"] == only["ended_at"]
    kinds = [e["kind"] for e in (await client.get(f"/tickets/{tid}/events")).json()["items"]]
    assert kinds == ["created", "assigned", "acknowledged", "started", "resolved"]


async def test_required_bodies_are_422(client, auth):
    ticket = await create_ticket(client)
    for action in ("resolve", "reject", "transfer", "reopen", "notes", "duplicate"):
        response = await act(client, auth, ticket, action, {})
        assert response.status_code == 422, action
        assert response.headers["content-type"] == "application/problem+json"


async def test_transfer_ends_the_assignment_and_starts_one_for_the_target(client):
    ticket = await create_ticket(client)
    moved = await client.post(
        f"/tickets/{ticket['id']}/transfer",
        json={"unit": "ubnd-phuong-ba-dinh", "reason": "Địa bàn phường Ba Đình"},
    )
    assert moved.status_code == 200
    body = moved.json()
    assert body["status"] == "assigned"
    assert body["current_assignment"]["unit"]["code"] == "ubnd-phuong-ba-dinh"
    first, second = body["assignments"]
    assert first["outcome"] == "transferred" and first["ended_at"] == second["assigned_at"]
    # A transfer is a person's choice, not a rule's.
    assert second["rule_id"] is None


async def test_transfer_to_unknown_or_same_unit(client):
    ticket = await create_ticket(client)
    unknown = await client.post(
        f"/tickets/{ticket['id']}/transfer", json={"unit": "ubnd-phuong-cau-giai"}
    )
    assert unknown.status_code == 422
    assert "ubnd-phuong-cau-giay" in unknown.json()["errors"][0]["suggestions"]
    same = await client.post(
        f"/tickets/{ticket['id']}/transfer", json={"unit": "ubnd-phuong-cau-giay"}
    )
    assert same.status_code == 409


async def test_reject_reroutes_without_the_rejecting_units(client, auth):
    ticket = await create_ticket(client)
    rejected = (await act(client, auth, ticket, "reject", BODIES["reject"])).json()
    # Back to routing without the ward committee: the next rule that fits is the fallback.
    assert rejected["status"] == "assigned"
    assert rejected["current_assignment"]["unit"]["code"] == "tong-dai-1022"
    assert rejected["current_assignment"]["rule_id"] is None
    # The switchboard rejecting too leaves no unit: the ticket waits as `new`.
    again = (await act(client, auth, rejected, "reject", BODIES["reject"])).json()
    assert again["status"] == "new" and again["current_assignment"] is None
    assert [a["outcome"] for a in again["assignments"]] == ["rejected", "rejected"]
    # Sent back to routing later, the units that rejected stay excluded.
    back = await client.post(f"/tickets/{ticket['id']}/reroute", json={"reason": "Thử lại"})
    assert back.json()["status"] == "new"


async def test_reroute_sends_an_assigned_ticket_back_to_routing(client):
    ticket = await create_ticket(client)
    moved = (await client.post(f"/tickets/{ticket['id']}/transfer", json={"unit": "urenco"})).json()
    assert moved["current_assignment"]["unit"]["code"] == "urenco"
    back = (await client.post(f"/tickets/{ticket['id']}/reroute", json={})).json()
    assert back["current_assignment"]["unit"]["code"] == "ubnd-phuong-cau-giay"
    assert back["current_assignment"]["rule_id"] == "moi-truong"
    assert [a["outcome"] for a in back["assignments"]] == ["transferred", "rerouted", None]


async def test_pause_and_resume_write_events(client, auth):
    ticket = await ticket_in(client, auth, "waiting_citizen")
    resumed = (await act(client, auth, ticket, "info-received")).json()
    assert resumed["status"] == "in_progress"
    kinds = [
        e["kind"] for e in (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    ]
    assert kinds[-2:] == ["info_requested", "info_received"]


async def test_reopen_starts_a_new_assignment_and_keeps_the_old_record(client, auth):
    ticket = await ticket_in(client, auth, "closed")
    before = (await client.get(f"/tickets/{ticket['id']}")).json()["assignments"]
    reopened = (await client.post(f"/tickets/{ticket['id']}/reopen", json=BODIES["reopen"])).json()
    assert reopened["status"] == "assigned"
    assert reopened["assignments"][0] == before[0]
    assert reopened["current_assignment"]["unit"]["code"] == before[0]["unit"]["code"]
    assert reopened["current_assignment"]["id"] != before[0]["id"]


async def test_duplicate_links_the_original_and_refuses_itself(client):
    original = await create_ticket(client)
    copy = await create_ticket(client)
    itself = await client.post(
        f"/tickets/{copy['id']}/duplicate", json={"duplicate_of": copy["reference"]}
    )
    assert itself.status_code == 422
    missing = await client.post(
        f"/tickets/{copy['id']}/duplicate", json={"duplicate_of": "HN-2020-999999"}
    )
    assert missing.status_code == 422
    marked = await client.post(
        f"/tickets/{copy['id']}/duplicate", json={"duplicate_of": original["reference"]}
    )
    assert marked.json()["duplicate_of"] == original["reference"]
    assert marked.json()["assignments"][0]["outcome"] == "duplicate"


async def test_notes_and_action_notes_are_in_the_history(client, auth):
    ticket = await create_ticket(client)
    await client.post(f"/tickets/{ticket['id']}/notes", json={"text": "Người dân gọi lại lần 2"})
    await act(client, auth, ticket, "acknowledge", {"note": "Đã nhận"})
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    notes = [e["details"]["text"] for e in events if e["kind"] == "note"]
    assert notes == ["Người dân gọi lại lần 2", "Đã nhận"]


async def test_occurred_at_backdates_the_action(client, auth):
    received = datetime.now(UTC) - timedelta(hours=5)
    ticket = await create_ticket(client, received_at=received.isoformat())
    acked_at = received + timedelta(hours=1)
    body = {"occurred_at": acked_at.isoformat()}
    acked = (await act(client, auth, ticket, "acknowledge", body)).json()
    assert datetime.fromisoformat(acked["current_assignment"]["acknowledged_at"]) == acked_at
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    assert datetime.fromisoformat(events[-1]["occurred_at"]) == acked_at
    assert datetime.fromisoformat(events[-1]["recorded_at"]) > acked_at


async def test_occurred_at_never_in_the_future_nor_before_the_last_event(client, auth):
    received = datetime.now(UTC) - timedelta(hours=5)
    ticket = await create_ticket(client, received_at=received.isoformat())
    future = await act(
        client,
        auth,
        ticket,
        "acknowledge",
        {"occurred_at": (datetime.now(UTC) + timedelta(hours=1)).isoformat()},
    )
    assert future.status_code == 422 and future.json()["errors"][0]["loc"] == ["occurred_at"]
    early = await act(
        client,
        auth,
        ticket,
        "acknowledge",
        {"occurred_at": (received - timedelta(minutes=1)).isoformat()},
    )
    assert early.status_code == 422
    assert "before the ticket's last event" in early.json()["detail"]
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["status"] == "assigned"


async def test_unknown_ticket_is_404_problem(client, auth):
    response = await client.post("/tickets/999999/acknowledge", headers=auth("agent.tongdai"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
