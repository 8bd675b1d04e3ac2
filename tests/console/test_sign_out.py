"""Signing out revokes the console session on the server: a copy of the cookie taken before
is refused afterwards, by this instance and (through the principal cache's change feed on
PostgreSQL) by every other."""

import httpx
from sqlalchemy import select

from app.console.session import SESSION_COOKIE
from app.db import make_engine, make_session_factory, transaction
from app.users import service as users
from app.users.models import User
from tests.api.test_principal_changes import _cache_on, _until
from tests.console.conftest import csrf_of


async def _with_cookie(app, value: str) -> httpx.AsyncClient:
    """Another browser holding a copy of the session cookie."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://test",
        headers={"Cookie": f"{SESSION_COOKIE}={value}"},
    )


async def test_a_copied_cookie_is_refused_after_sign_out(app, browser):
    operator = await browser("operator")
    page = await operator.get("/console/intake")
    assert page.status_code == 200
    copied = operator.cookies.get(SESSION_COOKIE)
    async with await _with_cookie(app, copied) as thief:
        assert (await thief.get("/console/intake")).status_code == 200
        out = await operator.post("/console/logout", data={"csrf_token": csrf_of(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/console/login"
        refused = await thief.get("/console/intake")
        assert refused.status_code == 303
        assert refused.headers["location"].startswith("/console/login")
    # Signing in again opens a new session, which works.
    again = await browser("operator")
    assert (await again.get("/console/intake")).status_code == 200


async def test_a_sign_out_elsewhere_revokes_the_session_here(app, browser, settings, is_postgres):
    await _cache_on(app, is_postgres)
    agent = await browser("agent.caugiay")
    for _ in range(2):  # the second answer comes from the principal cache on PostgreSQL
        assert (await agent.get("/console/queue")).status_code == 200
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_session_factory(engine)) as session:
            user_id = await _user_id(session, "agent.caugiay")
            await users.end_console_sessions(session, user_id=user_id)
    finally:
        await engine.dispose()

    async def refused() -> bool:
        return (await agent.get("/console/queue")).status_code == 303

    assert await _until(refused, seconds=2.0)


async def _user_id(session, username: str) -> int:
    return (await session.scalars(select(User.id).where(User.username == username))).one()
