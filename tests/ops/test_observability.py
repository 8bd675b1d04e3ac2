"""Request ids, the access log line, /metrics and /readyz."""

import logging
import re

import pytest
from starlette.requests import Request

from app.api.metrics import _admitted
from app.config import Settings
from app.errors import Forbidden, Unauthorized
from tests.conftest import create_ticket, ticket_body


async def test_a_request_id_is_kept_when_given_and_made_when_not(client):
    given = await client.get("/reference/topics", headers={"X-Request-ID": "lb-7f3a.42"})
    assert given.headers["x-request-id"] == "lb-7f3a.42"
    made = await client.get("/reference/topics")
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    # A header that is not a plain token (spaces, control characters, too long) is replaced.
    odd = await client.get("/reference/topics", headers={"X-Request-ID": "a b" + "x" * 200})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["x-request-id"])
    assert made.headers["x-request-id"] != odd.headers["x-request-id"]


async def test_one_access_line_per_request_with_route_user_and_no_caller_data(
    client, caplog, user_ids
):
    ticket = await create_ticket(client)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hotline.access"):
        found = await client.get(
            "/tickets",
            params={"caller_phone": "0912 345 678", "q": "Nguyễn rác", "status": "assigned"},
            headers={"X-Request-ID": "req-1"},
        )
        await client.get(f"/tickets/{ticket['reference']}")
    assert found.status_code == 200
    lines = [r for r in caplog.records if r.name == "hotline.access"]
    assert len(lines) == 2
    search, read = lines
    assert search.request_id == "req-1"
    assert search.route == "/api/v1/tickets"
    assert search.method == "GET" and search.status == 200
    assert search.user_id == user_ids["operator"]
    assert search.duration_ms >= 0
    assert search.query == "caller_phone=[redacted]&q=[redacted]&status=assigned"
    # The path's reference is not logged, only the route template.
    assert read.route == "/api/v1/tickets/{ticket_id}"
    text = " ".join(r.getMessage() + str(r.__dict__) for r in lines)
    for caller_data in ("912345678", "912 345 678", "Nguyễn", ticket["reference"]):
        assert caller_data not in text


async def test_log_lines_written_during_a_request_carry_its_id(client, caplog):
    with caplog.at_level(logging.INFO):
        await client.post(
            "/tickets", json=ticket_body(channel="fax"), headers={"X-Request-ID": "req-422"}
        )
    access = [r for r in caplog.records if r.name == "hotline.access"]
    assert access[-1].request_id == "req-422" and access[-1].status == 422


def _metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_metrics_count_requests_by_route_template_and_tickets_by_channel(client):
    before = (await client.get("http://test/metrics")).text
    first = await create_ticket(client, channel="zalo")
    await create_ticket(client, channel="zalo")
    replay_key = {"Idempotency-Key": "k-metrics"}
    for _ in range(2):  # a replay is not a new ticket
        r = await client.post("/tickets", json=ticket_body(channel="sms"), headers=replay_key)
        assert r.status_code == 201
    await client.get(f"/tickets/{first['id']}")
    await client.get("/tickets/999999")
    after = (await client.get("http://test/metrics")).text

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("hotline_tickets_created_total", channel="zalo") == 2
    assert grew("hotline_tickets_created_total", channel="sms") == 1
    route = "/api/v1/tickets"
    assert grew("hotline_http_requests_total", route=route, method="POST", status="2xx") == 4
    one = "/api/v1/tickets/{ticket_id}"
    assert grew("hotline_http_requests_total", route=one, method="GET", status="2xx") == 1
    assert grew("hotline_http_requests_total", route=one, method="GET", status="4xx") == 1
    assert grew("hotline_http_request_duration_seconds_count", route=route, method="POST") == 4
    assert "hotline_db_pool_connections_in_use" in after
    # No ids or references in any label.
    labels = " ".join(line.split("}")[0] for line in after.splitlines() if "{" in line)
    assert first["reference"] not in labels and "999999" not in labels


async def test_readyz_names_the_ruleset(client):
    r = await client.get("http://test/readyz")
    assert r.status_code == 200
    assert r.json()["ruleset"] and r.json()["status"] == "ok"


def _scrape(authorization: str | None = None, peer: str = "10.1.2.3") -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request({"type": "http", "headers": headers, "client": (peer, 40000)})


PROD = {"env": "production", "secret_key": "s" * 40, "database_url": "postgresql+asyncpg://x/y"}


def test_metrics_are_closed_in_production_until_a_token_or_network_is_set():
    with pytest.raises(Forbidden, match="HOTLINE_METRICS_TOKEN"):
        _admitted(_scrape(), Settings(**PROD))
    _admitted(_scrape(), Settings(env="development"))  # open outside production


def test_metrics_token():
    settings = Settings(**PROD, metrics_token="t0k3n")
    _admitted(_scrape("Bearer t0k3n"), settings)
    with pytest.raises(Unauthorized):
        _admitted(_scrape("Bearer wrong"), settings)
    with pytest.raises(Unauthorized):
        _admitted(_scrape(), settings)


def test_metrics_networks():
    settings = Settings(**PROD, metrics_networks="10.0.0.0/8, 192.168.5.0/24")
    _admitted(_scrape(peer="10.1.2.3"), settings)
    _admitted(_scrape(peer="192.168.5.9"), settings)
    with pytest.raises(Forbidden):
        _admitted(_scrape(peer="172.16.0.1"), settings)
    both = Settings(**PROD, metrics_networks="10.0.0.0/8", metrics_token="t0k3n")
    _admitted(_scrape("Bearer t0k3n", peer="172.16.0.1"), both)
    with pytest.raises(Forbidden):
        _admitted(_scrape(peer="172.16.0.1"), both)
