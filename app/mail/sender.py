"""Sending queued mail over SMTP (aiosmtplib), with the webhook relay's claims and retries.

Due rows are claimed like deliveries (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL), so
several instances never send one mail twice and a crash mid-send resends after the lease.
A unit on a digest gets its due rows gathered into one mail per address.
"""

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

import aiosmtplib
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.catalog import Catalog
from app.db import transaction
from app.mail.compose import Mail, digest
from app.outbox.delivery import lease_due, next_delay
from app.outbox.models import MailMessage


def first_send_at(mail: Mail, catalog: Catalog, now: datetime) -> datetime:
    """Now, or for a unit on a digest every N minutes the next N-minute boundary."""
    unit = catalog.units.get(mail.unit_code or "")
    if not mail.digest or unit is None or unit.mail_digest_minutes <= 0:
        return now
    step = unit.mail_digest_minutes * 60
    return datetime.fromtimestamp(math.ceil(now.timestamp() / step) * step, tz=now.tzinfo)


def rows_for(
    mails: list[Mail], catalog: Catalog, ticket_id: int, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "audience": m.audience,
            "unit_code": m.unit_code,
            "ticket_id": ticket_id,
            "recipient": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "digest": m.digest,
            "created_at": now,
            "next_attempt_at": first_send_at(m, catalog, now),
            "attempts": 0,
        }
        for m in mails
    ]


async def _claim(session: AsyncSession, now: datetime, batch: int) -> list[Any]:
    m = MailMessage
    statement = lease_due(
        m, now, batch, session.bind.dialect.name,
        m.id, m.unit_code, m.recipient, m.subject, m.body, m.digest, m.attempts,
    )  # fmt: skip
    return (await session.execute(statement)).all()


async def send_due(
    factory: async_sessionmaker[AsyncSession],
    settings: Any,
    catalog: Catalog,
    now: datetime,
    rng: random.Random,
    batch: int = 100,
) -> int:
    """Send one batch of due mail; returns how many rows were claimed."""
    async with transaction(factory) as session:
        rows = await _claim(session, now, batch)
    if not rows:
        return 0
    groups: dict[Any, list[Any]] = defaultdict(list)
    for row in rows:
        groups[(row.unit_code, row.recipient) if row.digest else row.id].append(row)
    results: list[tuple[list[Any], str | None]] = []
    for group in groups.values():
        if len(group) == 1:
            subject, body = group[0].subject, group[0].body
        else:
            unit = catalog.units.get(group[0].unit_code or "")
            subject, body = digest(unit.name if unit else "", [(r.subject, r.body) for r in group])
        results.append((group, await _send(settings, group[0].recipient, subject, body)))
    async with transaction(factory) as session:
        for group, error in results:
            for row in group:
                if error is None:
                    values: dict[str, Any] = {
                        "next_attempt_at": None,
                        "sent_at": now,
                        "error": None,
                    }
                else:
                    delay = next_delay(row.attempts, None, rng)
                    values = {"error": error[:500]}
                    if delay is None:
                        values |= {"next_attempt_at": None, "failed_at": now}
                    else:
                        values["next_attempt_at"] = now + timedelta(seconds=delay)
                await session.execute(
                    update(MailMessage).where(MailMessage.id == row.id).values(**values)
                )
    return len(rows)


async def _send(settings: Any, recipient: str, subject: str, body: str) -> str | None:
    """Send one mail; None on success, else what went wrong."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(body)  # UTF-8 text
    try:
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=settings.smtp_password,
            use_tls=settings.smtp_tls == "tls",
            start_tls=settings.smtp_tls == "starttls",
            timeout=settings.webhook_timeout_seconds,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
