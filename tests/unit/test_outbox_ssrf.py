"""The relay's remembered SSRF verdicts (app.outbox.ssrf.CheckedUrls): a literal address's for
good, a host name's for NAME_TTL seconds, a failed resolution never."""

import asyncio
import socket

import pytest

from app.outbox.ssrf import NAME_TTL, CheckedUrls, RefusedAddress, Unresolved, parse_networks


class Resolver:
    """getaddrinfo as told: host -> address, or OSError; counts the calls."""

    def __init__(self) -> None:
        self.answers: dict[str, str | None] = {}
        self.calls = 0

    async def getaddrinfo(self, host, port, **_kw):
        self.calls += 1
        address = self.answers.get(host)
        if address is None:
            raise OSError("no such host")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]


@pytest.fixture
async def resolver(monkeypatch):
    r = Resolver()
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", r.getaddrinfo)
    return r


async def test_a_host_names_verdict_is_trusted_for_its_ttl_only(resolver):
    now = [1000.0]
    checked = CheckedUrls(clock=lambda: now[0])
    resolver.answers["hook.example.vn"] = "93.184.216.34"
    url = "https://hook.example.vn/1022"
    await checked.check(url, ())
    await checked.check(url, ())
    assert resolver.calls == 1
    # The name now points inside: refused once the remembered verdict has expired.
    resolver.answers["hook.example.vn"] = "10.0.0.5"
    now[0] += NAME_TTL - 1
    await checked.check(url, ())
    now[0] += 2
    with pytest.raises(RefusedAddress, match=r"10\.0\.0\.5"):
        await checked.check(url, ())
    with pytest.raises(RefusedAddress, match=r"10\.0\.0\.5"):
        await checked.check(url, ())
    assert resolver.calls == 2
    # Allowing the network is a new question, answered afresh.
    await checked.check(url, parse_networks("10.0.0.0/8"))
    assert resolver.calls == 3


async def test_a_failed_resolution_is_asked_again(resolver):
    checked = CheckedUrls(clock=lambda: 0.0)
    url = "https://flaky.example.vn/1022"
    with pytest.raises(Unresolved):
        await checked.check(url, ())
    resolver.answers["flaky.example.vn"] = "93.184.216.35"
    await checked.check(url, ())
    assert resolver.calls == 2


async def test_a_literal_addresss_verdict_stands(resolver):
    now = [0.0]
    checked = CheckedUrls(clock=lambda: now[0])
    for _ in range(2):
        with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1"):
            await checked.check("http://127.0.0.1:9/hook", ())
        now[0] += 10 * NAME_TTL
    await checked.check("http://127.0.0.1:9/hook", parse_networks("127.0.0.0/8"))
    assert resolver.calls == 0
