"""Duplicate suggestions: POST /api/v1/tickets/similar, GET /api/v1/tickets/{id}/similar."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.api.checked_route import CheckedRoute
from app.api.deps import require_json, runtime_of, ticket_service
from app.api.service_errors import speaking_http
from app.search.schemas import SimilarIn, SimilarPage
from app.search.similar import facts_in, facts_of_ticket, similar
from app.tickets.service import TicketService

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/tickets",
    tags=["tickets"],
    dependencies=[Depends(require_json)],
)
Service = Annotated[TicketService, ticket_service("tickets:similar", "look for duplicates")]
PROBLEMS = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in {
        404: "No such ticket",
        422: "Invalid input; `errors` lists the fields",
    }.items()
}


@router.post("/similar", response_model=SimilarPage, responses=PROBLEMS)
async def similar_to_facts(body: SimilarIn, request: Request, service: Service) -> SimilarPage:
    """Tickets that may report the same problem as the one being filed (nothing is written):
    at most `similar_max` (5), best first, each with a score in 0..1 and its reasons:
    same caller phone within 30 days, same area and topic still open within 72 h, a similar
    description (rapidfuzz), within 250 m when both have coordinates (settings similar_*).
    Area and topic are checked as at intake (422 naming the field)."""
    with speaking_http():  # topic and area checked by the ticket services
        facts = facts_in(service, body)
    return SimilarPage(candidates=await similar(service, facts, runtime_of(request).settings))


@router.get("/{ticket_id}/similar", response_model=SimilarPage, responses=PROBLEMS)
async def similar_to_ticket(ticket_id: str, request: Request, service: Service) -> SimilarPage:
    """The same suggestions for a stored ticket (itself left out), e.g. before marking it a
    duplicate; judged as of when it was received."""
    ticket = await service.load(ticket_id)
    facts = facts_of_ticket(ticket)
    settings = runtime_of(request).settings
    return SimilarPage(candidates=await similar(service, facts, settings, exclude_id=ticket.id))
