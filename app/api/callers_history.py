"""/api/v1/callers/lookup: a caller's earlier tickets, for operators and supervisors."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.checked_route import CheckedRoute
from app.api.deps import require_json, ticket_service
from app.api.privacy import log_for, route_of
from app.search.callers import history, phone_of
from app.search.schemas import CallerHistory, PhoneIn
from app.tickets.service import TicketService

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/callers",
    tags=["callers"],
    dependencies=[Depends(require_json)],
)


@router.post(
    "/lookup",
    response_model=CallerHistory,
    responses={
        422: {"description": "Not a phone number", "content": {"application/problem+json": {}}}
    },
)
async def lookup_caller(
    body: PhoneIn,
    request: Request,
    service: Annotated[TicketService, ticket_service("callers:history", "look up callers")],
) -> CallerHistory:
    """The caller's tickets newest first (status, unit, SLA state), calls over 30 and 365 days
    and how many are open. The number goes in the body so that it stays out of URLs and access
    logs; the lookup itself is on the privacy access log (the number as its keyed hash).
    Confidential tickets are never listed (their callers are masked for every role)."""
    phone = phone_of(body.phone)
    result = await history(service, phone)
    await log_for(request, service).record(
        "caller_history", route_of(request), phone=phone, details={"results": len(result.tickets)}
    )
    return result
