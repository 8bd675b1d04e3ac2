"""Operator pages: the intake form (with its live helpers) and the ticket search."""

import uuid
from urllib.parse import urlencode

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.api.privacy import log_for
from app.console.deps import ConsoleDep, ConsoleRoute
from app.errors import AppError
from app.phone import InvalidPhone, to_e164
from app.reports.period import local_dates, utc_bounds
from app.search.callers import history
from app.search.schemas import SimilarIn
from app.search.similar import facts_in, similar
from app.tickets.lifecycle import Status
from app.tickets.schemas import Channel, Priority, TicketCreate, TicketQuery

router = APIRouter(route_class=ConsoleRoute)

FIELDS = ("phone", "name", "area", "area_code", "topic", "priority", "description", "address")

# What the operator is told when a form field does not pass TicketCreate, by the field's
# location in the model: a sentence, not the model's field name.
REFUSALS = {
    "callback_requested": "Người dân muốn được báo kết quả thì cần số điện thoại để gọi lại: "
    "nhập số điện thoại, hoặc bỏ chọn ô báo kết quả.",
    "caller.phone": "Số điện thoại không đúng: nhập số Việt Nam, ví dụ 0912 345 678.",
    "caller.name": "Họ tên quá dài (tối đa 200 ký tự).",
    "description": "Cần nhập nội dung phản ánh (tối đa 4000 ký tự).",
    "address": "Địa chỉ quá dài (tối đa 500 ký tự).",
    "area": "Địa bàn quá dài (tối đa 300 ký tự).",
    "topic": "Lĩnh vực không đúng: chọn trong danh sách.",
    "priority": "Mức ưu tiên không đúng: chọn trong danh sách.",
    "channel": "Kênh tiếp nhận không đúng: chọn trong danh sách.",
}


def refusal(exc: ValidationError) -> str:
    """The operator's sentence(s) for a form refused by TicketCreate, one per field, in
    Vietnamese; a field with no sentence of its own is named."""
    sentences: list[str] = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        sentence = REFUSALS.get(where) or f"Kiểm tra lại ô {where or error['msg']}."
        if sentence not in sentences:
            sentences.append(sentence)
    return " ".join(sentences)


def _choices(console: ConsoleDep) -> dict[str, object]:
    catalog = console.runtime.catalog
    topics = sorted(catalog.topics.values(), key=lambda t: t.code)
    return {
        "topics": topics,
        "channels": [c.value for c in Channel],
        "priorities": [p.value for p in Priority],
    }


def _form_page(
    console: ConsoleDep, values: dict[str, str], error: str | None, status: int
) -> Response:
    matches = []
    if error and values.get("area") and not values.get("area_code"):
        matches = console.runtime.catalog.search_areas(values["area"], 8)
    return console.page(
        "intake.html",
        {
            **_choices(console),
            "v": values,
            "error": error,
            "matches": matches,
            "title": "Tiếp nhận phản ánh",
        },
        status_code=status,
    )


@router.get("/intake")
async def intake_form(console: ConsoleDep) -> Response:
    """A blank intake form with a fresh Idempotency-Key (a double submit files once)."""
    console.require("tickets:create", "tạo phiếu")
    values = {"idempotency_key": str(uuid.uuid4()), "channel": "phone", "priority": "normal"}
    return _form_page(console, values, None, 200)


@router.get("/intake/phone")
async def normalise_phone(console: ConsoleDep, phone: str = "") -> Response:
    """The number as it will be stored (E.164), or why it is not a Vietnamese number."""
    try:
        text, ok = (to_e164(phone), True) if phone.strip() else ("", True)
    except InvalidPhone as exc:
        text, ok = str(exc), False
    return console.page("panels/phone.html", {"text": text, "ok": ok})


@router.get("/intake/areas")
async def area_choices(console: ConsoleDep, area: str = "") -> Response:
    """Autocomplete: current areas and former names matching the text, as a pick list."""
    matches = console.runtime.catalog.search_areas(area, 8) if area.strip() else []
    return console.page("panels/areas.html", {"matches": matches, "v": {}})


@router.post("/intake/history")
async def caller_history(console: ConsoleDep) -> Response:
    """The caller's earlier tickets as the phone is typed (htmx, debounced): the service of
    POST /api/v1/callers/lookup, the lookup written to the privacy access log the same way
    (the number only as its keyed hash). A POST, so the number stays out of URLs and logs.
    Nothing for a role without callers:history, or while the number is incomplete."""
    if not console.principal.can("callers:history"):
        return Response("")
    form = await console.request.form()
    raw = str(form.get("phone") or "").strip()
    try:
        phone = to_e164(raw) if raw else None
    except InvalidPhone:
        phone = None
    if phone is None:
        return Response("")
    service = console.tickets()
    found = await history(service, phone)
    await log_for(console.request, service).record(
        "caller_history",
        "POST /console/intake/history",
        phone=phone,
        details={"results": len(found.tickets)},
    )
    return console.page("panels/history.html", {"h": found})


