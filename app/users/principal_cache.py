"""Callers remembered between requests, and forgotten the moment they change.

Every request needs its caller's role and units, and reading them costs a round trip on the
hot path. This cache keeps them, and drops an entry when its user is disabled or its API key
revoked: in the process that made the change at once, and in every other process through a
PostgreSQL NOTIFY that the change's transaction sends when it commits.

The cache only answers while its process is listening. A lost listener empties it and turns it
off until it is back, so a missed notification can never leave a revoked caller in. SQLite has
no such channel: there every request reads the database. Entries also expire after `ttl`
seconds, which bounds how stale an API key's `last_used_at` can get.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from app.users.principal import Principal

CHANNEL = "hotline_principals"
LISTENER_NAME = "hotline-principal-feed"  # its application_name in pg_stat_activity
log = logging.getLogger("hotline.principals")


class PrincipalCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, Principal]] = {}
        self._enabled = False
        # Bumped by every forget: a lookup that started before it must not store what it read.
        self.generation = 0

    @property
    def enabled(self) -> bool:
        return self._enabled

    def enable(self, on: bool) -> None:
        self._enabled = on and self.ttl > 0
        self.clear()

    def get(self, key: Hashable) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._entries[key]
            return None
        return entry[1]

    def put(self, key: Hashable, principal: Principal, generation: int) -> None:
        """Remember what a lookup that began at `generation` found, unless something changed since."""
        if self._enabled and generation == self.generation:
            self._entries[key] = (self._clock() + self.ttl, principal)

    def forget(self, *, user_id: int | None = None, api_key_id: int | None = None) -> None:
        self.generation += 1
        for key, (_, principal) in list(self._entries.items()):
            if (user_id is not None and principal.user_id == user_id) or (
                api_key_id is not None and principal.api_key_id == api_key_id
            ):
                del self._entries[key]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def on_notice(self, payload: str) -> None:
        """Apply a change notice: 'user:<id>' or 'apikey:<id>'; anything else empties it all."""
        kind, _, ident = payload.partition(":")
        if kind == "user" and ident.isdigit():
            self.forget(user_id=int(ident))
        elif kind == "apikey" and ident.isdigit():
            self.forget(api_key_id=int(ident))
        else:
            self.clear()


async def announce(
    session: AsyncSession, *, user_id: int | None = None, api_key_id: int | None = None
) -> None:
    """Tell every process that a caller changed; delivered when the session's transaction commits."""
    if session.bind.dialect.name != "postgresql":
        return
    payload = f"user:{user_id}" if user_id is not None else f"apikey:{api_key_id}"
    await session.execute(select(func.pg_notify(CHANNEL, payload)))


async def listen(database_url: str, cache: PrincipalCache, *, check_every: float = 10.0) -> None:
    """Keep the cache on while a LISTEN connection is up; runs until cancelled (PostgreSQL only)."""
    import asyncpg

    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    retry = 1.0
    while True:
        connection: Any = None
        try:
            connection = await asyncpg.connect(
                dsn, server_settings={"application_name": LISTENER_NAME}
            )
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _c, lost=lost: lost.set())
            await connection.add_listener(
                CHANNEL, lambda _c, _pid, _ch, payload: cache.on_notice(payload)
            )
            cache.enable(True)
            retry = 1.0
            while not lost.is_set():
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can lose a
                # cancellation (shutdown) that arrives as the awaited call ends.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(check_every):
                        await lost.wait()
                if not lost.is_set():
                    # A silently dead connection would miss notices: prove it alive.
                    async with asyncio.timeout(check_every):
                        await connection.fetchval("SELECT 1")
            log.warning("principal change feed closed by the server; reconnecting")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be restarting; retry, uncached meanwhile
            log.warning(
                "principal change feed down (%s); reading callers uncached, retrying in %.0f s",
                type(exc).__name__,
                retry,
            )
        finally:
            cache.enable(False)
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close(timeout=2)
        await asyncio.sleep(retry)
        retry = min(retry * 2, 30.0)
