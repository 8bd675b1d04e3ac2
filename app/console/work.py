"""Console pages for the work on tickets: the unit queue, the ticket page and its actions."""

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.api.tickets import ACTION_BODIES
from app.console import presenter
from app.console.callbacks import (
    KINDS,
    callbacks_count,
    callbacks_due,
    decode_cursor,
    encode_cursor,
    reachable,
    tickets_of,
)
from app.console.deps import ConsoleDep, ConsoleRoute
from app.errors import AppError, NotFound
from app.privacy.access_log import AccessLog
from app.privacy.masking import caller_view
from app.tickets.lifecycle import OPEN
from app.tickets.schemas import CallerInformedIn, CallerOut, TicketQuery

router = APIRouter(route_class=ConsoleRoute)

CALLBACKS_SHOWN = 100  # rows per page of the callback queue; "Trang sau" for the next
QUEUE_SHOWN = 100  # rows per page of the unit queue; "Trang sau" for the next

# Why each caller is waiting, as the queue says it.
KIND_VI = {
    "info_requested": "Đơn vị cần bổ sung thông tin",
    "outcome_requested": "Người dân muốn được báo kết quả",
    "not_fixed": "Người dân báo chưa khắc phục",
}


@router.get("/queue")
async def unit_queue(console: ConsoleDep) -> Response:
    """Open tickets of the agent's units (every unit's for other roles), next due first: the
    search's sort=due, (next SLA due, tickets with no running clock last; ticket id), so ties
    keep one order across pages. QUEUE_SHOWN rows a page, `cursor` (from the page's "Trang
    sau" link) for the next, with the total of open tickets in the agent's scope. A cursor the
    search did not write is its 422 naming `cursor`."""
    console.require("tickets:read", "xem phiếu")
    cursor = console.request.query_params.get("cursor") or None
    query = TicketQuery(statuses=sorted(OPEN), sort="due", limit=QUEUE_SHOWN, cursor=cursor)
    service = console.tickets()
    page = await service.search(query)
    return console.page(
        "queue.html",
        {
            "tickets": page.items,
            "total": await service.count(query),
            "next_cursor": page.next_cursor,
            "paged": cursor is not None,
            "title": "Hàng đợi xử lý",
        },
    )


@router.get("/callbacks")
async def callback_queue(console: ConsoleDep) -> Response:
    """Callers waiting for a call back (app.console.callbacks: information requested, resolved
    tickets whose caller asked to be told the outcome, "not fixed" answers to a resolution),
    the most overdue first, each with how overdue it is; caller shown as the ticket service
    shows it (masked when confidential). Roles that may record the call get a form per row,
    but for a caller with no phone and no e-mail (marked so). CALLBACKS_SHOWN rows a page,
    `cursor` (from the page's "Trang sau" link) for the next; the total owed is shown."""
    console.require("tickets:read", "xem phiếu")
    return await _callback_page(console)


@router.post("/callbacks/{ticket_id}")
async def record_callback(ticket_id: str, console: ConsoleDep) -> Response:
    """Record that the caller was called back (TicketService.act `caller-informed`, as
    POST /api/v1/tickets/{id}/caller-informed does, `note` from the form): the ticket leaves
    the queue. Back to the queue (303); a refusal shows the queue with the service's sentence.
    A ticket no longer owed a call (a double click, a form resent, a colleague's call just
    recorded) writes nothing: the queue's form records the call that row is owed, once; the
    ticket page's action records any other call."""
    console.require("act:caller-informed", "ghi nhận đã gọi lại")
    form = await console.request.form()
    service = console.tickets()
    try:
        body = CallerInformedIn.model_validate(presenter.action_body("caller-informed", form))
        # The row lock serialises two submits: the second sees the first's call.
        ticket = await service.load(ticket_id, for_update=True)
        if await callbacks_due(console.session, visible_to_units=None, ticket_id=ticket.id):
            await service.act(ticket, "caller-informed", body)
    except ValidationError:
        await console.session.rollback()
        return await _callback_page(console, "Ghi chú quá dài (tối đa 4000 ký tự).", 422)
    except AppError as exc:
        await console.session.rollback()
        return await _callback_page(console, exc.detail, exc.status)
    return RedirectResponse("/console/callbacks", status_code=303)


