"""A service request as GeoReport shows it to the public (docs/open311.md, "What is public").

Never the caller (app.privacy.masking with no viewer); description, address and media only
when the ticket is public; instants in ISO 8601 with the local offset.
"""

from datetime import datetime
from typing import Any

from app.catalog.catalog import Catalog
from app.open311 import status as st
from app.open311.attributes import ServiceExtras
from app.privacy.masking import caller_shown, free_text_view
from app.tickets.models import Assignment, Ticket
from app.tickets.service import TicketService
from app.timefmt import LOCAL_TZ


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the local offset, as the spec asks (e.g. 2026-11-29T16:35:00+07:00)."""
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if value else None


def unit_name(catalog: Catalog, code: str | None) -> str | None:
    """The unit's name, its code when the catalog no longer knows it, None for no unit."""
    unit = catalog.units.get(code) if code else None
    return unit.name if unit else code


def public_document(
    tickets: TicketService,
    extras: dict[str, ServiceExtras],
    ticket: Ticket,
    latest: Assignment | None,
    *,
    extensions: bool = False,
    resolution: str | None = None,
) -> dict[str, Any]:
    """One service request as the public may see it: never the caller, not even typed into
    the free text (their own name, number and e-mail blanked, as webhooks do); description,
    address and media only when the ticket is public."""
    assert not caller_shown(confidential=ticket.confidential, viewer=None)
    topic = tickets.catalog.topics.get(ticket.topic_code or "")
    public = bool(ticket.public)
    media = ticket.attachments[0] if public and ticket.attachments else None
    description, address, media = free_text_view(
        ticket, None, [ticket.description if public else None, ticket.address, media]
    )
    notes = st.LABELS.get(ticket.status, ticket.status)
    if resolution:
        notes = f"{notes}: {resolution}"
    open_now = latest is not None and latest.ended_at is None
    doc: dict[str, Any] = {
        "service_request_id": tickets.reference(ticket),
        "status": st.basic(ticket.status),
        "status_notes": notes,
        "service_name": topic.name if topic else None,
        "service_code": ticket.topic_code or "",
        "description": description,
        "agency_responsible": unit_name(tickets.catalog, latest.unit_code) if latest else None,
        "service_notice": None,
        "requested_datetime": iso(ticket.received_at),
        "updated_datetime": iso(ticket.updated_at),
        "expected_datetime": iso(latest.resolve_due_at) if open_now and latest else None,
        "address": address if public else None,
        "address_id": None,
        "zipcode": None,
        "lat": ticket.latitude,
        "long": ticket.longitude,
        "media_url": media,
    }
    if extensions:
        doc["extended_attributes"] = {
            "status": st.extended(ticket.status),
            # As a list, so that XML carries it like the definitions: [{code, values}].
            "attributes": free_text_view(ticket, None, _answers(extras, ticket)) if public else [],
        }
    return doc


def _answers(extras: dict[str, ServiceExtras], ticket: Ticket) -> list[dict[str, Any]]:
    """Attribute answers in the definition's order (PostgreSQL's JSONB keeps no key order)."""
    answers = ticket.service_attributes or {}
    declared = extras.get(ticket.topic_code or "", ServiceExtras()).attributes
    order = {a.code: i for i, a in enumerate(declared)}
    return [
        {"code": code, "values": value if isinstance(value, list) else [value]}
        for code, value in sorted(answers.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    ]
