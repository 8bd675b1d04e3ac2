"""The relay of a running app, built from its state (catalog, SLA keeper, settings)."""

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.relay import Relay
from app.tickets.service import TicketService


def relay_of(app: FastAPI) -> Relay:
    """A Relay whose message bodies read tickets as the app's TicketService does."""
    state = app.state

    def service_for(session: AsyncSession, principal: Any) -> TicketService:
        return TicketService(
            session=session,
            catalog=state.catalog,
            router=state.router,
            now=datetime.now(UTC),
            principal=principal,
            sla=state.sla_keeper,
            reference_prefix=state.settings.reference_prefix,
        )

    return Relay(state.session_factory, state.settings, service_for, catalog=state.catalog)