async def _callback_page(
    console: ConsoleDep, error: str | None = None, status: int = 200
) -> Response:
    principal = console.principal
    units = sorted(principal.units) if principal.scoped_to_units else None
    cursor = console.request.query_params.get("cursor") or None
    owed = await callbacks_due(
        console.session,
        visible_to_units=units,
        limit=CALLBACKS_SHOWN + 1,
        after=decode_cursor(cursor) if cursor else None,
    )
    more = encode_cursor(owed[CALLBACKS_SHOWN - 1]) if len(owed) > CALLBACKS_SHOWN else None
    owed = owed[:CALLBACKS_SHOWN]
    service = console.tickets()
    tickets = {t.id: t for t in await tickets_of(console.session, [c.ticket_id for c in owed])}
    shown = [tickets[c.ticket_id] for c in owed if c.ticket_id in tickets]
    page = await service.page(shown, len(shown))
    reads = {t.id: t for t in page.items}
    rows = [
        (c, reads[c.ticket_id], reachable(tickets[c.ticket_id]))
        for c in owed
        if c.ticket_id in reads
    ]
    return console.page(
        "callbacks.html",
        {
            "rows": rows,
            "total": await callbacks_count(console.session, visible_to_units=units),
            "next_cursor": more,
            "paged": cursor is not None,
            "kinds": KINDS,
            "KIND_VI": KIND_VI,
            "now": console.now,
            "can_record": principal.can("act:caller-informed"),
            "error": error,
            "title": "Cần gọi lại người dân",
        },
        status_code=status,
    )


async def _ticket_page(
    console: ConsoleDep,
    ticket_id: str,
    error: str | None = None,
    status_code: int = 200,
    revealed: CallerOut | None = None,
) -> Response:
    service = console.tickets()
    ticket = await service.load(ticket_id)
    read = await service.read(ticket)
    if revealed is not None:
        read = read.model_copy(update={"caller": revealed})
    events = await service.events(ticket)
    actions = [a for a in read.allowed_actions if console.principal.can(f"act:{a}")]
    return console.page(
        "ticket.html",
        {
            "t": read,
            "events": events,
            "actions": actions,
            "fields": presenter.ACTION_FIELDS,
            "co_handlers": presenter.co_handlers(events),
            "error": error,
            "can_reveal": console.principal.can("callers:reveal"),
            "revealed": revealed is not None,
            # An anonymised caller's wish to be told no longer applies (app.console.callbacks);
            # the read says false, the page says why.
            "callback_lapsed": bool(ticket.callback_requested and ticket.caller_anonymised_at),
            "caller_anonymised_at": ticket.caller_anonymised_at,
            "title": f"Phiếu {read.reference}",
        },
        status_code=status_code,
    )


@router.get("/tickets/{ticket_id}")
async def ticket_page(ticket_id: str, console: ConsoleDep) -> Response:
    """One ticket: details, SLA, history, pending question, resolution, co-handlers, actions.
    An agent asking for another unit's ticket gets the API's 404 (it does not exist for them)."""
    console.require("tickets:read", "xem phiếu")
    return await _ticket_page(console, ticket_id)


@router.post("/tickets/{ticket_id}/{action}")
async def ticket_action(ticket_id: str, action: str, console: ConsoleDep) -> Response:
    """Run one lifecycle action through TicketService.act, as POST /api/v1/tickets/{id}/{action}
    does; on success back to the ticket (303), on a refusal the page with the sentence."""
    if action not in ACTION_BODIES:
        raise NotFound(f"Không có thao tác '{action}'.")
    console.require(f"act:{action}", f"thực hiện thao tác '{action}'")
    model = ACTION_BODIES[action][0]
    form = dict(await console.request.form())
    service = console.tickets()
    try:
        body = model.model_validate(presenter.action_body(action, form))
        ticket = await service.load(ticket_id, for_update=True)
        await service.act(ticket, action, body)
    except ValidationError as exc:
        await console.session.rollback()
        sentence = presenter.refusal(action, exc.errors())
        return await _ticket_page(console, ticket_id, sentence, 422)
    except AppError as exc:
        # Nothing of the refused action stays: roll back, then show the ticket as it is.
        await console.session.rollback()
        return await _ticket_page(console, ticket_id, exc.detail, exc.status)
    return RedirectResponse(f"/console/tickets/{ticket_id}", status_code=303)


@router.post("/tickets/{ticket_id}/caller/reveal")
async def reveal_caller(ticket_id: str, console: ConsoleDep) -> Response:
    """Show a confidential caller for a stated reason (3+ characters), as
    POST /api/v1/tickets/{id}/caller/reveal does: the reveal goes on the access log first."""
    console.require("callers:reveal", "xem danh tính người phản ánh được bảo mật")
    reason = str((await console.request.form()).get("reason") or "").strip()
    if len(reason) < 3:
        return await _ticket_page(console, ticket_id, "Cần ghi lý do (ít nhất 3 ký tự).", 422)
    service = console.tickets()
    ticket = await service.load(ticket_id)
    log = AccessLog(
        session=console.session,
        keys=console.runtime.privacy_keys,
        actor=console.principal.username,
        role=console.principal.role,
        now=console.now,
    )
    await log.record(
        "reveal",
        "POST /console/tickets/{ticket_id}/caller/reveal",
        ticket_id=ticket.id,
        reason=reason,
        phone=ticket.caller_phone,
    )
    shown = caller_view(ticket, console.principal, revealed=True)
    return await _ticket_page(console, ticket_id, revealed=shown)
