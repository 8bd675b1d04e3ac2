"""The relay of a running process, built from its runtime (catalog, SLA keeper, settings)."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from app import activity
from app.outbox.relay import Relay
from app.tickets.service import TicketService

if TYPE_CHECKING:
    from app.runtime import Runtime


def relay_of(runtime: "Runtime") -> Relay:
    """A Relay whose message bodies read tickets as the app's TicketService does."""

    def service_for(session: AsyncSession, principal: Any) -> TicketService:
        return TicketService(
            session=session,
            catalog=runtime.catalog,
            router=runtime.router,
            now=datetime.now(UTC),
            principal=principal,
            sla=runtime.sla_keeper,
            reference_prefix=runtime.settings.reference_prefix,
        )

    return Relay(
        runtime.session_factory,
        runtime.settings,
        service_for,
        catalog=runtime.catalog,
        busy=activity.busy,
    )
