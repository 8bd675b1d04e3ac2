"""Copies of ticket data in the outbox's tables, for app.privacy's erase and retention.

Webhook bodies carry the description, address and event texts (never the caller block, and
the caller's own name, phone and e-mail are blanked in them when built); queued e-mail to
units carries the same, and e-mail to callers carries the caller's address. When a ticket's
caller data or description is anonymised, these copies follow: caller mail is deleted, texts
in bodies are scrubbed or redacted the same way as the ticket's own.
"""

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.models import MailMessage, WebhookDelivery


async def anonymise_copies(
    session: AsyncSession,
    ticket_id: int,
    *,
    scrub: Callable[[Any], Any] | None,
    redact: Callable[[dict[str, Any]], dict[str, Any]] | None,
    notice: str,
) -> None:
    """Apply `scrub` (caller identity → blanks, on any JSON value) and/or `redact` (event
    details → notice) to one ticket's webhook bodies and unit mail; delete its caller mail."""
    if scrub is not None:
        await session.execute(
            delete(MailMessage).where(
                MailMessage.ticket_id == ticket_id, MailMessage.audience == "caller"
            )
        )
    rows = (
        await session.execute(
            select(WebhookDelivery.id, WebhookDelivery.body).where(
                WebhookDelivery.ticket_id == ticket_id
            )
        )
    ).all()
    for delivery_id, body in rows:
        value = orjson.loads(body)
        if scrub is not None:
            value = scrub(value)
        data = value.get("data") or {}
        if redact is not None and "ticket" in data:
            data["ticket"]["description"] = notice
            data["event"]["details"] = redact(data["event"].get("details") or {})
        new = orjson.dumps(value).decode()
        if new != body:
            await session.execute(
                update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(body=new)
            )
    mails = (
        await session.execute(
            select(MailMessage.id, MailMessage.body).where(MailMessage.ticket_id == ticket_id)
        )
    ).all()
    for mail_id, text in mails:
        new_text = scrub(text) if scrub is not None else text
        if redact is not None:
            new_text = notice
        if new_text != text:
            await session.execute(
                update(MailMessage).where(MailMessage.id == mail_id).values(body=new_text)
            )
