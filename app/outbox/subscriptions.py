"""Subscriptions (webhook endpoints) and their delivery log: the queries behind the admin API
and CLI. No HTTP here; errors are app.errors exceptions (problem+json at the edge)."""

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict, NotFound, ValidationFailed, field_error
from app.outbox.delivery import park
from app.outbox.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from app.outbox.render import dumps, envelope
from app.outbox.signing import new_secret
from app.outbox.ssrf import RefusedAddress, check_address, check_url_syntax
from app.outbox.types import MESSAGE_TYPES, WEBHOOK_TEST


def check_fields(
    *,
    url: str | None,
    events: list[str] | None,
    units: list[str] | None,
    known_units: set[str],
    allowed: tuple[Any, ...],
) -> None:
    """Raise ValidationFailed naming each bad field, with the accepted values."""
    errors = []
    if url is not None:
        why = check_url_syntax(url) if len(url) <= 2000 else "expected at most 2000 characters"
        if why is None:
            from urllib.parse import urlsplit

            host = urlsplit(url).hostname or ""
            try:
                check_address(host, allowed)
            except ValueError:
                pass  # a name: checked after resolution, on every delivery
            except RefusedAddress as exc:
                why = str(exc)
        if why:
            errors.append(field_error(["body", "url"], why))
    for i, type_ in enumerate(events or []):
        if type_ not in MESSAGE_TYPES:
            errors.append(
                field_error(
                    ["body", "events", i],
                    f"unknown message type '{type_}'",
                    suggestions=list(MESSAGE_TYPES),
                )
            )
    for i, code in enumerate(units or []):
        if code not in known_units:
            errors.append(
                field_error(["body", "units", i], f"unknown unit '{code}'", catalog_list="units")
            )
    if errors:
        raise ValidationFailed(errors)


async def get(session: AsyncSession, endpoint_id: int) -> WebhookEndpoint:
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        raise NotFound(f"No webhook {endpoint_id}; see GET /api/v1/webhooks.")
    return endpoint


async def create(
    session: AsyncSession,
    *,
    url: str,
    events: list[str],
    units: list[str] | None,
    description: str | None,
    actor: str,
    now: datetime,
) -> WebhookEndpoint:
    """A new enabled subscription with a fresh `whsec_` secret (validate with check_fields)."""
    endpoint = WebhookEndpoint(
        url=url,
        events=list(dict.fromkeys(events)),
        units=sorted(set(units)) if units is not None else None,
        description=description,
        secret=new_secret(),
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    return endpoint


async def list_all(session: AsyncSession) -> list[WebhookEndpoint]:
    return list(
        (await session.execute(select(WebhookEndpoint).order_by(WebhookEndpoint.id))).scalars()
    )


async def change(
    session: AsyncSession, endpoint: WebhookEndpoint, changes: dict[str, Any], now: datetime
) -> WebhookEndpoint:
    """Apply url/events/units/description/enabled. Enabling again clears the failure record."""
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("enabled"):
        endpoint.disabled_reason = None
        endpoint.failing_since = None
    elif changes.get("enabled") is False:
        endpoint.disabled_reason = "disabled by an administrator"
        await park(session, endpoint.id)
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def remove(session: AsyncSession, endpoint: WebhookEndpoint) -> None:
    """Delete a subscription with its delivery log.

    The subscription's row is locked first. A fan-out running meanwhile holds it FOR KEY
    SHARE while it queues deliveries, so this waits for that fan-out to commit and then
    deletes what it queued too (deleting first would miss them, and the subscription's delete
    would then break their foreign key); a fan-out starting meanwhile waits for this one and
    no longer finds the subscription."""
    from sqlalchemy import delete

    await session.execute(
        select(WebhookEndpoint.id).where(WebhookEndpoint.id == endpoint.id).with_for_update()
    )
    ids = select(WebhookDelivery.id).where(WebhookDelivery.endpoint_id == endpoint.id)
    await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
    await session.execute(delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id))
    await session.delete(endpoint)
    await session.flush()


async def rotate(
    session: AsyncSession, endpoint: WebhookEndpoint, *, now: datetime, grace: timedelta
) -> WebhookEndpoint:
    """A new secret; the old one still signs (a second signature) for `grace`."""
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + grace
    endpoint.secret = new_secret()
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def queue_test(session: AsyncSession, endpoint: WebhookEndpoint, now: datetime) -> str:
    """Queue a webhook.test message to this endpoint now; returns its webhook-id."""
    if not endpoint.enabled:
        raise Conflict("The webhook is disabled; enable it first (PATCH with enabled: true).")
    message_id = f"msg_test_{uuid.uuid4().hex[:24]}"
    body = dumps(envelope(WEBHOOK_TEST, now, {"webhook_id": endpoint.id}))
    session.add(
        WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=message_id,
            type=WEBHOOK_TEST,
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
    )
    await session.flush()
    return message_id


async def requeue(
    session: AsyncSession,
    endpoint: WebhookEndpoint,
    *,
    now: datetime,
    message_id: str | None = None,
    since: datetime | None = None,
) -> int:
    """Send again, now, one message (by webhook-id) or every message recorded for the
    endpoint since an instant; the same webhook-id and body. Returns how many."""
    if not endpoint.enabled:
        raise Conflict("The webhook is disabled; enable it first (PATCH with enabled: true).")
    where = [WebhookDelivery.endpoint_id == endpoint.id]
    if message_id is not None:
        where.append(WebhookDelivery.message_id == message_id)
    if since is not None:
        where.append(WebhookDelivery.created_at >= since)
    result = await session.execute(
        update(WebhookDelivery)
        .where(*where)
        .values(next_attempt_at=now, failed_at=None)
        .execution_options(synchronize_session=False)
    )
    count = result.rowcount or 0
    if message_id is not None and count == 0:
        raise NotFound(
            f"No message {message_id} for webhook {endpoint.id}; "
            f"see GET /api/v1/webhooks/{endpoint.id}/deliveries."
        )
    return count


def delivery_state(d: WebhookDelivery) -> str:
    if d.delivered_at is not None and d.next_attempt_at is None:
        return "delivered"
    if d.next_attempt_at is not None:
        return "pending"
    if d.failed_at is not None:
        return "failed"
    return "parked"  # the endpoint was disabled: sent again only by a retry or replay


async def deliveries(
    session: AsyncSession, endpoint: WebhookEndpoint, *, before: int | None, limit: int
) -> tuple[list[tuple[WebhookDelivery, list[WebhookAttempt]]], int | None]:
    """A page of the endpoint's messages, newest first, each with its attempts (newest first),
    and the cursor of the next page (None: last page)."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    rows = list(
        (
            await session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit + 1))
        ).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    attempts: dict[int, list[WebhookAttempt]] = {d.id: [] for d in rows}
    if rows:
        for a in (
            await session.execute(
                select(WebhookAttempt)
                .where(WebhookAttempt.delivery_id.in_(list(attempts)))
                .order_by(WebhookAttempt.id.desc())
            )
        ).scalars():
            attempts[a.delivery_id].append(a)
    return [(d, attempts[d.id]) for d in rows], (rows[-1].id if more else None)
