"""Every error is application/problem+json, with nothing internal leaking."""

import asyncpg
import pytest

from tests.conftest import routing_by, ticket_body


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


async def test_unknown_route_is_404(client):
    assert_problem(await client.get("/nothing-here"), 404)


async def test_wrong_method_is_405(client):
    body = assert_problem(await client.delete("/tickets"), 405)
    assert "DELETE" in body["detail"]


async def test_body_over_one_mebibyte_is_413(client):
    big = ticket_body(description="x" * (1024 * 1024 + 10))
    assert_problem(await client.post("/tickets", json=big), 413)


async def test_streamed_body_over_the_limit_is_413(client):
    async def chunks():
        for _ in range(17):
            yield b"x" * 65536

    response = await client.post(
        "/tickets", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


async def test_non_json_body_is_415(client):
    response = await client.post(
        "/tickets", content="channel=phone", headers={"content-type": "text/plain"}
    )
    assert_problem(response, 415)


async def test_malformed_json_is_422_with_location(client):
    response = await client.post(
        "/tickets", content=b'{"channel": ', headers={"content-type": "application/json"}
    )
    body = assert_problem(response, 422)
    assert body["errors"]


async def test_validation_problem_lists_field_paths(client):
    response = await client.post("/tickets", json={"caller": {"phone": "abc"}})
    body = assert_problem(response, 422)
    locs = {tuple(e["loc"]) for e in body["errors"]}
    assert {("channel",), ("description",), ("caller", "phone")} <= locs


async def test_unexpected_error_is_500_without_internals_and_writes_nothing(client, app):
    def broken(_ticket, _exclude):
        raise RuntimeError("secret internals: password=hunter2")

    with routing_by(app, broken):
        response = await client.post("/tickets", json=ticket_body())
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text and "RuntimeError" not in response.text
    assert "nothing was saved" in body["detail"]
    # The ticket row was flushed before routing failed: the transaction must have rolled back.
    assert (await client.get("/tickets")).json()["items"] == []


@pytest.mark.parametrize(
    "lost",
    [
        asyncpg.exceptions.AdminShutdownError(
            "terminating connection due to administrator command"
        ),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
async def test_a_lost_database_is_503_with_retry_after(client, app, lost):
    def unreachable(_facts, _exclude):
        raise lost

    with routing_by(app, unreachable):
        response = await client.post("/tickets", json=ticket_body())
    body = assert_problem(response, 503)
    assert response.headers["retry-after"] == "2"
    assert "Idempotency-Key" in body["detail"] and "terminating" not in response.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
async def test_health_endpoints(app, path):
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        response = await c.get(path)
    assert response.status_code == 200 and response.json()["status"] == "ok"
