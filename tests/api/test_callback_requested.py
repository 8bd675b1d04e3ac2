"""The caller's wish to be told the outcome: set at intake, shown, corrected; the call recorded."""

from datetime import UTC, datetime, timedelta

from app.privacy import retention
from app.privacy.retention import RetentionPolicy
from tests.conftest import create_ticket, ticket_body


async def test_intake_records_the_wish_and_the_read_shows_it(client):
    wanting = await create_ticket(client, callback_requested=True)
    plain = await create_ticket(client)
    assert wanting["callback_requested"] is True and plain["callback_requested"] is False
    again = (await client.get(f"/tickets/{wanting['id']}")).json()
    assert again["callback_requested"] is True


async def test_the_wish_needs_a_phone_or_email_to_call_back(client):
    body = ticket_body(caller={"anonymous": True}, callback_requested=True)
    r = await client.post("/tickets", json=body)
    assert r.status_code == 422
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    fields = [e["loc"] for e in problem["errors"]]
    assert ["body", "callback_requested"] in fields or ["callback_requested"] in fields, problem
    by_email = ticket_body(caller={"email": "an@example.com"}, callback_requested=True)
    assert (await client.post("/tickets", json=by_email)).status_code == 201


async def test_an_operator_corrects_the_wish_and_the_change_is_in_the_history(client):
    ticket = await create_ticket(client)
    r = await client.patch(f"/tickets/{ticket['id']}", json={"callback_requested": True})
    assert r.status_code == 200, r.text
    assert r.json()["callback_requested"] is True
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    updated = [e for e in events if e["kind"] == "updated"]
    assert updated[-1]["details"]["changes"]["callback_requested"] == [False, True]
    refused = await client.patch(f"/tickets/{ticket['id']}", json={"callback_requested": None})
    assert refused.status_code == 422


async def test_the_wish_cannot_be_set_on_a_ticket_with_no_way_to_reach_the_caller(client):
    ticket = await create_ticket(client, caller={"anonymous": True})
    r = await client.patch(f"/tickets/{ticket['id']}", json={"callback_requested": True})
    assert r.status_code == 422 and "callback_requested" in r.text
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["callback_requested"] is False


async def test_caller_informed_is_an_operator_action_that_keeps_its_note_and_the_status(
    client, auth
):
    ticket = await create_ticket(client, callback_requested=True)
    agent = auth("agent.caugiay")
    await client.post(
        f"/tickets/{ticket['id']}/resolve", json={"resolution": "Đã thu gom"}, headers=agent
    )
    assert (
        await client.post(f"/tickets/{ticket['id']}/caller-informed", headers=agent)
    ).status_code == 403
    r = await client.post(
        f"/tickets/{ticket['id']}/caller-informed", json={"note": "Đã báo bà An: đã thu gom"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "resolved"
    events = (await client.get(f"/tickets/{ticket['id']}/events")).json()["items"]
    informed = [e for e in events if e["kind"] == "caller_informed"]
    assert len(informed) == 1 and informed[0]["actor"] == "operator"
    assert informed[0]["details"]["note"] == "Đã báo bà An: đã thu gom"
    # The note lives on the event itself, not on a separate `note` event.
    assert not [e for e in events if e["kind"] == "note"]


async def test_the_wish_cannot_be_set_once_retention_has_anonymised_the_caller(client, app, auth):
    # A pseudonym is kept in the phone column (repeat callers stay countable), but it is not
    # a number anyone can call.
    ticket = await create_ticket(client)
    r = await client.post(
        f"/tickets/{ticket['id']}/resolve",
        json={"resolution": "Đã thu gom"},
        headers=auth("agent.caugiay"),
    )
    assert r.status_code == 200, r.text
    assert (await client.post(f"/tickets/{ticket['id']}/close")).status_code == 200
    done = await retention.run(
        app.state.runtime.session_factory,
        policy=RetentionPolicy(caller_days=30),
        keys=app.state.runtime.privacy_keys,
        now=datetime.now(UTC) + timedelta(days=40),
    )
    assert done == {"caller": 1}
    assert (await client.get(f"/tickets/{ticket['id']}")).json()["caller"]["phone"].startswith("~")
    r = await client.patch(f"/tickets/{ticket['id']}", json={"callback_requested": True})
    assert r.status_code == 422, r.text
    assert [e["loc"] for e in r.json()["errors"]] in (
        [["body", "callback_requested"]],
        [["callback_requested"]],
    )


async def test_the_read_says_no_call_is_owed_once_the_caller_is_erased(client, auth):
    """The wish stays on record, but with the caller's number and address gone no one can be
    called back: the API's read says false, as the callback queue leaves the ticket."""
    gone = await create_ticket(
        client, callback_requested=True, caller={"name": "Lê Văn Cường", "phone": "0987 111 222"}
    )
    kept = await create_ticket(client, callback_requested=True)
    r = await client.post(
        "/callers/erase",
        json={"phone": "0987111222", "ground": "Yêu cầu xoá của chủ thể", "request_ref": "YC-9"},
        headers=auth("admin"),
    )
    assert r.status_code == 200, r.text
    assert (await client.get(f"/tickets/{gone['id']}")).json()["callback_requested"] is False
    assert (await client.get(f"/tickets/{kept['id']}")).json()["callback_requested"] is True
