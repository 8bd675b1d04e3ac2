"""Sign-in throttling per (username, client address) and per address, with no lockout a
stranger can cause; the client address believed from X-Forwarded-For only via trusted proxies."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from starlette.requests import Request

from app.api.client_address import client_address
from app.networks import parse_networks
from app.users import security

STRANGER, OWNER = "203.0.113.9", "198.51.100.7"


async def sign_in(client, username, password, address=None):
    headers = {"Authorization": ""}
    if address:
        headers["X-Forwarded-For"] = address
    return await client.post(
        "/auth/token", data={"username": username, "password": password}, headers=headers
    )


@pytest.fixture
def behind_proxy(settings, monkeypatch):
    """The test transport's peer (127.0.0.1) is a trusted proxy: X-Forwarded-For names clients."""
    monkeypatch.setattr(settings, "trusted_proxies", "127.0.0.1")


async def test_a_strangers_guesses_do_not_lock_the_owner_out(client, behind_proxy, clock):
    clock.now = datetime.now(UTC)
    for _ in range(5):
        assert (await sign_in(client, "supervisor", "guess", STRANGER)).status_code == 401
    refused = await sign_in(client, "supervisor", "supervisor1022", STRANGER)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "30"
    owner = await sign_in(client, "supervisor", "supervisor1022", OWNER)
    assert owner.status_code == 200


async def test_delays_grow_after_the_free_failures(client, behind_proxy, clock):
    start = datetime.now(UTC)
    clock.now = start
    for _ in range(5):
        await sign_in(client, "operator", "guess", STRANGER)
    waits = []
    for _ in range(3):
        refused = await sign_in(client, "operator", "guess", STRANGER)
        assert refused.status_code == 429
        wait = int(refused.headers["retry-after"])
        waits.append(wait)
        clock.now += timedelta(seconds=wait)
        assert (await sign_in(client, "operator", "guess", STRANGER)).status_code == 401
    assert waits == [30, 60, 120]
    # The right password after the wait works: nobody is locked out for good.
    clock.now += timedelta(seconds=240)
    assert (await sign_in(client, "operator", "operator1022", STRANGER)).status_code == 200


async def test_one_address_cannot_try_username_after_username(
    client, behind_proxy, settings, monkeypatch
):
    monkeypatch.setattr(settings, "login_address_limit", 3)
    for name in ("alice", "bob", "carol"):
        assert (await sign_in(client, name, "guess", STRANGER)).status_code == 401
    refused = await sign_in(client, "dave", "guess", STRANGER)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # Even a correct password from that address waits: the address is being abused.
    assert (await sign_in(client, "operator", "operator1022", STRANGER)).status_code == 429
    # Other addresses are not affected.
    assert (await sign_in(client, "operator", "operator1022", OWNER)).status_code == 200


async def test_trusted_networks_are_exempt_from_the_address_limit(
    client, behind_proxy, settings, monkeypatch
):
    monkeypatch.setattr(settings, "login_address_limit", 2)
    monkeypatch.setattr(settings, "login_exempt_networks", "203.0.113.0/24")
    for name in ("alice", "bob", "carol", "dave"):
        assert (await sign_in(client, name, "guess", STRANGER)).status_code == 401
    assert (await sign_in(client, "operator", "operator1022", STRANGER)).status_code == 200


async def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, clock):
    clock.now = datetime.now(UTC)
    # A client inventing a new address per attempt is still one client.
    for i in range(5):
        await sign_in(client, "operator", "guess", f"192.0.2.{i}")
    assert (await sign_in(client, "operator", "operator1022", "192.0.2.99")).status_code == 429


async def test_fifty_concurrent_wrong_sign_ins_check_at_most_five_passwords(client, monkeypatch):
    checks = 0
    verify = security.verify_password

    def counting(password_hash, password):
        nonlocal checks
        checks += 1
        return verify(password_hash, password)

    monkeypatch.setattr(security, "verify_password", counting)
    responses = await asyncio.gather(
        *(sign_in(client, "supervisor", f"guess-{i}") for i in range(50))
    )
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) == checks <= 5


async def test_token_responses_are_not_cached(client):
    response = await sign_in(client, "operator", "operator1022")
    assert response.headers["cache-control"] == "no-store"
    refreshed = await client.post(
        "/auth/refresh", json={"refresh_token": response.json()["refresh_token"]}
    )
    assert refreshed.status_code == 200 and refreshed.headers["cache-control"] == "no-store"


def _request(peer: str | None, forwarded: list[str]) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    scope = {"type": "http", "headers": headers, "client": (peer, 1234) if peer else None}
    return Request(scope)


@pytest.mark.parametrize(
    "peer, forwarded, trusted, expected",
    [
        ("198.51.100.7", [], "", "198.51.100.7"),
        ("198.51.100.7", ["203.0.113.9"], "", "198.51.100.7"),  # untrusted peer: ignored
        ("10.0.0.5", ["203.0.113.9"], "10.0.0.0/8", "203.0.113.9"),
        # The client wrote the left part; the proxy appended what it saw.
        ("10.0.0.5", ["1.2.3.4, 203.0.113.9"], "10.0.0.0/8", "203.0.113.9"),
        # Two proxies: the inner one's hop is skipped.
        ("10.0.0.5", ["203.0.113.9, 10.0.0.7"], "10.0.0.0/8", "203.0.113.9"),
        ("10.0.0.5", ["203.0.113.9", "10.0.0.7"], "10.0.0.0/8", "203.0.113.9"),
        ("10.0.0.5", ["not-an-ip, 10.0.0.7"], "10.0.0.0/8", "10.0.0.7"),
        ("10.0.0.5", [], "10.0.0.0/8", "10.0.0.5"),
        ("::1", ["2001:db8::1"], "::1", "2001:db8::1"),
        ("10.0.0.5", ["203.0.113.9:51234"], "10.0.0.0/8", "203.0.113.9"),
        (None, [], "", "unknown"),
    ],
)
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(_request(peer, forwarded), parse_networks(trusted)) == expected


def test_a_bad_trusted_proxy_setting_is_refused_at_start():
    from app.config import Settings

    with pytest.raises(ValueError, match="HOTLINE_TRUSTED_PROXIES: 'haproxy'"):
        Settings(trusted_proxies="10.0.0.0/8, haproxy")
