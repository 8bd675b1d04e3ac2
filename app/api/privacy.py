"""Personal data over HTTP: reveal a confidential caller, legal hold, the access log, and a
citizen's requests (export, erasure). Phone numbers travel in bodies, never in URLs."""

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.checked_route import CheckedRoute
from app.api.deps import NowDep, SessionDep, require, require_json, runtime_of, ticket_service
from app.privacy import access_log
from app.privacy.access_log import AccessLog
from app.privacy.legal_hold import lift_hold, set_hold
from app.privacy.masking import caller_view, free_text_view
from app.privacy.repository import list_requests
from app.privacy.rights import Rights, request_out
from app.tickets.schemas import CallerOut, Email, Phone, Text
from app.tickets.service import TicketService
from app.timefmt import InstantIn, InstantOut, assume_local
from app.users.principal import Principal

router = APIRouter(route_class=CheckedRoute, tags=["privacy"], dependencies=[Depends(require_json)])
Auditor = Annotated[Principal, require("audit:read", "read the access log")]
RightsAdmin = Annotated[Principal, require("callers:rights", "serve data-subject requests")]


def route_of(request: Request) -> str:
    """'POST /api/v1/tickets/{ticket_id}/caller/reveal': the route, not the URL (no ids)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None)
    # Routers are mounted under /api/v1 (app.main); the matched route's path omits it.
    full = f"/api/v1{path}" if path and not path.startswith("/api/") else request.url.path
    return f"{request.method} {full}"


def log_for(
    request: Request, service: TicketService, *, session: AsyncSession | None = None
) -> AccessLog:
    """The access log for the ticket service's caller, in the request's transaction; or in
    `session` (a primary one) when the service reads the read URL, which takes no writes."""
    return AccessLog(
        session=session or service.session,
        keys=runtime_of(request).privacy_keys,
        actor=service.principal.username,
        role=service.principal.role,
        now=service.now,
    )


class ReasonBody(BaseModel):
    reason: Annotated[Text, Field(min_length=3, max_length=2000)] = Field(
        description="Why (e.g. 'gọi lại cho người dân theo đề nghị của đơn vị'); kept in the log"
    )


class Revealed(BaseModel):
    ticket_id: int
    reference: str
    caller: CallerOut
    description: str = Field(description="With the caller's own name and number left in")
    address: str | None


class LegalHoldOut(BaseModel):
    ticket_id: int
    reference: str
    on_hold: bool
    reason: str | None
    by: str | None
    at: InstantOut | None


class AccessOut(BaseModel):
    id: int
    at: InstantOut
    actor: str
    role: str
    action: str
    route: str
    ticket_id: int | None
    reason: str | None
    phone_hash: str | None = Field(description="Keyed hash of the phone, never the number")
    details: dict[str, Any]


class AccessPage(BaseModel):
    items: list[AccessOut]
    next_before: int | None = Field(description="Pass as `before` for older records")


def _page(rows: list[Any], limit: int) -> AccessPage:
    items = [AccessOut.model_validate(r, from_attributes=True) for r in rows[:limit]]
    return AccessPage(items=items, next_before=items[-1].id if len(rows) > limit else None)


@router.post("/tickets/{ticket_id}/caller/reveal", response_model=Revealed)
async def reveal_caller(
    ticket_id: str,
    body: ReasonBody,
    request: Request,
    service: Annotated[TicketService, ticket_service("callers:reveal", "reveal callers")],
) -> Revealed:
    """Show a (confidential) caller's name, phone and e-mail, for a stated reason; the reveal
    is written to the access log. Operators and supervisors only."""
    ticket = await service.load(ticket_id)
    await log_for(request, service).record(
        "reveal",
        route_of(request),
        ticket_id=ticket.id,
        reason=body.reason,
        phone=ticket.caller_phone,
    )
    return Revealed(
        ticket_id=ticket.id,
        reference=service.reference(ticket),
        caller=caller_view(ticket, service.principal, revealed=True),
        description=free_text_view(ticket, service.principal, ticket.description, revealed=True),
        address=free_text_view(ticket, service.principal, ticket.address, revealed=True),
    )


def _hold_out(service: TicketService, ticket: Any) -> LegalHoldOut:
    return LegalHoldOut(
        ticket_id=ticket.id,
        reference=service.reference(ticket),
        on_hold=ticket.legal_hold_at is not None,
        reason=ticket.legal_hold_reason,
        by=ticket.legal_hold_by,
        at=ticket.legal_hold_at,
    )


HoldService = Annotated[TicketService, ticket_service("tickets:legal-hold", "set legal holds")]


async def _change_hold(
    change: Any, ticket_id: str, body: ReasonBody, request: Request, service: TicketService
) -> LegalHoldOut:
    ticket = await service.load(ticket_id, for_update=True)
    log = log_for(request, service)
    await change(ticket, reason=body.reason, log=log, route=route_of(request))
    return _hold_out(service, ticket)


@router.post("/tickets/{ticket_id}/legal-hold", response_model=LegalHoldOut)
async def put_legal_hold(
    ticket_id: str, body: ReasonBody, request: Request, service: HoldService
) -> LegalHoldOut:
    """Keep the ticket out of retention and erasure until lifted (supervisors); 409 if held."""
    return await _change_hold(set_hold, ticket_id, body, request, service)


@router.post("/tickets/{ticket_id}/legal-hold/lift", response_model=LegalHoldOut)
async def lift_legal_hold(
    ticket_id: str, body: ReasonBody, request: Request, service: HoldService
) -> LegalHoldOut:
    """End a legal hold, with the reason (supervisors); 409 if the ticket is not held."""
    return await _change_hold(lift_hold, ticket_id, body, request, service)


Limit = Annotated[int, Query(ge=1, le=1000)]
Before = Annotated[int | None, Query(ge=1, description="`next_before` of the previous page")]


@router.get("/tickets/{ticket_id}/access", response_model=AccessPage)
async def ticket_access(
    ticket_id: str,
    service: Annotated[TicketService, ticket_service("audit:read", "read the access log")],
    limit: Limit = 100,
    before: Before = None,
) -> AccessPage:
    """Who revealed, exported or held this ticket's personal data, newest first."""
    ticket = await service.load(ticket_id)
    rows = await access_log.search(
        service.session,
        service.privacy,
        ticket_id=ticket.id,
        limit=limit + 1,
        before_id=before,
    )
    return _page(rows, limit)


