"""/api/v1/tickets: intake, search, corrections, history and lifecycle actions."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Header, Query, Request, Response

from app import metrics
from app.api.checked_route import CheckedRoute
from app.api.deps import SessionDep, require_json, runtime_of, ticket_service
from app.api.etags import check_if_match, etag
from app.api.idempotency import idempotency_key
from app.api.privacy import log_for, route_of
from app.api.service_errors import speaking_http
from app.search.callers import summary as caller_summary
from app.search.similar import facts_of_ticket, similar
from app.search.text import read_query
from app.tickets.schemas import (
    ActionIn,
    CallerInformedIn,
    Channel,
    ConfirmAreaIn,
    DuplicateIn,
    EventPage,
    NoteIn,
    OptionalReasonIn,
    Priority,
    ReasonIn,
    RequestInfoIn,
    ResolveIn,
    TicketCreate,
    TicketPage,
    TicketQuery,
    TicketRead,
    TicketUpdate,
    TransferIn,
)
from app.tickets.service import TicketService
from app.timefmt import InstantIn

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/tickets",
    tags=["tickets"],
    dependencies=[Depends(require_json)],
)


def _split(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


@router.post("", status_code=201, response_model=TicketRead)
async def create_ticket(
    data: TicketCreate,
    service: Annotated[TicketService, ticket_service("tickets:create", "create tickets")],
    response: Response,
    request: Request,
    idempotency_key: Annotated[str | None, Depends(idempotency_key)],
    suggest_duplicates: Annotated[
        bool,
        Query(description="Add `possible_duplicates` (as POST /tickets/similar) to the answer"),
    ] = False,
) -> Response:
    """Create a ticket; it is routed at once. Retries with the same Idempotency-Key are safe."""
    with speaking_http():
        made = await service.create(data, idempotency_key)
    ticket = made.ticket
    headers = {"Location": f"{request.url.path}/{ticket.id}", "ETag": etag(ticket)}
    if made.replayed:
        headers["Idempotent-Replayed"] = "true"
        read = await service.read(ticket)
    else:
        metrics.TICKETS_CREATED.labels(ticket.channel).inc()
        current = made.assignment
        # Built from what was written, not read back.
        read = service.to_read(ticket, current, [current] if current else [])
    if suggest_duplicates:
        settings = runtime_of(request).settings
        read.possible_duplicates = await similar(
            service, facts_of_ticket(ticket), settings, exclude_id=ticket.id
        )
    # Already a validated TicketRead: serialise it once instead of letting FastAPI re-validate
    # it against the response model (a measurable share of intake, the hot path).
    return Response(read.model_dump_json(), 201, headers, media_type="application/json")


@router.get("", response_model=TicketPage)
async def search_tickets(
    request: Request,
    service: Annotated[
        TicketService, ticket_service("tickets:read", "read tickets", reads_only=True)
    ],
    primary: SessionDep,  # the access record of a caller-history lookup is a write
    status: Annotated[
        list[str] | None,
        Query(
            description="Status(es); `open` = every status still being worked (new, assigned, "
            "acknowledged, in_progress, waiting_citizen)",
            examples=["open"],
        ),
    ] = None,
    unit: Annotated[
        list[str] | None,
        Query(description="Current unit code(s); `mine` = the signed-in agent's units"),
    ] = None,
    area: Annotated[
        list[str] | None, Query(description="Area code or name; includes sub-areas")
    ] = None,
    topic: Annotated[list[str] | None, Query(description="Topic code; includes subtopics")] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    channel: Annotated[list[Channel] | None, Query()] = None,
    received_from: Annotated[InstantIn | None, Query()] = None,
    received_to: Annotated[InstantIn | None, Query()] = None,
    caller_phone: Annotated[str | None, Query()] = None,
    q: Annotated[
        str | None,
        Query(
            description="Words (any order, accents and case optional) in description, address "
            "and caller name; a reference or part of one (HN-2026-16, 000016); a caller phone",
            max_length=200,
        ),
    ] = None,
    sla_state: Annotated[
        list[Literal["on_track", "warning", "breached", "paused"]] | None,
        Query(description="The current assignment's SLA state"),
    ] = None,
    sort: Annotated[
        str,
        Query(
            pattern="^(-?received_at|due|relevance|-reports)$",
            description="-received_at (newest first), received_at, due (next due first), "
            "relevance (best match first among the newest 300 matches of q), or -reports "
            "(most reported first: 1 + linked duplicates)",
        ),
    ] = "-received_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    """Tickets matching every filter given, newest first by default, a page at a time.

    Read from HOTLINE_READ_DATABASE_URL when set: a replica's lag (usually under a second)
    can hide a ticket created just before; GET /tickets/{id} reads the primary. The access
    record of a lookup by caller_phone is written to the primary."""
    query = TicketQuery(
        statuses=_split(status),
        units=_split(unit),
        areas=_split(area),
        topics=_split(topic),
        priorities=[p.value for p in priority or []],
        channels=[c.value for c in channel or []],
        received_from=received_from,
        received_to=received_to,
        caller_phone=caller_phone,
        q=q,
        sla_states=sla_state or [],
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    with speaking_http(in_query=True):
        page = await service.search(query)
        # A number typed into `q` finds that caller's tickets too (app.search.text.read_query).
        phone = (
            service.query_phone(caller_phone)
            if caller_phone
            else read_query(q).phone
            if q
            else None
        )
    if phone:
        # A caller-history lookup: on the access log, the number only as its keyed hash.
        await log_for(request, service, session=primary).record(
            "caller_history",
            route_of(request),
            phone=phone,
            details={"results": len(page.items)},
        )
    # Already a validated TicketPage: serialised once, not dumped, re-validated against the
    # response model and dumped again (for 50 tickets that was a few ms of every search).
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{ticket_id}", response_model=TicketRead)
async def get_ticket(
    ticket_id: str,
    service: Annotated[TicketService, ticket_service("tickets:read", "read tickets")],
    response: Response,
) -> TicketRead:
    """One ticket by id or reference (HN-2026-000123), with all its assignments."""
    ticket = await service.load(ticket_id)
    response.headers["ETag"] = etag(ticket)
    read = await service.read(ticket)
    if service.principal.role == "operator":
        # "Called 3 times this month, 1 open": the form shows it beside the caller.
        read.caller_history = await caller_summary(service, ticket)
    return read


@router.patch("/{ticket_id}", response_model=TicketRead)
async def update_ticket(
    ticket_id: str,
    data: TicketUpdate,
    service: Annotated[TicketService, ticket_service("tickets:update", "correct tickets")],
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> TicketRead:
    """Correct topic, area, priority, description or address; only the fields sent change.

    Send the ETag of your read as If-Match: a concurrent change then answers 412 instead of
    being overwritten. If-Match is optional here (and only here) so that an operator can
    correct a ticket while the caller is on the line; without it the last change wins, and
    every change is in the history with its old and new value. `topic`, `area` and `address`
    may be null; `priority` and `description` may be left out but not nulled (422).
    """
    ticket = await service.load(ticket_id, for_update=True)
    check_if_match(ticket, if_match)
    with speaking_http():
        await service.update(ticket, data)
    response.headers["ETag"] = etag(ticket)
    return await service.read(ticket)


@router.get("/{ticket_id}/events", response_model=EventPage)
async def ticket_events(
    ticket_id: str,
    service: Annotated[TicketService, ticket_service("tickets:read", "read tickets")],
) -> EventPage:
    """The ticket's append-only history, oldest first."""
    ticket = await service.load(ticket_id)
    return EventPage(items=await service.events(ticket))


