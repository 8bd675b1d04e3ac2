"""Service-level tests: the ticket services without HTTP, each test in one transaction that is
rolled back at its end (nothing is committed, so the tests need no cleanup)."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.routing.schema import Decision, Router
from app.tickets.service import TicketService
from app.users.principal import Principal

NOW = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # Tuesday 10:00 in Hà Nội, a working hour

OPERATOR = Principal(username="operator", role="operator")
SUPERVISOR = Principal(username="supervisor", role="supervisor")


CAU_GIAY = "ubnd-phuong-cau-giay"  # where the rules send ticket_data()'s rubbish
TRIAGE = "tong-dai-1022"


def to_unit(unit: str | None) -> Router:
    """A router that sends every ticket to `unit` (None: nobody), unless it is excluded."""

    def route(_facts: Any, excluded: frozenset[str]) -> Decision:
        return Decision(unit=None if unit in excluded else unit, rule_id=None, ruleset_version="t")

    return route


def agent(*units: str) -> Principal:
    """A unit agent of `units`."""
    return Principal(username="agent.test", role="unit_agent", units=frozenset(units))


@pytest.fixture
async def session(app: Any) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back when the test ends.

    The session joins the connection's transaction (its own commits become savepoints), and
    it begins at once: PostgreSQL intake then writes on this connection, not on its own.
    """
    async with app.state.runtime.engine.connect() as connection:
        outer = await connection.begin()
        session = app.state.runtime.session_factory(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        await session.connection()
        try:
            yield session
        finally:
            await session.close()
            await outer.rollback()


@pytest.fixture
def service(app: Any, session: AsyncSession) -> Callable[..., TicketService]:
    """service(principal=OPERATOR, now=NOW, router=None): the ticket service of one request,
    on `session`; routed by the running rules unless `router` is given."""

    def build(
        principal: Principal = OPERATOR, now: datetime = NOW, router: Router | None = None
    ) -> TicketService:
        state = app.state.runtime
        return TicketService(
            session=session,
            catalog=state.catalog,
            router=router or state.router,
            now=now,
            principal=principal,
            sla=state.sla_keeper,
            reference_prefix=state.settings.reference_prefix,
        )

    return build
