"""Callers are cached between requests (PostgreSQL), yet a change made by another process (the
CLI, another worker) reaches this one: a disabled user or a revoked key is refused promptly."""

import asyncio

from sqlalchemy import text

from app.db import make_engine, make_session_factory, transaction, utcnow
from app.users import service as users
from app.users.principal_cache import LISTENER_NAME


async def _until(predicate, seconds: float = 5.0) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.05)
    return await predicate()


async def _cache_on(app, is_postgres: bool) -> None:
    """PostgreSQL caches once its listener is up; SQLite never does."""

    async def on() -> bool:
        return app.state.runtime.principals.enabled

    assert await _until(on) if is_postgres else not await on()


async def _in_another_process(settings, work) -> None:
    """Run `work(session)` on an engine of its own, as `hotline users disable` would."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_session_factory(engine)) as session:
            await work(session)
    finally:
        await engine.dispose()


async def test_user_disabled_elsewhere_is_refused_promptly(
    client, app, auth, settings, is_postgres
):
    await _cache_on(app, is_postgres)
    made = await client.post(
        "/admin/users",
        json={"username": "far.op", "password": "password123", "role": "operator"},
        headers=auth("admin"),
    )
    assert made.status_code == 201
    tokens = await client.post(
        "/auth/token",
        data={"username": "far.op", "password": "password123"},
        headers={"Authorization": ""},
    )
    headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
    for _ in range(2):  # the second one is answered from the cache on PostgreSQL
        assert (await client.get("/tickets", headers=headers)).status_code == 200

    await _in_another_process(
        settings, lambda s: users.set_active(s, username="far.op", active=False)
    )

    async def refused() -> bool:
        return (await client.get("/tickets", headers=headers)).status_code == 401

    assert await _until(refused, seconds=2.0)


async def test_key_revoked_elsewhere_is_refused_promptly(client, app, auth, settings, is_postgres):
    await _cache_on(app, is_postgres)
    made = (
        await client.post(
            "/admin/api-keys", json={"name": "far-pbx", "role": "operator"}, headers=auth("admin")
        )
    ).json()
    headers = {"Authorization": "", "X-API-Key": made["key"]}
    for _ in range(2):
        assert (await client.get("/tickets", headers=headers)).status_code == 200

    await _in_another_process(
        settings, lambda s: users.revoke_api_key(s, key_id=made["id"], now=utcnow())
    )

    async def refused() -> bool:
        return (await client.get("/tickets", headers=headers)).status_code == 401

    assert await _until(refused, seconds=2.0)


async def test_losing_the_listener_turns_the_cache_off_until_it_is_back(app, is_postgres):
    cache = app.state.runtime.principals
    await _cache_on(app, is_postgres)
    if not is_postgres:
        cache.put(1, object(), cache.generation)  # type: ignore[arg-type]
        assert cache.get(1) is None  # nothing is ever kept without a change feed
        return
    async with app.state.runtime.engine.connect() as conn:
        killed = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": LISTENER_NAME},
        )
    assert killed == 1

    async def off() -> bool:
        return not cache.enabled

    async def on() -> bool:
        return cache.enabled

    assert await _until(off, seconds=2.0)
    assert await _until(on, seconds=10.0)
