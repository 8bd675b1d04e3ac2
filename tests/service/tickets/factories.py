"""Small row factories for service tests: a ticket as intake files it, in a given status."""

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.tickets.models import IdempotencyKey, Ticket
from app.tickets.schemas import ActionIn, RequestInfoIn, ResolveIn, TicketCreate
from app.tickets.service import TicketService
from tests.service.tickets.conftest import NOW


def ticket_data(**overrides: Any) -> TicketCreate:
    """A phone call about rubbish in Cầu Giấy (routed to its ward committee), with `overrides`."""
    body: dict[str, Any] = {
        "channel": "phone",
        "caller": {"name": "Nguyễn Văn An", "phone": "0912 345 678"},
        "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông mấy ngày nay",
        "topic": "moi-truong.rac-thai",
        "area": "phuong-cau-giay",
        "address": "Ngõ 25 Trần Thái Tông",
    }
    body.update(overrides)
    return TicketCreate(**body)


# The actions that bring a newly assigned ticket to a status (each a minute after the last).
PATHS: dict[str, list[tuple[str, ActionIn]]] = {
    "assigned": [],
    "acknowledged": [("acknowledge", ActionIn())],
    "waiting_citizen": [
        ("acknowledge", ActionIn()),
        ("request-info", RequestInfoIn(question="Số nhà mấy?")),
    ],
    "resolved": [("acknowledge", ActionIn()), ("resolve", ResolveIn(resolution="Đã thu gom"))],
}


async def claimed_key(session: AsyncSession, key: str, actor: str = "operator") -> IdempotencyKey:
    """An Idempotency-Key whose first request has not finished (no ticket yet)."""
    row = IdempotencyKey(actor=actor, key=key, request_hash="0" * 64, created_at=NOW)
    session.add(row)
    await session.flush()
    return row


async def ticket_in(service: TicketService, status: str = "assigned", **overrides: Any) -> Ticket:
    """A ticket filed through intake an hour before the service's clock and worked to `status`
    by the service's principal (give it one allowed to do the actions), a minute per step."""
    overrides.setdefault("received_at", service.now - timedelta(hours=1))
    ticket = (await service.create(ticket_data(**overrides), None)).ticket
    steps = PATHS[status]
    for step, (action, body) in enumerate(steps, start=1):
        at = service.now - timedelta(minutes=len(steps) - step + 1)
        ticket = await service.load_for(action, str(ticket.id))
        await service.act(ticket, action, body.model_copy(update={"occurred_at": at}))
    assert ticket.status == status, ticket.status
    return ticket