@router.get("/audit/access", response_model=AccessPage)
async def audit_access(
    request: Request,
    session: SessionDep,
    user: Auditor,
    ticket: Annotated[int | None, Query(ge=1, lt=2**31, description="Ticket id")] = None,
    actor: Annotated[str | None, Query(alias="user", max_length=120)] = None,
    at_from: Annotated[datetime | None, Query(alias="from")] = None,
    at_to: Annotated[datetime | None, Query(alias="to")] = None,
    limit: Limit = 100,
    before: Before = None,
) -> AccessPage:
    """The access log, newest first, filtered by ticket id, user and period (naive times are
    Hanoi local). To search by phone, POST /audit/access/search (numbers stay out of URLs)."""
    rows = await access_log.search(
        session,
        runtime_of(request).privacy_keys,
        ticket_id=ticket,
        actor=actor,
        at_from=assume_local(at_from) if at_from else None,
        at_to=assume_local(at_to) if at_to else None,
        limit=limit + 1,
        before_id=before,
    )
    return _page(rows, limit)


class AccessSearch(BaseModel):
    phone: Phone = Field(description="Any Vietnamese format; matched by its keyed hash")
    from_: InstantIn | None = Field(default=None, alias="from")
    to: InstantIn | None = None
    limit: int = Field(default=100, ge=1, le=1000)
    before: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _phone_given(self) -> "AccessSearch":
        if not self.phone:
            raise ValueError("phone is required: the number whose lookups you want to see")
        return self


@router.post("/audit/access/search", response_model=AccessPage)
async def audit_access_by_phone(
    body: AccessSearch, request: Request, session: SessionDep, user: Auditor
) -> AccessPage:
    """Who looked up, revealed, exported or erased this phone number, newest first."""
    rows = await access_log.search(
        session,
        runtime_of(request).privacy_keys,
        phone=body.phone,
        at_from=body.from_,
        at_to=body.to,
        limit=body.limit + 1,
        before_id=body.before,
    )
    return _page(rows, body.limit)


class SubjectIn(BaseModel):
    phone: Phone = Field(default=None, description="Any format; every copy of it is found")
    email: Email = None
    open311_account_id: Annotated[str | None, Field(max_length=120)] = Field(
        default=None, description="The citizen app's account id given through Open311"
    )
    request_ref: Annotated[Text, Field(min_length=1, max_length=120)] = Field(
        description="The citizen's request reference (letter, form or case number)"
    )
    received_at: InstantIn | None = Field(
        default=None, description="When the request arrived (default now); starts the 2-day clock"
    )

    @model_validator(mode="after")
    def _someone(self) -> "SubjectIn":
        if not self.phone and not self.email and not self.open311_account_id:
            raise ValueError(
                "give the person's phone or email (or the Open311 account id, open311_account_id)"
            )
        return self


class ErasureIn(SubjectIn):
    ground: Annotated[Text, Field(min_length=3, max_length=2000)] = Field(
        description="The legal ground of the decision to erase"
    )


def _rights(request: Request, session: Any, user: Principal, now: datetime) -> Rights:
    state = runtime_of(request)
    return Rights(
        session=session,
        log=AccessLog(session, state.privacy_keys, user.username, user.role, now),
        catalog=state.catalog,
        calendar=state.sla.calendars[state.sla.default_calendar or "office"],
        reference_prefix=state.settings.reference_prefix,
        route=route_of(request),
    )


@router.post("/callers/export")
async def export_caller(
    body: SubjectIn, request: Request, session: SessionDep, now: NowDep, user: RightsAdmin
) -> dict[str, Any]:
    """Everything held about one person (admins): tickets, their words, times and outcomes,
    and who accessed their data; Vietnamese labels. Recorded as an access request."""
    return await _rights(request, session, user, now).export(
        phone=body.phone,
        email=body.email,
        account_id=body.open311_account_id,
        request_ref=body.request_ref,
        received_at=body.received_at,
    )


@router.post("/callers/erase")
async def erase_caller(
    body: ErasureIn, request: Request, session: SessionDep, now: NowDep, user: RightsAdmin
) -> dict[str, Any]:
    """Erase one person's identity from every ticket and copy (admins), except tickets under
    legal hold; the answer lists what was erased and what was kept, and why."""
    return await _rights(request, session, user, now).erase(
        phone=body.phone,
        email=body.email,
        account_id=body.open311_account_id,
        ground=body.ground,
        request_ref=body.request_ref,
        received_at=body.received_at,
    )


@router.get("/callers/requests")
async def data_subject_requests(
    session: SessionDep, now: NowDep, user: RightsAdmin
) -> list[dict[str, Any]]:
    """Data-subject requests with their due time (2 working days) and state, soonest due first."""
    return [request_out(r, now) for r in await list_requests(session)]
