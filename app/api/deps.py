"""Request-scoped dependencies: the session (one transaction per request), clock, caller, services."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.db import transaction, utcnow
from app.errors import AppError
from app.reference.catalog import Catalog
from app.tickets.service import TicketService


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_catalog(request: Request) -> Catalog:
    return request.app.state.catalog


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit after the handler, before the response is sent."""
    async with transaction(request.app.state.session_factory) as session:
        yield session


async def get_now() -> datetime:
    """The clock, as a dependency so tests can pin it. Async: sync dependencies cost a thread hop."""
    return utcnow()


@dataclass(frozen=True)
class Principal:
    """Who is calling. The seam for authentication: every event stores `username` as its actor."""

    username: str
    role: str
    units: tuple[str, ...] = field(default=())


async def current_user() -> Principal:
    # Until sign-in exists every caller acts as the switchboard operator.
    return Principal(username="operator", role="operator")


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
NowDep = Annotated[datetime, Depends(get_now)]
UserDep = Annotated[Principal, Depends(current_user)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def ticket_service(
    request: Request, session: SessionDep, now: NowDep, user: UserDep, settings: SettingsDep
) -> TicketService:
    return TicketService(
        session=session,
        catalog=request.app.state.catalog,
        router=request.app.state.router,
        now=now,
        actor=user.username,
        reference_prefix=settings.reference_prefix,
        clock_skew=timedelta(seconds=settings.clock_skew_seconds),
    )


TicketServiceDep = Annotated[TicketService, Depends(ticket_service)]


class UnsupportedMediaType(AppError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


async def require_json(request: Request) -> None:
    """Bodies must be JSON; an empty body is fine for actions that need none."""
    has_body = (
        request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    )
    if not has_body:
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise UnsupportedMediaType(
            f"Send the body as JSON with 'Content-Type: application/json' (got '{ctype or 'none'}')."
        )
