"""Sign-in, tokens, API keys, throttling, disabled users and confidential callers."""

from datetime import UTC, datetime, timedelta

import pytest

from app.config import Settings
from tests.conftest import create_ticket


async def sign_in(client, username, password):
    return await client.post(
        "/auth/token",
        data={"username": username, "password": password},
        headers={"Authorization": ""},
    )


async def test_password_flow_gives_a_bearer_token_that_works(client):
    response = await sign_in(client, "Agent.CauGiay", "agent1022")
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["expires_in"] == 15 * 60
    me = await client.get("/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json() == {
        "username": "agent.caugiay",
        "role": "unit_agent",
        "units": ["ubnd-phuong-cau-giay"],
    }


async def test_wrong_password_and_unknown_user_look_the_same(client):
    wrong = await sign_in(client, "operator", "nope-nope")
    unknown = await sign_in(client, "nobody-here", "nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("username", ["operator", "ghost-user"])
async def test_repeated_failures_are_throttled_with_retry_after(client, username):
    for _ in range(5):
        assert (await sign_in(client, username, "wrong-password")).status_code == 401
    blocked = await sign_in(client, username, "operator1022")
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["retry-after"]) <= 15 * 60
    # Another username is not affected.
    assert (await sign_in(client, "supervisor", "supervisor1022")).status_code == 200


async def test_throttle_window_expires(client, clock):
    start = datetime.now(UTC)
    clock.now = start
    for _ in range(5):
        await sign_in(client, "operator", "wrong-password")
    assert (await sign_in(client, "operator", "operator1022")).status_code == 429
    clock.now = start + timedelta(minutes=16)
    assert (await sign_in(client, "operator", "operator1022")).status_code == 200


async def test_expired_access_token_is_401(client, clock):
    tokens = (await sign_in(client, "operator", "operator1022")).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    clock.now = datetime.now(UTC) + timedelta(minutes=16)
    expired = await client.get("/auth/me", headers=headers)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]


async def test_refresh_gives_new_tokens_and_refuses_access_tokens(client, clock):
    tokens = (await sign_in(client, "operator", "operator1022")).json()
    clock.now = datetime.now(UTC) + timedelta(hours=1)
    fresh = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert fresh.status_code == 200
    headers = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert (await client.get("/auth/me", headers=headers)).status_code == 200
    wrong_kind = await client.post("/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert wrong_kind.status_code == 401


async def test_tampered_token_is_401(client):
    tokens = (await sign_in(client, "operator", "operator1022")).json()
    forged = tokens["access_token"][:-3] + (
        "aaa" if not tokens["access_token"].endswith("aaa") else "bbb"
    )
    response = await client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_disabled_user_loses_access_at_once(client, auth):
    created = await client.post(
        "/admin/users",
        json={"username": "temp.op", "password": "password123", "role": "operator"},
        headers=auth("admin"),
    )
    assert created.status_code == 201
    tokens = (await sign_in(client, "temp.op", "password123")).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/tickets", headers=headers)).status_code == 200
    await client.post("/admin/users/temp.op/disable", headers=auth("admin"))
    assert (await client.get("/tickets", headers=headers)).status_code == 401
    refused = await client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refused.status_code == 401
    assert (await sign_in(client, "temp.op", "password123")).status_code == 401


async def test_api_key_shown_once_works_records_use_and_can_be_revoked(client, auth):
    made = (
        await client.post(
            "/admin/api-keys",
            json={"name": "tong-dai-pbx", "role": "operator"},
            headers=auth("admin"),
        )
    ).json()
    listed = (await client.get("/admin/api-keys", headers=auth("admin"))).json()
    assert "key" not in listed[0] and listed[0]["last_used_at"] is None
    key_headers = {"Authorization": "", "X-API-Key": made["key"]}
    created = await client.post(
        "/tickets", json={"channel": "phone", "description": "Gọi từ tổng đài"}, headers=key_headers
    )
    assert created.status_code == 201
    events = (await client.get(f"/tickets/{created.json()['id']}/events")).json()["items"]
    assert events[0]["actor"] == "apikey:tong-dai-pbx"
    listed = (await client.get("/admin/api-keys", headers=auth("admin"))).json()
    assert listed[0]["last_used_at"] is not None
    await client.post(f"/admin/api-keys/{made['id']}/revoke", headers=auth("admin"))
    assert (await client.get("/tickets", headers=key_headers)).status_code == 401
    wrong = {"Authorization": "", "X-API-Key": made["key"][:-2] + "xx"}
    assert (await client.get("/tickets", headers=wrong)).status_code == 401


async def test_admin_input_is_validated(client, auth):
    admin = auth("admin")
    bad_role = await client.post(
        "/admin/users",
        json={"username": "x1", "password": "password123", "role": "boss"},
        headers=admin,
    )
    assert bad_role.status_code == 422
    agent_without_unit = await client.post(
        "/admin/users",
        json={"username": "x2", "password": "password123", "role": "unit_agent"},
        headers=admin,
    )
    assert agent_without_unit.status_code == 422
    duplicate = await client.post(
        "/admin/users",
        json={"username": "operator", "password": "password123", "role": "operator"},
        headers=admin,
    )
    assert duplicate.status_code == 409
    admin_key = await client.post(
        "/admin/api-keys", json={"name": "x", "role": "admin"}, headers=admin
    )
    assert admin_key.status_code == 422


async def test_agents_see_only_their_units_tickets(client, auth):
    caugiay_ticket = await create_ticket(client)  # routed to Cầu Giấy's committee
    badinh_ticket = await create_ticket(client, area="phuong-ba-dinh")
    caugiay, badinh = auth("agent.caugiay"), auth("agent.badinh")
    listed = [t["id"] for t in (await client.get("/tickets", headers=caugiay)).json()["items"]]
    assert listed == [caugiay_ticket["id"]]
    assert (await client.get(f"/tickets/{badinh_ticket['id']}", headers=caugiay)).status_code == 404
    # Handed on to Ba Đình, the ticket stays visible to Cầu Giấy (a past assignment), who can
    # no longer work it; Ba Đình now can.
    await client.post(
        f"/tickets/{caugiay_ticket['id']}/transfer", json={"unit": "ubnd-phuong-ba-dinh"}
    )
    listed = {t["id"] for t in (await client.get("/tickets", headers=caugiay)).json()["items"]}
    assert listed == {caugiay_ticket["id"]}
    refused = await client.post(f"/tickets/{caugiay_ticket['id']}/acknowledge", headers=caugiay)
    assert refused.status_code == 403 and "ubnd-phuong-ba-dinh" in refused.json()["detail"]
    ok = await client.post(f"/tickets/{caugiay_ticket['id']}/acknowledge", headers=badinh)
    assert ok.status_code == 200


async def test_co_handling_units_can_read_and_comment_but_not_work(client, auth):
    # Waste in Ba Đình: the ward committee owns it, URENCO is informed (co-handler).
    ticket = await create_ticket(client, area="phuong-ba-dinh")
    assert ticket["current_assignment"]["unit"]["code"] == "ubnd-phuong-ba-dinh"
    made = await client.post(
        "/admin/users",
        json={
            "username": "agent.urenco",
            "password": "password123",
            "role": "unit_agent",
            "units": ["urenco"],
        },
        headers=auth("admin"),
    )
    assert made.status_code == 201
    tokens = (
        await client.post(
            "/auth/token",
            data={"username": "agent.urenco", "password": "password123"},
            headers={"Authorization": ""},
        )
    ).json()
    urenco = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get(f"/tickets/{ticket['id']}", headers=urenco)).status_code == 200
    assert [t["id"] for t in (await client.get("/tickets", headers=urenco)).json()["items"]] == [
        ticket["id"]
    ]
    note = await client.post(
        f"/tickets/{ticket['id']}/notes", json={"text": "Đã cử xe"}, headers=urenco
    )
    assert note.status_code == 200
    assert (
        await client.post(f"/tickets/{ticket['id']}/acknowledge", headers=urenco)
    ).status_code == 403


