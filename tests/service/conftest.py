"""Service-level tests: the services called directly, without HTTP, on the test database.

Each test runs in one transaction that is rolled back at its end, so nothing it writes
outlives it and the tests need no cleanup. Rows are made by the small factories below (only
the columns a test cares about; the rest have plausible defaults).
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.runtime import Runtime
from app.tickets.models import Assignment, Ticket, TicketEvent
from app.users.principal import Principal

SUPERVISOR = Principal(username="supervisor.test", role="supervisor")


@pytest.fixture
def runtime(app: Any) -> Runtime:
    """The runtime the test app started with (catalog, sla.yaml, engines)."""
    return app.state.runtime


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back when the test ends, whatever the
    code under test flushes (services never commit: the request or command owns that)."""
    async with runtime.engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def make_ticket(session: AsyncSession, **columns: Any) -> Ticket:
    """A ticket row; received at `received_at` (default 2 Mar 2026 02:00 UTC), phone channel,
    topic moi-truong.rac-thai in phuong-cau-giay unless told otherwise."""
    received = columns.pop("received_at", utc(2026, 3, 2, 2))
    values: dict[str, Any] = {
        "channel": "phone",
        "status": "assigned",
        "priority": "normal",
        "description": "Rác thải ùn ứ",
        "search_text": "rac thai un u",
        "topic_code": "moi-truong.rac-thai",
        "area_code": "phuong-cau-giay",
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "last_event_at": received,
        "created_by": "operator.test",
    }
    values.update(columns)
    ticket = Ticket(**values)
    session.add(ticket)
    await session.flush()
    return ticket


async def make_assignment(
    session: AsyncSession,
    ticket: Ticket,
    *,
    unit: str = "ubnd-phuong-cau-giay",
    assigned_at: datetime | None = None,
    acknowledge_within: timedelta = timedelta(hours=8),
    resolve_within: timedelta = timedelta(days=5),
    **columns: Any,
) -> Assignment:
    """One unit's assignment of `ticket`, assigned at the ticket's receipt unless told; its
    due instants `acknowledge_within` and `resolve_within` after (wall-clock: the report reads
    the stamped instants, it does not compute them)."""
    at = assigned_at or ticket.received_at
    assignment = Assignment(
        ticket_id=ticket.id,
        unit_code=unit,
        assigned_at=at,
        sla_policy="ubnd",
        acknowledge_due_at=at + acknowledge_within,
        resolve_due_at=at + resolve_within,
        **columns,
    )
    session.add(assignment)
    await session.flush()
    return assignment


async def make_event(
    session: AsyncSession, ticket: Ticket, kind: str, at: datetime, **columns: Any
) -> TicketEvent:
    event = TicketEvent(
        ticket_id=ticket.id, kind=kind, occurred_at=at, recorded_at=at, actor="test", **columns
    )
    session.add(event)
    await session.flush()
    return event
