"""Anonymise tickets in place, with every copy of their personal data: the caller columns,
free text (description, address), event payloads, search text and stored idempotency keys.

Used by retention (pseudonyms: repeat callers still count) and by erasure (blanked). Flushes
only; the caller commits. Assignments, times, units, topics and areas are never touched, so
reports and SLA figures stay the same.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.copies import anonymise_copies
from app.privacy import repository as repo
from app.privacy.keys import PrivacyKeys, is_pseudonym
from app.privacy.scrub import Identity, Scrubber
from app.search.text import ticket_search_text
from app.text import fold
from app.tickets.models import Ticket

DESCRIPTION_REDACTED = "[Nội dung đã xoá hết thời hạn lưu trữ]"
# Event payload keys that hold someone's own words.
FREE_TEXT = ("text", "resolution", "question", "reason", "comment")


def identity_of(tickets: Iterable[Ticket], extra: Identity = Identity()) -> Identity:
    """Everything that identifies the callers of these tickets (pseudonyms left out)."""
    tickets = list(tickets)

    def real(values: Iterable[str | None]) -> tuple[str, ...]:
        return tuple(sorted({v for v in values if v and not is_pseudonym(v)}))

    return Identity(
        phones=real([*extra.phones, *(t.caller_phone for t in tickets)]),
        emails=real([*extra.emails, *(t.caller_email for t in tickets)]),
        names=real([*extra.names, *(t.caller_name for t in tickets)]),
    )


def _redact_free_text(details: dict[str, Any]) -> dict[str, Any]:
    out = {k: (DESCRIPTION_REDACTED if k in FREE_TEXT and v else v) for k, v in details.items()}
    changes = out.get("changes")
    if isinstance(changes, dict) and "description" in changes:
        out["changes"] = {**changes, "description": [DESCRIPTION_REDACTED] * 2}
    return out


async def anonymise(
    session: AsyncSession,
    tickets: Sequence[Ticket],
    *,
    kinds: frozenset[str],
    now: datetime,
    keys: PrivacyKeys | None,
    identity: Identity = Identity(),
) -> None:
    """Anonymise `kinds` (caller, description, attachments) of each ticket.

    caller: name, phone and e-mail become pseudonyms when `keys` is given (retention), else
    nothing (erasure); the person's number, e-mail and name are blanked in the description,
    address and every event payload; the ticket's idempotency keys are forgotten.
    description: the description and the free text of events are replaced by a notice.
    attachments: the list of URLs is emptied.
    `identity` adds what else identifies the person (an erasure's phone and e-mail as given).
    """
    if not tickets:
        return
    ids = [t.id for t in tickets]
    events = await repo.events_of_tickets(session, ticket_ids=ids)
    by_ticket: dict[int, list[Any]] = {}
    for event in events:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    comments: dict[int, list[Any]] = {}
    for row in await repo.feedback_of_tickets(session, ticket_ids=ids):
        comments.setdefault(row.ticket_id, []).append(row)
    for ticket in tickets:
        scrubber = Scrubber.of(identity_of([ticket], identity)) if "caller" in kinds else None
        if scrubber is not None:
            _anonymise_caller(ticket, keys)
            ticket.description = scrubber.text(ticket.description)
            ticket.address = scrubber.text(ticket.address) if ticket.address else ticket.address
            ticket.attachments = scrubber.json(ticket.attachments)
            ticket.caller_anonymised_at = now
        if "description" in kinds:
            ticket.description = DESCRIPTION_REDACTED
            ticket.description_redacted_at = now
        if "attachments" in kinds:
            ticket.attachments = []
            ticket.attachments_removed_at = now
        ticket.search_text = ticket_search_text(ticket)
        ticket.version += 1
        ticket.updated_at = now
        for feedback in comments.get(ticket.id, []):  # citizens' words after a resolution
            if feedback.comment and scrubber is not None:
                feedback.comment = scrubber.text(feedback.comment)
            if feedback.comment and "description" in kinds:
                feedback.comment = DESCRIPTION_REDACTED
        await anonymise_copies(
            session,
            ticket.id,
            scrub=scrubber.json if scrubber is not None else None,
            redact=_redact_free_text if "description" in kinds else None,
            notice=DESCRIPTION_REDACTED,
        )
        for event in by_ticket.get(ticket.id, []):
            details = event.details or {}
            new = scrubber.json(details) if scrubber is not None else details
            if "description" in kinds:
                new = _redact_free_text(new)
            if new != details:
                await repo.set_event_details(session, event_id=event.id, details=new)
    if "caller" in kinds:
        await repo.forget_idempotency_keys(session, ticket_ids=ids)
    await session.flush()


def _anonymise_caller(ticket: Ticket, keys: PrivacyKeys | None) -> None:
    def stand_in(value: str | None, kind: str) -> str | None:
        if value is None or keys is None:
            return None
        if is_pseudonym(value):
            return value
        # A name by its folded form: "Nguyễn Văn An" and "nguyen van an" are one person.
        return keys.pseudonym(fold(value) if kind == "name" else value, kind)

    ticket.caller_name = stand_in(ticket.caller_name, "name")
    ticket.caller_phone = stand_in(ticket.caller_phone, "phone")
    ticket.caller_email = stand_in(ticket.caller_email, "email")
    # A citizen app's ids for its user (Open311) identify them as well: gone, not pseudonymised
    # (no report counts by them).
    ticket.citizen_account_id = None
    ticket.citizen_device_id = None