async def test_agents_cannot_transfer_but_can_reject(client, auth):
    ticket = await create_ticket(client)
    agent = auth("agent.caugiay")
    transfer = await client.post(
        f"/tickets/{ticket['id']}/transfer", json={"unit": "urenco"}, headers=agent
    )
    assert transfer.status_code == 403
    reject = await client.post(
        f"/tickets/{ticket['id']}/reject", json={"reason": "Sai địa bàn"}, headers=agent
    )
    assert reject.status_code == 200
    assert reject.json()["current_assignment"]["unit"]["code"] == "tong-dai-1022"


async def test_confidential_caller_is_masked_for_every_role_until_a_reasoned_reveal(client, auth):
    """Issue #19 changed this: operators and supervisors no longer see a confidential caller
    on every read; they reveal it with a reason (written to the access log)."""
    created = await create_ticket(
        client, caller={"name": "Người tố cáo", "phone": "0912 000 111", "confidential": True}
    )
    # The operator who filed it sees what they typed, in that answer only.
    assert created["caller"]["phone"] == "+84912000111" and created["caller"]["masked"] is False
    masked = {
        "name": None,
        "phone": None,
        "email": None,
        "anonymous": False,
        "confidential": True,
        "masked": True,
    }
    for role in ("agent.caugiay", "operator", "supervisor", "admin"):
        view = (await client.get(f"/tickets/{created['id']}", headers=auth(role))).json()
        assert view["caller"] == masked, role
        listed = (await client.get("/tickets", headers=auth(role))).json()["items"]
        assert listed[0]["caller"] == masked, role
    # Nobody finds a confidential caller by phone (that would link the number to the ticket).
    by_phone = {"caller_phone": "0912000111"}
    for role in ("agent.caugiay", "operator", "supervisor"):
        found = await client.get("/tickets", params=by_phone, headers=auth(role))
        assert found.json()["items"] == [], role
    # Operators and supervisors reveal it with a reason; agents and admins may not.
    reason = {"reason": "Gọi lại theo đề nghị của UBND phường"}
    for role in ("operator", "supervisor"):
        revealed = await client.post(
            f"/tickets/{created['id']}/caller/reveal", json=reason, headers=auth(role)
        )
        assert revealed.status_code == 200, revealed.text
        caller = revealed.json()["caller"]
        assert caller["phone"] == "+84912000111" and caller["masked"] is False
    for role in ("agent.caugiay", "admin"):
        refused = await client.post(
            f"/tickets/{created['id']}/caller/reveal", json=reason, headers=auth(role)
        )
        assert refused.status_code == 403, role


def test_production_refuses_default_or_short_secret():
    with pytest.raises(ValueError, match="HOTLINE_SECRET_KEY"):
        Settings(env="production", database_url="postgresql+asyncpg://x/y")
    with pytest.raises(ValueError, match="HOTLINE_SECRET_KEY"):
        Settings(env="production", database_url="postgresql+asyncpg://x/y", secret_key="short")
    ok = Settings(env="production", database_url="postgresql+asyncpg://x/y", secret_key="k" * 40)
    assert ok.create_demo_users is False
