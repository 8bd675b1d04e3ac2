"""Caller history: "has this person called before?", asked while they are on the line.

Confidential tickets are never listed or counted: their callers are masked for every role
(app.privacy.masking), and listing them under a number would reveal who filed them. Numbers
that retention anonymised are found by their pseudonym (repeat callers still count).
"""

from datetime import datetime, timedelta
from typing import Any

from app.errors import ValidationFailed, field_error
from app.phone import InvalidPhone, to_e164
from app.search import repository as repo
from app.search.schemas import CallerHistory, CallerHistorySummary, CallerTicket, LastTicket
from app.tickets.models import Ticket

HISTORY_LIMIT = 50


def sla_state(ticket: Ticket, now: datetime) -> str | None:
    """The ticket's headline SLA state from its mirrored marks, as the `sla_state` filter judges
    it (app.tickets.repository._sla_condition); None when no clock runs."""
    due, warn = ticket.sla_due_at, ticket.sla_warn_at
    if due is not None and due < now:
        return "breached"
    if due is not None and warn is not None and warn <= now:
        return "warning"
    if ticket.status == "waiting_citizen" and due is None:
        return "paused"
    if due is not None and warn is not None and warn > now:
        return "on_track"
    return None


def phone_of(raw: str, loc: str = "phone") -> str:
    """E.164 of a typed number; 422 naming the field `loc` when it is not one."""
    try:
        return to_e164(raw)
    except InvalidPhone as exc:
        raise ValidationFailed([field_error([loc], str(exc))]) from exc


def _phones(service: Any, phone: str) -> list[str]:
    keys = service.privacy
    return [phone, keys.pseudonym(phone, "phone")] if keys else [phone]


async def history(service: Any, phone: str, limit: int = HISTORY_LIMIT) -> CallerHistory:
    """The caller's tickets newest first (at most `limit`) with counts over 30 and 365 days
    and the open count. `service` is the request's TicketService; phone is E.164."""
    phones = _phones(service, phone)
    now = service.now
    rows = await repo.caller_tickets(service.session, phones=phones, limit=limit + 1)
    c30, c365, open_ = await repo.caller_counts(
        service.session,
        phones=phones,
        since_30=now - timedelta(days=30),
        since_365=now - timedelta(days=365),
    )
    return CallerHistory(
        phone=phone,
        calls_30_days=c30,
        calls_365_days=c365,
        open=open_,
        tickets=[
            CallerTicket(
                id=t.id,
                reference=service.reference(t),
                received_at=t.received_at,
                status=t.status,
                topic=t.topic_code,
                area=t.area_code,
                unit=t.current_unit_code,
                sla_state=sla_state(t, now),
                description=t.description,
            )
            for t in rows[:limit]
        ],
        truncated=len(rows) > limit,
    )


async def summary(service: Any, ticket: Ticket) -> CallerHistorySummary | None:
    """The caller's other tickets in short, for the operator's read of `ticket`; None for an
    anonymous or confidential caller."""
    if ticket.confidential or not ticket.caller_phone or ticket.caller_anonymised_at:
        return None
    phones = _phones(service, ticket.caller_phone)
    now = service.now
    c30, c365, open_ = await repo.caller_counts(
        service.session,
        phones=phones,
        since_30=now - timedelta(days=30),
        since_365=now - timedelta(days=365),
        exclude_id=ticket.id,
    )
    last = await repo.caller_tickets(service.session, phones=phones, limit=1, exclude_id=ticket.id)
    return CallerHistorySummary(
        calls_30_days=c30,
        calls_365_days=c365,
        open=open_,
        last=LastTicket(
            reference=service.reference(last[0]),
            received_at=last[0].received_at,
            status=last[0].status,
        )
        if last
        else None,
    )
