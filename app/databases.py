"""The three database URLs of one process, decided once (docs/operations.md, "Databases").

- primary (HOTLINE_DATABASE_URL): every request's reads and writes; in production through
  PgBouncer in transaction mode.
- read (HOTLINE_READ_DATABASE_URL): reports and ticket search, which write nothing; a replica
  may serve them. Unset: the primary engine itself, no second pool.
- direct (HOTLINE_DIRECT_DATABASE_URL): connections that keep session state (LISTEN, session
  advisory locks) and migrations; opened where needed (app.leader, app.users.principal_cache,
  app.migrate), not pooled here.
"""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.config import Settings
from app.db import make_engine, make_session_factory


@dataclass(frozen=True)
class Databases:
    primary: AsyncEngine
    read: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    read_sessions: async_sessionmaker[AsyncSession]

    async def dispose(self) -> None:
        await self.primary.dispose()
        if self.read is not self.primary:
            await self.read.dispose()


def open_databases(settings: Settings) -> Databases:
    """Engines and session factories for the primary and read URLs (no connection opened yet)."""
    primary = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        echo=settings.db_echo,
        transaction_pooler=settings.db_transaction_pooler,
    )
    sessions = make_session_factory(primary)
    if not settings.read_database_url:
        return Databases(primary, primary, sessions, sessions)
    read = make_engine(
        settings.read_database_url,
        pool_size=settings.db_read_pool_size,
        echo=settings.db_echo,
        read_only=True,
    )
    return Databases(primary, read, sessions, make_session_factory(read))
