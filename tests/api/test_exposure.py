"""What the app shows beyond its data: security headers, docs without a CDN (and none in
production unless asked for), no server paths, no caller data in error logs."""

import logging

import httpx
import pytest

from app.config import Settings
from app.main import create_app
from tests.conftest import routing_by, ticket_body

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "frame-ancestors 'none'",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/tickets"), ("GET", "/nothing-here"), ("DELETE", "/tickets"), ("GET", "/auth/me")],
)
async def test_every_response_carries_the_security_headers(client, method, path):
    response = await client.request(method, path, headers={"Authorization": ""})
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert "strict-transport-security" not in response.headers


async def test_a_413_and_a_503_carry_them_too(client, app):
    big = await client.post("/tickets", json=ticket_body(description="x" * (1024 * 1024 + 1)))
    assert big.status_code == 413 and big.headers["x-frame-options"] == "DENY"

    def lost(_facts, _exclude):
        raise ConnectionRefusedError(111, "refused")

    with routing_by(app, lost):
        gone = await client.post("/tickets", json=ticket_body())
    assert gone.status_code == 503 and gone.headers["x-content-type-options"] == "nosniff"


async def _get(app, path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as c:
        return await c.get(path)


async def test_docs_are_served_from_the_app_not_a_cdn(app):
    for page in ("/docs", "/redoc"):
        html = (await _get(app, page)).text
        assert "/docs-assets/" in html and "cdn" not in html.lower(), page
        assert "fonts.googleapis" not in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = await _get(app, f"/docs-assets/{asset}")
        assert response.status_code == 200 and len(response.content) > 10_000, asset


async def test_production_serves_no_docs_unless_a_setting_says_so(settings):
    base = settings.model_dump()
    prod = {**base, "env": "production", "secret_key": "s" * 40}
    hidden = create_app(Settings(**{**prod, "database_url": "postgresql+asyncpg://h/db"}))
    for path in ("/docs", "/redoc", "/openapi.json", "/docs-assets/swagger-ui.css"):
        assert (await _get(hidden, path)).status_code == 404, path
    shown = create_app(
        Settings(**{**prod, "database_url": "postgresql+asyncpg://h/db", "api_docs": True})
    )
    assert (await _get(shown, "/openapi.json")).status_code == 200


async def test_hsts_only_when_a_setting_says_tls_terminates_in_front(settings):
    app = create_app(Settings(**{**settings.model_dump(), "hsts_seconds": 31536000}))
    response = await _get(app, "/healthz")
    assert response.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"


async def test_rules_show_paths_relative_to_the_rules_folder(client, settings):
    body = (await client.get("/routing/rules")).json()
    root = str(settings.rules_dir)
    assert root not in str(body)
    assert "rules.yaml" in body["files"] and body["rules"][0]["file"] == "rules.yaml"
    explained = await client.post("/routing/explain", json=ticket_body())
    assert explained.status_code == 200 and root not in explained.text


# What a constraint violation's message looks like: the row, caller and all.
FAILING_ROW = 'Failing row contains (7, phone, "Nguyễn Văn An", +84912345678)'


async def test_a_500_logs_no_caller_data_and_says_nothing_internal(client, app, caplog):
    def broken(_facts, _exclude):
        raise RuntimeError(FAILING_ROW)

    with caplog.at_level(logging.INFO), routing_by(app, broken):
        response = await client.post("/tickets", json=ticket_body())
    assert response.status_code == 500
    assert "+84912345678" not in caplog.text and "Nguyễn" not in caplog.text
    assert "Failing row" not in caplog.text and "Failing row" not in response.text
    assert "RuntimeError (message withheld)" in caplog.text


@pytest.mark.parametrize(
    "path, allowed",
    [("/tickets", "GET, POST"), ("/tickets/1", "GET, PATCH"), ("/auth/token", "POST")],
)
async def test_options_is_refused_with_every_allowed_method(client, path, allowed):
    response = await client.options(path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/problem+json"