@router.post("/intake/similar")
async def duplicate_suggestions(console: ConsoleDep) -> Response:
    """Tickets that may report the same problem, as the form fills (htmx, debounced): the
    service of POST /api/v1/tickets/similar over the phone, area, topic and description typed
    so far (nothing written). A fact that does not read yet (a half-typed number, an unknown
    area) is left out rather than refused; nothing for a role without tickets:similar."""
    if not console.principal.can("tickets:similar"):
        return Response("")
    form = await console.request.form()

    def text(key: str) -> str | None:
        value = str(form.get(key) or "").strip()
        return value or None

    phone = text("phone")
    try:
        phone = to_e164(phone) if phone else None
    except InvalidPhone:
        phone = None
    service = console.tickets()
    facts_text = {
        "caller_phone": phone,
        "area": text("area_code") or text("area"),
        "topic": text("topic"),
        "description": text("description"),
    }
    if not any(facts_text.values()):
        return Response("")
    for key in ("area", "topic", "description"):  # leave out what does not read (yet)
        if facts_text[key] is not None:
            try:
                facts_in(service, SimilarIn.model_validate({key: facts_text[key]}))
            except (AppError, ValidationError):
                facts_text[key] = None
    facts = facts_in(service, SimilarIn.model_validate(facts_text))
    candidates = await similar(service, facts, console.settings)
    return console.page("panels/similar.html", {"candidates": candidates})


@router.post("/intake")
async def file_ticket(console: ConsoleDep) -> Response:
    """File the ticket through TicketService.create with the form's Idempotency-Key; a
    replay (double click, resent form) lands on the same ticket."""
    console.require("tickets:create", "tạo phiếu")
    form = await console.request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    data = {
        "channel": values.get("channel") or "phone",
        "caller": {
            "name": values.get("name") or None,
            "phone": values.get("phone") or None,
            "confidential": values.get("confidential") == "on",
        },
        "description": values.get("description", ""),
        "topic": values.get("topic") or None,
        "area": values.get("area_code") or values.get("area") or None,
        "address": values.get("address") or None,
        "priority": values.get("priority") or "normal",
        "callback_requested": values.get("callback_requested") == "on",
    }
    service = console.tickets()
    try:
        ticket = (
            await service.create(
                TicketCreate.model_validate(data), values.get("idempotency_key") or None
            )
        ).ticket
    except ValidationError as exc:
        return _form_page(console, values, refusal(exc), 422)
    except AppError as exc:
        await console.session.rollback()
        return _form_page(console, values, exc.detail, exc.status)
    return RedirectResponse(f"/console/tickets/{ticket.id}", status_code=303)


@router.get("/search")
async def search(console: ConsoleDep) -> Response:
    """The API's ticket search (GET /api/v1/tickets filters) as a form and a result list.

    Every filter may be repeated (a dashboard drill-down passes lists, e.g. the topics of a
    volume bar); `received_from` / `received_to` are local dates (YYYY-MM-DD), both inclusive,
    turned into the API's received_from / received_to instants (Asia/Ho_Chi_Minh midnight).
    """
    console.require("tickets:read", "xem phiếu")
    params = console.request.query_params

    def values(key: str) -> list[str]:
        return [v.strip() for v in params.getlist(key) if v.strip()]

    received_from = received_to = None
    dates = local_dates(
        params.get("received_from") or None,
        params.get("received_to") or None,
        now=console.now,
        timezone=console.settings.timezone,
    )
    if params.get("received_from") or params.get("received_to"):
        start, end = utc_bounds(*dates, console.settings.timezone)
        received_from = start if params.get("received_from") else None
        received_to = end if params.get("received_to") else None
    query = TicketQuery(
        statuses=values("status"),
        units=values("unit"),
        areas=values("area"),
        topics=values("topic"),
        priorities=values("priority"),
        channels=values("channel"),
        received_from=received_from,
        received_to=received_to,
        q=params.get("q") or None,
        sla_states=values("sla_state"),
        limit=50,
        cursor=params.get("cursor") or None,
    )
    page = await console.tickets().search(query)
    return console.page(
        "search.html",
        {
            **_choices(console),
            "page": page,
            "statuses": [s.value for s in Status],
            "f": params,
            "more": urlencode([(k, v) for k, v in params.multi_items() if k != "cursor"]),
            "title": "Tra cứu phiếu",
        },
    )
