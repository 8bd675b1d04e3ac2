"""Filing a GeoReport service request: the form read, checked and turned into a ticket.

The form's fields (the spec's names, each a list of values as posted) become a TicketCreate
for the ticket service, channel `open311`, always public; attribute answers are checked
against the service's definition (app.open311.attributes). Anything missing or malformed
raises RequestInvalid naming the field.
"""

from typing import Any

from pydantic import ValidationError

from app.open311.attributes import ServiceExtras, check_answers, decimal
from app.open311.documents import unit_name
from app.open311.errors import RequestInvalid
from app.tickets.schemas import TicketCreate
from app.tickets.service import TicketService


async def file_request(
    tickets: TicketService,
    extras: dict[str, ServiceExtras],
    services: list[str],
    form: dict[str, list[str]],
    idempotency_key: str | None = None,
) -> list[dict[str, Any]]:
    """File a service request from the form fields; [{service_request_id, service_notice,
    account_id}]. RequestInvalid naming the field for anything missing or malformed.

    `idempotency_key`: as for POST /api/v1/tickets (app.tickets.intake.create), per API key: a
    retry with the same form answers the request filed first; another form with the same key
    is a Conflict (409), the first request still running KeyInProgress (409, retry soon)."""

    def one(name: str) -> str | None:
        values = form.get(name) or []
        value = values[-1].strip() if values else ""
        return value or None

    code = one("service_code")
    if code is None:
        raise RequestInvalid("service_code: required", see="services")
    if code not in services:
        raise RequestInvalid(f"service_code: '{code}' not found", see="services")
    lat, long, address, address_id = (
        one("lat"),
        one("long"),
        one("address_string"),
        one("address_id"),
    )
    if (lat is None) != (long is None):
        raise RequestInvalid("lat and long: give both, or neither")
    if lat is None and address is None and address_id is None:
        raise RequestInvalid("location: give lat and long, address_string or address_id")
    given: dict[str, list[str]] = {}
    for key, values in form.items():
        if key.startswith("attribute[") and key.endswith("]"):
            name = key.removeprefix("attribute[").removesuffix("[]").removesuffix("]")
            given.setdefault(name, []).extend(values)
    attrs = extras.get(code, ServiceExtras()).attributes
    answers, errors = check_answers(attrs, given)
    if errors:
        raise RequestInvalid("; ".join(f"{field}: {why}" for field, why in errors))
    name = " ".join(p for p in (one("last_name"), one("first_name")) if p) or None
    media = one("media_url")
    body = {
        "channel": "open311",
        "caller": {"name": name, "phone": one("phone"), "email": one("email")},
        "description": one("description") or tickets.catalog.topics[code].name,
        "topic": code,
        # The area is read from the address by intake itself (app.tickets.area_policy):
        # open311 is unattended, so an address fitting several areas goes to triage with
        # its candidates, and coordinates alone give no area: never a guess.
        "area": None,
        "address": address or (f"address_id {address_id}" if address_id else None),
        "latitude": _degrees("lat", lat),
        "longitude": _degrees("long", long),
        "attachments": [media] if media else [],
        "public": True,
    }
    try:
        data = TicketCreate.model_validate(body)
    except ValidationError as exc:
        raise RequestInvalid("; ".join(field_message(e) for e in exc.errors())) from exc
    account = one("account_id")
    extra = {
        "citizen_account_id": account,
        "citizen_device_id": one("device_id"),
        "service_attributes": answers or None,
    }
    for key in ("citizen_account_id", "citizen_device_id"):
        if extra[key] and len(extra[key]) > 120:
            raise RequestInvalid(f"{key.removeprefix('citizen_')}: at most 120 characters")
    made = await tickets.create(data, idempotency_key, extra=extra)
    ticket = made.ticket
    # The unit handling it now (a replay's ticket may have moved on since it was filed).
    unit_code = ticket.current_unit_code
    responding = unit_name(tickets.catalog, unit_code) if unit_code else None
    notice = f"Đã chuyển {responding} xử lý." if responding else "Đã tiếp nhận, đang phân loại."
    return [
        {
            "service_request_id": tickets.reference(ticket),
            "service_notice": notice,
            "account_id": account,
        }
    ]


def _degrees(name: str, raw: str | None) -> float | None:
    """A form's coordinate as a number (the ticket schema takes numbers only)."""
    if raw is None:
        return None
    value = decimal(raw)
    if value is None:
        raise RequestInvalid(f"{name}: '{raw}' is not a number of degrees (WGS84, e.g. 21.0362)")
    return value


def field_message(error: Any) -> str:
    """A pydantic error under the form's own field names (lat, long, media_url)."""
    names = {"caller": "", "latitude": "lat", "longitude": "long", "attachments": "media_url"}
    loc = [names.get(str(p), str(p)) for p in error.get("loc", ()) if not isinstance(p, int)]
    field = ".".join(p for p in loc if p) or "request"
    return f"{field}: {error.get('msg')}"
