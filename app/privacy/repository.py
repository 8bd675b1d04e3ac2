"""Every privacy query: the access log, data-subject requests, a caller's tickets, retention
work lists, and the copies of personal data outside the ticket row."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.open311.models import TicketFeedback
from app.privacy.models import AccessRecord, DataSubjectRequest
from app.tickets.models import IdempotencyKey, Ticket, TicketEvent

TERMINAL = ("closed", "cancelled", "duplicate")
_TERMINAL_SQL = text("ticket.status IN ('closed', 'cancelled', 'duplicate')")


async def append_access(session: AsyncSession, *, row: dict[str, Any]) -> None:
    """Append one access record (in the caller's transaction, on the primary)."""
    await session.execute(insert(AccessRecord), [row])


async def list_access(
    session: AsyncSession,
    *,
    ticket_id: int | None = None,
    actor: str | None = None,
    phone_hash: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AccessRecord]:
    """Access records matching every filter given, newest first."""
    stmt = select(AccessRecord)
    if ticket_id is not None:
        stmt = stmt.where(AccessRecord.ticket_id == ticket_id)
    if actor:
        stmt = stmt.where(AccessRecord.actor == actor)
    if phone_hash:
        stmt = stmt.where(AccessRecord.phone_hash == phone_hash)
    if at_from:
        stmt = stmt.where(AccessRecord.at >= at_from)
    if at_to:
        stmt = stmt.where(AccessRecord.at < at_to)
    if before_id:
        stmt = stmt.where(AccessRecord.id < before_id)
    stmt = stmt.order_by(AccessRecord.id.desc()).limit(limit)
    return list((await session.scalars(stmt)).all())


async def add_request(session: AsyncSession, *, request: DataSubjectRequest) -> None:
    """Record a data-subject request; its id is set."""
    session.add(request)
    await session.flush()


async def list_requests(
    session: AsyncSession, *, open_only: bool = False, limit: int = 200
) -> list[DataSubjectRequest]:
    """Data-subject requests, the soonest due first."""
    stmt = select(DataSubjectRequest)
    if open_only:
        stmt = stmt.where(DataSubjectRequest.completed_at.is_(None))
    stmt = stmt.order_by(DataSubjectRequest.due_at, DataSubjectRequest.id).limit(limit)
    return list((await session.scalars(stmt)).all())


async def tickets_of_caller(
    session: AsyncSession,
    *,
    phones: Sequence[str],
    emails: Sequence[str],
    accounts: Sequence[str] = (),
    for_update: bool = False,
) -> list[Ticket]:
    """Tickets whose caller has one of these phones or e-mails (pseudonyms included), oldest
    first; row-locked when about to anonymise them."""
    conditions = []
    if phones:
        conditions.append(Ticket.caller_phone.in_(phones))
    if emails:
        conditions.append(func.lower(Ticket.caller_email).in_([e.lower() for e in emails]))
    if accounts:  # a citizen app's account id, given through Open311
        conditions.append(Ticket.citizen_account_id.in_(accounts))
    if not conditions:
        return []
    stmt = select(Ticket).where(or_(*conditions)).order_by(Ticket.id)
    if for_update:
        stmt = stmt.with_for_update()
    return list((await session.scalars(stmt)).all())


async def events_of_tickets(
    session: AsyncSession, *, ticket_ids: Sequence[int]
) -> list[TicketEvent]:
    """Every event of these tickets, in the order written."""
    if not ticket_ids:
        return []
    stmt = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id.in_(ticket_ids))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)
    )
    return list((await session.scalars(stmt)).all())


async def set_event_details(session: AsyncSession, *, event_id: int, details: Any) -> None:
    """Replace one event's payload (anonymisation is the only rewrite of history)."""
    await session.execute(
        update(TicketEvent).where(TicketEvent.id == event_id).values(details=details)
    )


async def forget_idempotency_keys(session: AsyncSession, *, ticket_ids: Sequence[int]) -> int:
    """Drop the stored keys (client-chosen, may hold a number) and request hashes of tickets."""
    if not ticket_ids:
        return 0
    result = await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.ticket_id.in_(ticket_ids))
    )
    return result.rowcount


# Per kind of data: the column that marks it done, and what must still be there to do.
RETENTION_KINDS: dict[str, Any] = {
    "caller": (
        Ticket.caller_anonymised_at,
        or_(
            Ticket.caller_name.is_not(None),
            Ticket.caller_phone.is_not(None),
            Ticket.caller_email.is_not(None),
        ),
    ),
    "description": (Ticket.description_redacted_at, None),
    "attachments": (Ticket.attachments_removed_at, None),
}


def _expired(kind: str, cutoff: datetime) -> list[Any]:
    done, pending = RETENTION_KINDS[kind]
    conditions = [
        # Literal, as in the partial indexes ix_ticket_retention_*: a bound list would keep a
        # generic plan (PostgreSQL) from proving that the index applies.
        _TERMINAL_SQL,
        # Counted from the terminal status: the last event is that one or a later note.
        Ticket.last_event_at < cutoff,
        Ticket.legal_hold_at.is_(None),
        done.is_(None),
    ]
    if pending is not None:
        conditions.append(pending)
    return conditions


async def expired_per_year(
    session: AsyncSession, *, kind: str, cutoff: datetime
) -> list[tuple[int, int]]:
    """(year received, tickets) whose `kind` of data expired before `cutoff`: the dry run."""
    rows = (
        await session.execute(
            select(Ticket.received_at).where(*_expired(kind, cutoff)).order_by(Ticket.received_at)
        )
    ).all()
    from app.timefmt import LOCAL_TZ

    years: dict[int, int] = {}
    for (received_at,) in rows:
        year = received_at.astimezone(LOCAL_TZ).year
        years[year] = years.get(year, 0) + 1
    return sorted(years.items())


async def claim_expired(
    session: AsyncSession, *, kind: str, cutoff: datetime, limit: int
) -> list[Ticket]:
    """A batch of tickets whose `kind` expired, row-locked; rows another instance holds are
    skipped (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has a single writer)."""
    stmt = (
        select(Ticket)
        .where(*_expired(kind, cutoff))
        .order_by(Ticket.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.scalars(stmt)).all())


async def feedback_of_tickets(
    session: AsyncSession, *, ticket_ids: Sequence[int]
) -> list[TicketFeedback]:
    """Citizens' feedback on these tickets (its comment is their own words)."""
    if not ticket_ids:
        return []
    stmt = select(TicketFeedback).where(TicketFeedback.ticket_id.in_(ticket_ids))
    return list((await session.scalars(stmt)).all())
