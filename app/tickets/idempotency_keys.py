"""Idempotency keys: claiming one for a request, reading it back for a replay, forgetting old
ones. A key binds (actor, key) to the request's hash and, once written, to its ticket, so a
client's retry answers with the same ticket instead of filing a second."""

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app.tickets.models import IdempotencyKey


async def execute_without_orm(session: AsyncSession, statement: Any, params: Any) -> Any:
    """Run a Core statement on the session's connection (and transaction), skipping the ORM's
    execution layer: no identity map, no autoflush, less work per call."""
    connection = await session.connection()
    return await connection.execute(statement, params)


@lru_cache
def _claim_statement(dialect: str) -> Any:
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return upsert(IdempotencyKey).on_conflict_do_nothing(index_elements=["actor", "key"])


async def claim_idempotency_key(
    session: AsyncSession, *, actor: str, key: str, request_hash: str, created_at: datetime
) -> bool:
    """Insert the key unless it exists; False when another request holds it already.

    ON CONFLICT DO NOTHING waits for a concurrent holder to commit or roll back, so exactly one
    of many simultaneous requests wins.
    """
    connection = await session.connection()
    statement = _claim_statement(connection.dialect.name)
    row = {"actor": actor, "key": key, "request_hash": request_hash, "created_at": created_at}
    return (await connection.execute(statement, row)).rowcount == 1


async def get_idempotency_key(
    session: AsyncSession, *, actor: str, key: str
) -> IdempotencyKey | None:
    """A stored idempotency key."""
    return await session.get(IdempotencyKey, (actor, key), populate_existing=True)


async def purge_idempotency_keys(session: AsyncSession, *, before: datetime) -> int:
    """Forget keys older than `before`: a retry after that creates a new ticket."""
    result = await execute_without_orm(
        session, delete(IdempotencyKey).where(IdempotencyKey.created_at < before), {}
    )
    return result.rowcount