ACTION_BODIES: dict[str, tuple[type[ActionIn], str]] = {
    "acknowledge": (ActionIn, "The unit has seen the ticket and takes it on."),
    "start": (ActionIn, "Work has started (acknowledges too)."),
    "request-info": (RequestInfoIn, "Ask the citizen for more; the SLA clock pauses."),
    "info-received": (ActionIn, "The citizen answered; the SLA clock runs again."),
    "resolve": (ResolveIn, "The unit resolved it; `resolution` says how."),
    "reject": (ReasonIn, "Not this unit's jurisdiction; the ticket is routed again without it."),
    "transfer": (TransferIn, "Hand the ticket to another unit."),
    "reroute": (
        OptionalReasonIn,
        "Send the ticket back to routing (units that rejected it excluded).",
    ),
    "close": (ActionIn, "Close a resolved ticket."),
    "reopen": (ReasonIn, "Reopen a resolved or closed ticket; a new assignment starts."),
    "cancel": (OptionalReasonIn, "Cancel a ticket filed in error."),
    "duplicate": (DuplicateIn, "Mark as a duplicate of another ticket."),
    "notes": (NoteIn, "Add a note to the history."),
    "caller-informed": (
        CallerInformedIn,
        "An operator called the caller back (`note`: what they were told); takes the ticket "
        "off the callback queue. Status unchanged.",
    ),
    "confirm-area": (
        ConfirmAreaIn,
        "Settle an area kept as candidates at intake: `area` is one of them.",
    ),
}


def _action_endpoint(action: str, model: type[ActionIn]) -> Any:
    Service = Annotated[TicketService, ticket_service(f"act:{action}", f"{action} tickets")]

    async def run(ticket_id: str, body: ActionIn, service: Any, response: Response) -> TicketRead:
        ticket = await service.load_for(action, ticket_id)
        with speaking_http():
            changed = await service.act(ticket, action, body)
        response.headers["ETag"] = etag(ticket)
        return await service.read(ticket, changed)

    if any(f.is_required() for f in model.model_fields.values()):

        async def with_body(
            ticket_id: str,
            body: Annotated[model, Body()],  # type: ignore[valid-type]
            service: Service,
            response: Response,
        ) -> TicketRead:
            return await run(ticket_id, body, service, response)

        return with_body

    async def optional_body(
        ticket_id: str,
        service: Service,
        response: Response,
        body: Annotated[model | None, Body()] = None,  # type: ignore[valid-type]
    ) -> TicketRead:
        return await run(ticket_id, body or model(), service, response)

    return optional_body


for _action, (_model, _summary) in ACTION_BODIES.items():
    router.add_api_route(
        f"/{{ticket_id}}/{_action}",
        _action_endpoint(_action, _model),
        methods=["POST"],
        response_model=TicketRead,
        summary=_summary,
        name=f"ticket_{_action.replace('-', '_')}",
    )
