"""`sla_state` filters list a ticket under the state its read shows (issue #10)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.conftest import create_ticket

HN = ZoneInfo("Asia/Ho_Chi_Minh")
STATES = ("on_track", "warning", "breached", "paused")


def local(*args):
    return datetime(*args, tzinfo=HN)


async def _ticket(client, clock, agent, received, steps):
    """A ward ticket received at `received`, then (instant, action, body) steps by its agent."""
    clock.now = received
    ticket = await create_ticket(client, received_at=received.isoformat())
    for instant, action, body in steps:
        clock.now = instant
        response = await client.post(f"/tickets/{ticket['id']}/{action}", json=body, headers=agent)
        assert response.status_code == 200, response.text
    return ticket["id"]


async def test_filters_agree_with_the_state_each_ticket_reads(client, clock, auth):
    agent = auth("agent.caugiay")
    ask = {"question": "Số nhà?"}
    now = local(2026, 3, 18, 10, 0)  # Wednesday
    tickets = {
        "on_track": await _ticket(client, clock, agent, local(2026, 3, 18, 9, 50), []),
        # 7h30 of the 8 working hours to acknowledge used: past the 80% warning.
        "warning": await _ticket(client, clock, agent, local(2026, 3, 17, 10, 0), []),
        "breached": await _ticket(client, clock, agent, local(2026, 3, 16, 8, 0), []),
        "paused": await _ticket(
            client,
            clock,
            agent,
            local(2026, 3, 16, 8, 0),
            [
                (local(2026, 3, 16, 9, 0), "acknowledge", None),
                (local(2026, 3, 17, 10, 0), "request-info", ask),
            ],
        ),
        # The resolve target (5 working days) breached on 9 March; the unit asked the
        # citizen afterwards. The pause does not lift the breach.
        "breached_then_paused": await _ticket(
            client,
            clock,
            agent,
            local(2026, 3, 2, 8, 0),
            [
                (local(2026, 3, 2, 9, 0), "acknowledge", None),
                (local(2026, 3, 17, 9, 0), "request-info", ask),
            ],
        ),
    }
    clock.now = now
    reads = {name: (await client.get(f"/tickets/{tid}")).json() for name, tid in tickets.items()}
    shown = {name: r["current_assignment"]["sla"]["state"] for name, r in reads.items()}
    assert shown == {
        "on_track": "on_track",
        "warning": "warning",
        "breached": "breached",
        "paused": "paused",
        "breached_then_paused": "breached",
    }
    assert reads["breached_then_paused"]["status"] == "waiting_citizen"
    mine = set(tickets.values())
    for state in STATES:
        listed = (await client.get("/tickets", params={"sla_state": state, "limit": 200})).json()
        got = {t["id"] for t in listed["items"]} & mine
        assert got == {tickets[n] for n, s in shown.items() if s == state}, state
        for item in listed["items"]:  # the list shows the same state it filtered on
            if item["id"] in mine:
                assert item["current_assignment"]["sla"]["state"] == state
    by_due = (await client.get("/tickets", params={"sort": "due", "limit": 200})).json()
    order = [t["id"] for t in by_due["items"] if t["id"] in mine]
    assert order[0] == tickets["breached_then_paused"]  # the most overdue first
    assert order[-1] == tickets["paused"]  # no running clock: last
    # With states that all have a due, sort=due pages on the due column itself (the index's
    # order): the same order as the unfiltered sort, a page at a time, and the cursor holds.
    running = [i for i in order if i != tickets["paused"]]
    pages, cursor = [], None
    while True:
        params = {"sort": "due", "limit": 2, "sla_state": ["breached", "warning", "on_track"]}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/tickets", params=params)).json()
        pages += [t["id"] for t in page["items"] if t["id"] in mine]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == running
