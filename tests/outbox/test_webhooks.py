"""Webhooks end to end with a real HTTP receiver on 127.0.0.1: every message type arrives once,
signed per Standard Webhooks v1 (verified by the `standardwebhooks` package), retried with the
same webhook-id, never lost when the relay dies, never sent twice by two relays."""

import asyncio
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from standardwebhooks.webhooks import Webhook

from app.db import transaction
from app.outbox import delivery
from app.outbox.models import WebhookDelivery, WebhookEndpoint
from app.outbox.setup import relay_of
from app.tickets.assignment_clock import run_scan
from app.tickets.models import TicketEvent
from tests.conftest import create_ticket
from tests.outbox.support import Clock, subscribe


def verified(secret, received):
    """The parsed body, after the independent library checked the signature."""
    return Webhook(secret).verify(received.body, received.headers)


async def act(client, ticket, action, body, headers):
    r = await client.post(f"/tickets/{ticket['id']}/{action}", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_every_message_type_arrives_once_signed(client, app, auth, admin, receiver):
    hook = await subscribe(client, admin, receiver.at("/all"), description="Thành phố")
    assert hook["secret"].startswith("whsec_")
    agent = auth("agent.caugiay")
    one = await create_ticket(client, caller={"name": "Trần Thị Hoa", "phone": "0987 654 321"})
    r = await client.patch(f"/tickets/{one['id']}", json={"priority": "high"})
    assert r.status_code == 200, r.text
    await act(client, one, "acknowledge", {}, agent)
    await act(client, one, "request-info", {"question": "Số nhà?"}, agent)
    await act(client, one, "info-received", {}, agent)
    await act(client, one, "resolve", {"resolution": "Đã thu gom"}, agent)
    await act(client, one, "reopen", {"reason": "Vẫn còn rác"}, auth("operator"))
    await act(client, one, "resolve", {"resolution": "Đã thu gom hết"}, agent)
    await act(client, one, "close", {}, auth("operator"))
    two = await create_ticket(client)
    await act(client, two, "reject", {"reason": "Không thuộc thẩm quyền"}, agent)
    three = await create_ticket(client)
    await act(client, three, "transfer", {"unit": "urenco"}, auth("operator"))
    await act(client, three, "cancel", {"reason": "Trùng cuộc gọi"}, auth("operator"))
    four = await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    five = await create_ticket(client)
    await act(client, five, "duplicate", {"duplicate_of": four["reference"]}, auth("operator"))
    await run_scan(
        app.state.runtime.session_factory,
        catalog=app.state.runtime.catalog,
        now=datetime(2026, 4, 30, 3, 0, tzinfo=UTC),
    )
    erased = await client.post(
        "/callers/erase",
        json={"phone": "0987 654 321", "ground": "Chủ thể yêu cầu xoá", "request_ref": "YC-9"},
        headers=admin,
    )
    assert erased.status_code == 200, erased.text

    await app.state.runtime.relay.run_once()

    got = receiver.of("/all")
    ids = Counter(r.headers["webhook-id"] for r in got)
    assert all(n == 1 for n in ids.values()), ids
    bodies = [verified(hook["secret"], r) for r in got]
    types = {b["type"] for b in bodies}
    expected = {
        "ticket.created", "ticket.assigned", "ticket.updated", "ticket.acknowledged",
        "ticket.waiting_citizen", "ticket.info_received", "ticket.resolved", "ticket.reopened",
        "ticket.closed", "ticket.rejected", "ticket.transferred", "ticket.cancelled",
        "ticket.duplicate", "sla.warning", "sla.breached", "sla.escalated", "caller.erased",
    }  # fmt: skip
    assert types == expected
    # Exactly one message per announced event, nothing more.
    async with app.state.runtime.session_factory() as session:
        kinds = (await session.execute(select(TicketEvent.kind))).scalars().all()
    from app.outbox.types import EVENT_TYPES

    assert len(bodies) == sum(k in EVENT_TYPES for k in kinds) + 1  # + caller.erased
    for body in bodies:
        assert set(body) == {"type", "timestamp", "data"}
        raw = json.dumps(body, ensure_ascii=False)
        assert len(raw.encode()) < 20_000
        # No caller identity, ever: neither the block nor the name or number in free text.
        assert "Trần Thị Hoa" not in raw and "0987654321" not in raw and "+84987654321" not in raw
        if body["type"].startswith(("ticket.", "sla.")):
            data = body["data"]
            assert "caller" not in data["ticket"]
            assert data["event"]["kind"] in EVENT_TYPES
            assert data["sequence"] >= 1
    erasure = next(b for b in bodies if b["type"] == "caller.erased")
    assert erasure["data"] == {"tickets": [one["reference"]]}
    assigned = next(
        b
        for b in bodies
        if b["type"] == "ticket.assigned" and b["data"]["ticket"]["id"] == one["id"]
    )
    assert assigned["data"]["assignment"]["resolve_due_at"]
    # Per-ticket sequence numbers grow with the ticket's history.
    seqs = [
        b["data"]["sequence"] for b in bodies if b["data"].get("ticket", {}).get("id") == one["id"]
    ]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_the_reporters_of_an_original_ticket_arrive_without_their_callers(
    client, app, auth, admin, receiver
):
    hook = await subscribe(client, admin, receiver.at("/reports"))
    original = await create_ticket(client, caller={"name": "Lê Thị Mai", "phone": "0913 111 222"})
    copy = await create_ticket(client, caller={"name": "Phạm Văn Bình", "phone": "0904 333 444"})
    await act(client, copy, "duplicate", {"duplicate_of": original["reference"]}, auth("operator"))
    await act(client, original, "acknowledge", {}, auth("agent.caugiay"))

    await app.state.runtime.relay.run_once()

    bodies = [verified(hook["secret"], r) for r in receiver.of("/reports")]
    acknowledged = next(b for b in bodies if b["type"] == "ticket.acknowledged")
    # The original's read lists each call that reported it, but a body names no caller.
    reporters = acknowledged["data"]["ticket"]["reporters"]
    assert [r["reference"] for r in reporters] == [original["reference"], copy["reference"]]
    assert all("caller" not in r for r in reporters)
    for body in bodies:
        raw = json.dumps(body, ensure_ascii=False)
        for identity in ("Lê Thị Mai", "Phạm Văn Bình", "84913111222", "84904333444"):
            assert identity not in raw, (body["type"], identity)


async def test_unit_subscriptions_get_their_tickets_and_escalations(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/caugiay"), units=["ubnd-phuong-cau-giay"])
    await subscribe(client, admin, receiver.at("/badinh"), units=["ubnd-phuong-ba-dinh"])
    await subscribe(
        client, admin, receiver.at("/city"), units=["ubnd-ha-noi"], events=["sla.escalated"]
    )
    await create_ticket(client, received_at="2026-03-13T16:50:00+07:00")
    await run_scan(
        app.state.runtime.session_factory,
        catalog=app.state.runtime.catalog,
        now=datetime(2026, 4, 30, 3, 0, tzinfo=UTC),
    )
    await app.state.runtime.relay.run_once()
    assert receiver.of("/badinh") == []
    assert len(receiver.of("/caugiay")) >= 4
    city = [json.loads(r.body)["type"] for r in receiver.of("/city")]
    assert city and set(city) == {"sla.escalated"}


async def test_fail_twice_then_succeed_sends_the_same_webhook_id_thrice(
    client, app, admin, receiver
):
    hook = await subscribe(client, admin, receiver.at("/flaky"), events=["ticket.created"])
    receiver.script["/flaky"] = [(503, {"Retry-After": "60"}), 500]
    relay = relay_of(app.state.runtime)
    relay.clock = clock = Clock()
    await create_ticket(client)
    await relay.run_once()
    clock.now += timedelta(seconds=6)  # the schedule's 5 s (±10 %), but Retry-After says 60
    await relay.run_once()
    assert len(receiver.of("/flaky")) == 1
    clock.now += timedelta(seconds=55)
    await relay.run_once()
    assert len(receiver.of("/flaky")) == 2
    clock.now += timedelta(seconds=250)  # the schedule's 5 min (±10 %): not yet
    await relay.run_once()
    assert len(receiver.of("/flaky")) == 2
    clock.now += timedelta(seconds=85)
    await relay.run_once()
    await relay.close()
    got = receiver.of("/flaky")
    assert len(got) == 3
    assert len({r.headers["webhook-id"] for r in got}) == 1
    assert len({r.body for r in got}) == 1
    for r in got:
        verified(hook["secret"], r)
    log = (await client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    (item,) = log["items"]
    assert item["state"] == "delivered"
    assert [a["status"] for a in item["attempts"]] == [200, 500, 503]  # newest first
    assert all(a["latency_ms"] is not None for a in item["attempts"])
    assert item["attempts"][2]["error"] == "HTTP 503"


async def test_a_relay_killed_mid_delivery_loses_nothing(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/slow"), events=["ticket.created"])
    receiver.delay["/slow"] = 30
    relay = relay_of(app.state.runtime)
    relay.clock = clock = Clock()
    await create_ticket(client)
    task = asyncio.create_task(relay.run_once())
    for _ in range(200):
        if receiver.of("/slow"):
            break
        await asyncio.sleep(0.05)
    task.cancel()  # the process dies mid-request: no outcome recorded
    await asyncio.gather(task, return_exceptions=True)
    await relay.close()
    receiver.delay.clear()
    again = relay_of(app.state.runtime)  # a restarted instance
    again.clock = clock
    await again.run_once()
    assert len(receiver.of("/slow")) == 1  # still leased to the dead relay
    clock.now += timedelta(seconds=61)
    await again.run_once()
    await again.close()
    got = receiver.of("/slow")
    assert len(got) == 2 and got[0].headers["webhook-id"] == got[1].headers["webhook-id"]
    async with app.state.runtime.session_factory() as session:
        (d,) = (await session.execute(select(WebhookDelivery))).scalars().all()
    assert d.delivered_at is not None and d.next_attempt_at is None


async def test_two_relays_never_send_one_attempt_twice(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/pair"), events=["ticket.created"])
    for _ in range(30):
        await create_ticket(client)
    first, second = relay_of(app.state.runtime), relay_of(app.state.runtime)
    first.batch = second.batch = 7
    await asyncio.gather(first.run_once(), second.run_once())
    await first.close()
    await second.close()
    ids = Counter(r.headers["webhook-id"] for r in receiver.of("/pair"))
    assert len(ids) == 30 and set(ids.values()) == {1}


async def test_a_rolled_back_action_sends_nothing(client, app, auth, admin, receiver):
    ticket = await create_ticket(client)
    await app.state.runtime.relay.run_once()
    await subscribe(client, admin, receiver.at("/rb"))
    # A refused action (invalid transition) and a transaction rolled back after its flush.
    r = await client.post(f"/tickets/{ticket['id']}/close", json={})
    assert r.status_code == 409
    now = datetime.now(UTC)
    async with app.state.runtime.session_factory() as session:
        session.add(
            TicketEvent(
                ticket_id=ticket["id"], kind="updated", occurred_at=now, recorded_at=now,
                actor="t", details={},
            )
        )  # fmt: skip
        await session.flush()
        await session.rollback()
    await app.state.runtime.relay.run_once()
    assert receiver.of("/rb") == []


async def test_gone_disables_and_retry_after_enable_delivers(client, app, auth, admin, receiver):
    hook = await subscribe(client, admin, receiver.at("/gone"), events=["ticket.created"])
    receiver.script["/gone"] = [410]
    await create_ticket(client)
    await app.state.runtime.relay.run_once()
    # Supervisors see that the relay disabled it, and why.
    seen = (await client.get(f"/webhooks/{hook['id']}", headers=auth("supervisor"))).json()
    assert seen["enabled"] is False and "410" in seen["disabled_reason"]
    await create_ticket(client)  # parked for the disabled endpoint
    await app.state.runtime.relay.run_once()
    assert len(receiver.of("/gone")) == 1
    r = await client.patch(f"/webhooks/{hook['id']}", json={"enabled": True}, headers=admin)
    assert r.status_code == 200 and r.json()["enabled"] is True
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    r = await client.post(f"/webhooks/{hook['id']}/replay", params={"since": since}, headers=admin)
    assert r.status_code == 202 and r.json()["queued"] == 2
    await app.state.runtime.relay.run_once()
    assert len({r.headers["webhook-id"] for r in receiver.of("/gone")}) == 2


async def test_failing_for_days_disables_the_endpoint(client, app, admin, receiver):
    hook = await subscribe(client, admin, receiver.at("/down"), events=["ticket.created"])
    receiver.script["/down"] = [500] * 20
    relay = relay_of(app.state.runtime)
    relay.clock = clock = Clock()
    await create_ticket(client)
    for _ in range(10):
        await relay.run_once()
        clock.now += timedelta(hours=12)
    await relay.close()
    seen = (await client.get(f"/webhooks/{hook['id']}", headers=admin)).json()
    assert seen["enabled"] is False and seen["disabled_reason"].startswith("failing since")


async def test_rotation_signs_with_both_secrets_during_the_grace(client, app, admin, receiver):
    hook = await subscribe(client, admin, receiver.at("/rot"))
    r = await client.post(f"/webhooks/{hook['id']}/rotate-secret", headers=admin)
    assert r.status_code == 200, r.text
    new = r.json()["secret"]
    assert new != hook["secret"]
    t = await client.post(f"/webhooks/{hook['id']}/test", headers=admin)
    assert t.status_code == 202, t.text
    await app.state.runtime.relay.run_once()
    (got,) = receiver.of("/rot")
    assert got.headers["webhook-id"] == t.json()["message_id"]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert verified(new, got)["type"] == "webhook.test"
    assert verified(hook["secret"], got)["type"] == "webhook.test"


async def test_private_addresses_are_refused_unless_allowed(client, app, admin, receiver):
    hook = await subscribe(client, admin, receiver.at("/ssrf"), events=["ticket.created"])
    relay = relay_of(app.state.runtime)
    relay.allowed = ()
    await create_ticket(client)
    await relay.run_once()
    await relay.close()
    assert receiver.of("/ssrf") == []
    log = (await client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    assert log["items"][0]["attempts"][0]["error"].startswith("refused: 127.0.0.1")


async def test_delivered_messages_are_purged_after_retention(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/old"))
    await create_ticket(client)
    relay = relay_of(app.state.runtime)
    await relay.run_once()
    assert await relay.purge() == 0
    relay.clock = lambda: datetime.now(UTC) + timedelta(days=31)
    assert await relay.purge() == 2
    async with transaction(app.state.runtime.session_factory) as session:
        assert (await session.execute(select(WebhookDelivery))).all() == []
    await relay.close()


async def test_a_subscription_deleted_during_fan_out_and_delivery(client, app, admin, receiver):
    """Deleting a subscription while a fan-out queues its deliveries waits for it and deletes
    those too; a relay that was sending them then records nothing, and neither fails."""
    from app.outbox import delivery
    from app.outbox.fanout import fan_out

    hook = await subscribe(client, admin, receiver.at("/gone-soon"), events=["ticket.created"])
    await create_ticket(client)
    relay = relay_of(app.state.runtime)
    factory = app.state.runtime.session_factory
    removing = None
    async with transaction(factory) as session:
        queued = await fan_out(
            session,
            now=datetime.now(UTC),
            service_for=lambda principal, s=session: relay.service_for(s, principal),
        )
        assert queued == 2
        # The fan-out has not committed: the delete must wait for it (PostgreSQL row lock,
        # SQLite's single writer), not miss the deliveries it queued.
        removing = asyncio.create_task(client.delete(f"/webhooks/{hook['id']}", headers=admin))
        await asyncio.sleep(0.3)
    r = await removing
    assert r.status_code == 204, r.text
    async with factory() as session:
        assert (await session.execute(select(WebhookDelivery))).all() == []

    # In flight: claimed and sent, then the subscription goes before the outcome is recorded.
    hook = await subscribe(client, admin, receiver.at("/gone-later"), events=["ticket.created"])
    await create_ticket(client)
    await relay.fan_out_all()
    async with transaction(factory) as session:
        (claimed,) = await delivery.claim(session, now=datetime.now(UTC), batch=10)
    r = await client.delete(f"/webhooks/{hook['id']}", headers=admin)
    assert r.status_code == 204, r.text
    outcome = delivery.Outcome(claimed, datetime.now(UTC), 200, 5, None)
    async with transaction(factory) as session:
        disabled = await delivery.record(
            session, [outcome], now=datetime.now(UTC), disable_after=timedelta(days=3), rng=None
        )
    assert disabled == []
    await relay.close()


async def test_deleting_a_subscription_while_a_fan_out_adds_to_it(client, app, admin, receiver):
    """A fan-out inserting deliveries for the subscription commits while the DELETE runs: the
    DELETE waits for it and takes its deliveries too (it was a foreign-key 500 on PostgreSQL)."""
    hook = await subscribe(client, admin, receiver.at("/gone"), events=["ticket.created"])
    async with app.state.runtime.session_factory() as fanning:
        fanning.add(
            WebhookDelivery(
                endpoint_id=hook["id"],
                message_id="msg_999999",
                type="ticket.created",
                body="{}",
                created_at=datetime.now(UTC),
                attempts=0,
            )
        )
        await fanning.flush()  # PostgreSQL: FOR KEY SHARE on the endpoint until commit
        deleting = asyncio.create_task(client.delete(f"/webhooks/{hook['id']}", headers=admin))
        await asyncio.sleep(0.5)  # the DELETE has cleared what it could see and waits
        await fanning.commit()
    r = await deleting
    assert r.status_code == 204, r.text
    assert (await client.get(f"/webhooks/{hook['id']}", headers=admin)).status_code == 404
    async with app.state.runtime.session_factory() as session:
        assert (await session.execute(select(WebhookDelivery))).scalars().all() == []


async def test_a_subscription_deleted_mid_delivery_spoils_no_other_outcome(
    client, app, admin, receiver
):
    """Deleted while its message was on the wire: the relay records the batch's other outcomes
    (an error there lost them all, and every other receiver got its message again)."""
    gone = await subscribe(client, admin, receiver.at("/gone"), events=["ticket.created"])
    kept = await subscribe(client, admin, receiver.at("/kept"), events=["ticket.created"])
    await create_ticket(client)
    relay = relay_of(app.state.runtime)
    await relay.fan_out_all()
    now = datetime.now(UTC)
    async with app.state.runtime.session_factory() as session:
        claimed = await delivery.claim(session, now=now, batch=10)
        await session.commit()
    assert {c.endpoint_id for c in claimed} == {gone["id"], kept["id"]}
    assert (await client.delete(f"/webhooks/{gone['id']}", headers=admin)).status_code == 204
    outcomes = [delivery.Outcome(c, now, 204, 5, None) for c in claimed]
    async with app.state.runtime.session_factory() as session:
        await delivery.record(
            session, outcomes, now=now, disable_after=timedelta(hours=72), rng=random.Random(1)
        )
        await session.commit()
        rows = (await session.execute(select(WebhookDelivery))).scalars().all()
    await relay.close()
    assert [(d.endpoint_id, d.delivered_at is not None) for d in rows] == [(kept["id"], True)]


async def _pending(app):
    async with app.state.runtime.session_factory() as session:
        return (
            (
                await session.execute(
                    select(WebhookDelivery).where(WebhookDelivery.next_attempt_at.is_not(None))
                )
            )
            .scalars()
            .all()
        )


async def test_a_failing_receiver_is_probed_not_flooded(client, app, admin, receiver):
    await subscribe(client, admin, receiver.at("/down"), events=["ticket.created"])
    receiver.script["/down"] = [503] * 1000  # down until the script is cleared
    relay = relay_of(app.state.runtime)
    relay.clock = clock = Clock()
    limit = app.state.runtime.settings.webhook_concurrency_per_endpoint
    for _ in range(limit + 14):
        await create_ticket(client)
    await relay.run_once()
    # The first failure stops the requests not yet started: at most one endpoint's worth of
    # concurrent requests was sent, and every message waits for the endpoint's hold (5 s).
    first = len(receiver.of("/down"))
    assert 1 <= first <= limit
    pending = await _pending(app)
    assert len(pending) == limit + 14
    assert all(d.next_attempt_at >= clock.now + delivery.HOLD_MIN for d in pending)
    assert sum(d.attempts for d in pending) == first  # skipped ones were not counted
    # Nothing is due: another round, and a new message, send nothing before the hold ends.
    await create_ticket(client)
    await relay.run_once()
    assert len(receiver.of("/down")) == first
    assert all(d.next_attempt_at >= clock.now + delivery.HOLD_MIN for d in await _pending(app))
    # After the hold one probe goes, fails, and the whole backlog waits again.
    clock.now += timedelta(seconds=6)
    await relay.run_once()
    assert len(receiver.of("/down")) == first + 1
    assert all(d.next_attempt_at > clock.now for d in await _pending(app))
    # The receiver is back: the next probe succeeds and the backlog follows in the same round.
    receiver.script["/down"] = []
    clock.now += timedelta(minutes=6)
    await relay.run_once()
    await relay.close()
    assert await _pending(app) == []
    delivered = {r.headers["webhook-id"] for r in receiver.of("/down")[first + 1 :]}
    assert len(delivered) == limit + 15


async def test_a_4xx_about_one_message_holds_nothing_else(client, app, admin, receiver):
    """A 422 (or 400, 413, ...) judges that message: it is retried on its own schedule while
    the endpoint gets the rest at once; a 401, 404 or 429 says the endpoint fails (held)."""
    hook = await subscribe(client, admin, receiver.at("/picky"), events=["ticket.created"])
    relay = relay_of(app.state.runtime)
    relay.clock = clock = Clock()
    # One request at a time: the second starts only after the first was answered.
    relay.settings = relay.settings.model_copy(update={"webhook_concurrency_per_endpoint": 1})
    for _ in range(3):
        await create_ticket(client)
    receiver.script["/picky"] = [422]
    await relay.run_once()
    assert len(receiver.of("/picky")) == 3  # the others were not skipped
    (rejected,) = await _pending(app)
    assert rejected.message_id == receiver.of("/picky")[0].headers["webhook-id"]
    assert rejected.attempts == 1
    assert 4.5 <= (rejected.next_attempt_at - clock.now).total_seconds() <= 5.5  # its schedule
    log = (await client.get(f"/webhooks/{hook['id']}/deliveries", headers=admin)).json()
    assert [d["state"] for d in log["items"]].count("delivered") == 2
    async with app.state.runtime.session_factory() as session:
        endpoint = await session.get(WebhookEndpoint, hook["id"])
        assert endpoint.failing_since is None and endpoint.enabled

    # A 401 is about the endpoint: the rest of the batch waits for its hold.
    for _ in range(2):
        await create_ticket(client)
    receiver.script["/picky"] = [401]
    clock.now += timedelta(seconds=6)
    await relay.run_once()
    await relay.close()
    assert len(receiver.of("/picky")) == 4  # the due retry got the 401; nothing else went
    pending = await _pending(app)
    assert len(pending) == 3
    assert all(d.next_attempt_at >= clock.now + delivery.HOLD_MIN for d in pending)
