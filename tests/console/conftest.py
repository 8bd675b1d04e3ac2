"""A browser-like client for the console: cookies kept, CSRF tokens read from the forms."""

import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

PASSWORDS = {
    "operator": "operator1022",
    "supervisor": "supervisor1022",
    "admin": "admin1022",
    "agent.tongdai": "agent1022",
    "agent.caugiay": "agent1022",
    "agent.badinh": "agent1022",
}
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
async def browser(
    app: Any, client: httpx.AsyncClient
) -> AsyncIterator[Callable[[str], Awaitable[httpx.AsyncClient]]]:
    """browser("agent.caugiay") -> a client signed in to the console as that demo user.
    Depends on `client` so the ticket tables are emptied after the test."""
    opened: list[httpx.AsyncClient] = []

    async def sign_in(username: str) -> httpx.AsyncClient:
        c = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url="http://test",
        )
        opened.append(c)
        form = await c.get("/console/login")
        r = await c.post(
            "/console/login",
            data={
                "username": username,
                "password": PASSWORDS[username],
                "csrf_token": csrf_of(form.text),
            },
        )
        assert r.status_code == 303, r.text
        return c

    yield sign_in
    for c in opened:
        await c.aclose()
