"""Delivery bookkeeping: claiming due deliveries, and recording what each attempt did.

A claim pushes the delivery's next attempt one lease ahead and counts the attempt, in a short
transaction of its own (`FOR UPDATE SKIP LOCKED` on PostgreSQL), before any request is sent: two
relays never claim one attempt, and a relay killed mid-request leaves a delivery that another
claims again when the lease runs out (at least once; receivers dedupe on webhook-id).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

# Seconds to wait before attempt n+1 (n = attempts made), the Standard Webhooks schedule:
# at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h; then the message is abandoned.
SCHEDULE = (0, 5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
LEASE = timedelta(seconds=60)
# An endpoint whose last attempt failed is *held*: none of its messages is due again before
# now + its hold, which is how long it has been failing, between these bounds. So a dead
# receiver with a backlog gets one probe every 5 s at first, every 5 min after 5 min, not
# its whole backlog again and again (it once cut intake to a quarter, docs/performance.md).
HOLD_MIN = timedelta(seconds=5)
HOLD_MAX = timedelta(minutes=5)

_SETTLE = (
    update(WebhookDelivery.__table__)
    .where(WebhookDelivery.__table__.c.id == bindparam("b_id"))
    .values(
        next_attempt_at=bindparam("b_next"),
        delivered_at=func.coalesce(
            bindparam("b_delivered"), WebhookDelivery.__table__.c.delivered_at
        ),
        failed_at=func.coalesce(bindparam("b_failed"), WebhookDelivery.__table__.c.failed_at),
    )
)


# A skipped delivery: its claim's attempt uncounted, due again after its endpoint's hold.
_UNSKIP = (
    update(WebhookDelivery.__table__)
    .where(WebhookDelivery.__table__.c.id == bindparam("b_id"))
    .values(
        next_attempt_at=bindparam("b_next"),
        attempts=WebhookDelivery.__table__.c.attempts - 1,
    )
)


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    endpoint_id: int
    message_id: str
    body: str
    attempts: int
    url: str
    secrets: list[str]
    # The endpoint's last attempt failed (failing_since set): the relay probes it with one
    # request before sending it the rest of the batch.
    failing: bool = False


# 4xx answers that say the endpoint is failing, not the message: our signature or access
# refused (401, 403), a wrong URL (404, 405), the receiver slow or overloaded (408, 429), gone
# (410). Any other 4xx (400, 409, 413, 422, ...) judges that one message: it is retried on its
# own schedule while the endpoint gets the rest.
ENDPOINT_4XX = frozenset({401, 403, 404, 405, 408, 410, 429})


@dataclass(frozen=True)
class Outcome:
    claimed: Claimed
    at: datetime
    status: int | None
    latency_ms: int
    error: str | None
    retry_after: float | None = None
    # Not sent: its endpoint failed earlier in the batch. No attempt is recorded; the delivery
    # waits for the endpoint's hold with its attempt count unchanged.
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def endpoint_down(self) -> bool:
        """Whether the attempt says the endpoint is failing (held, probed, disabled in time):
        no answer, a redirect, a 5xx, or a 4xx in ENDPOINT_4XX. False for a success and for a
        4xx about the message alone."""
        if self.ok:
            return False
        status = self.status
        return status is None or not 400 <= status < 500 or status in ENDPOINT_4XX


def hold(failing_since: datetime | None, now: datetime) -> timedelta | None:
    """How long a failing endpoint's messages wait before the next probe (None: not failing):
    as long as it has been failing, within HOLD_MIN..HOLD_MAX."""
    if failing_since is None:
        return None
    return min(HOLD_MAX, max(HOLD_MIN, now - failing_since))


def next_due(endpoint: WebhookEndpoint, now: datetime) -> datetime | None:
    """When a new message to `endpoint` is first due: now, or after a failing endpoint's hold;
    None for a disabled endpoint (parked)."""
    if not endpoint.enabled:
        return None
    held = hold(endpoint.failing_since, now)
    return now if held is None else now + held


def next_delay(attempts: int, retry_after: float | None, rng: random.Random) -> float | None:
    """Seconds until the next attempt after `attempts` failed ones (None: give up). ±10 %
    jitter spreads retries of many messages; a receiver's Retry-After is honoured (never
    sooner than it asks)."""
    if attempts >= len(SCHEDULE):
        return None
    delay = SCHEDULE[attempts] * rng.uniform(0.9, 1.1)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def lease_due(model: Any, now: datetime, batch: int, dialect: str, *returning: Any) -> Any:
    """UPDATE … RETURNING that claims up to `batch` due rows of `model` (a table with
    `next_attempt_at` and `attempts`): the next attempt pushed one lease ahead, the attempt
    counted. SKIP LOCKED on PostgreSQL; the due condition is checked again under the lock."""
    due = (
        select(model.id)
        .where(model.next_attempt_at <= now)
        .order_by(model.next_attempt_at)
        .limit(batch)
    )
    if dialect == "postgresql":
        due = due.with_for_update(skip_locked=True)
    return (
        update(model)
        .where(model.id.in_(due.scalar_subquery()), model.next_attempt_at <= now)
        .values(next_attempt_at=now + LEASE, attempts=model.attempts + 1)
        .returning(*returning)
        .execution_options(synchronize_session=False)
    )


async def park(session: AsyncSession, endpoint_id: int) -> None:
    """Nothing more goes to a disabled endpoint; its pending messages stay for a replay."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.next_attempt_at.is_not(None),
        )
        .values(next_attempt_at=None)
    )


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The secrets that sign a request now: the endpoint's, and after a rotation the previous
    one until its grace period ends."""
    secrets = [endpoint.secret]
    if endpoint.previous_secret and (endpoint.previous_secret_until or now) > now:
        secrets.append(endpoint.previous_secret)
    return secrets


async def claim(session: AsyncSession, *, now: datetime, batch: int) -> list[Claimed]:
    """Claim up to `batch` due deliveries of enabled endpoints (the caller commits at once)."""
    d = WebhookDelivery
    statement = lease_due(
        d,
        now,
        batch,
        session.bind.dialect.name,
        d.id,
        d.endpoint_id,
        d.message_id,
        d.body,
        d.attempts,
    )
    rows = (await session.execute(statement)).all()
    if not rows:
        return []
    endpoints = {
        e.id: e
        for e in (
            await session.execute(
                select(WebhookEndpoint).where(WebhookEndpoint.id.in_({r[1] for r in rows}))
            )
        ).scalars()
    }
    claimed = []
    for delivery_id, endpoint_id, message_id, body, attempts in rows:
        endpoint = endpoints[endpoint_id]
        claimed.append(
            Claimed(
                delivery_id,
                endpoint_id,
                message_id,
                body,
                attempts,
                endpoint.url,
                signing_secrets(endpoint, now),
                failing=endpoint.failing_since is not None,
            )
        )
    return claimed


async def record(
    session: AsyncSession,
    outcomes: list[Outcome],
    *,
    now: datetime,
    disable_after: timedelta,
    rng: random.Random,
) -> list[tuple[int, str]]:
    """Write each attempt and settle its delivery and endpoint; returns the endpoints disabled
    now, with why (410 Gone, or failing for `disable_after`). Outcomes of deliveries deleted
    meanwhile (their subscription removed) are dropped."""
    if not outcomes:
        return []
    # Locks (FOR NO KEY UPDATE: the rows are updated below) in the order subscriptions.remove
    # takes them, the subscription then its deliveries, so that the two never deadlock. A
    # subscription deleted while its messages
    # were in flight took their deliveries with it: nothing to record for those.
    endpoints = {
        e.id: e
        for e in (
            await session.execute(
                select(WebhookEndpoint)
                .where(WebhookEndpoint.id.in_({o.claimed.endpoint_id for o in outcomes}))
                .order_by(WebhookEndpoint.id)
                .with_for_update(key_share=True)  # FOR NO KEY UPDATE
            )
        ).scalars()
    }
    alive = set(
        (
            await session.execute(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.id.in_({o.claimed.delivery_id for o in outcomes}))
                .with_for_update(key_share=True)
            )
        ).scalars()
    )
    outcomes = [
        o for o in outcomes if o.claimed.delivery_id in alive and o.claimed.endpoint_id in endpoints
    ]
    if not outcomes:
        return []
    skipped = [o for o in outcomes if o.skipped]
    outcomes = [o for o in outcomes if not o.skipped]
    connection = await session.connection()
    if outcomes:
        # Core executemany: no ORM object per attempt (a batch is up to 200).
        await connection.execute(
            insert(WebhookAttempt),
            [
                {
                    "delivery_id": o.claimed.delivery_id,
                    "at": o.at,
                    "status": o.status,
                    "latency_ms": o.latency_ms,
                    "error": o.error,
                }
                for o in outcomes
            ],
        )
    disabled: list[tuple[int, str]] = []
    settled: list[dict[str, object]] = []
    # Endpoints that answered: a success, or a 4xx about one message (the endpoint is up).
    answered = {o.claimed.endpoint_id for o in outcomes if not o.endpoint_down}
    for o in outcomes:
        endpoint = endpoints[o.claimed.endpoint_id]
        row: dict[str, object] = {
            "b_id": o.claimed.delivery_id,
            "b_next": None,
            "b_delivered": None,
            "b_failed": None,
        }
        if o.ok:
            row["b_delivered"] = now
        else:
            delay = next_delay(o.claimed.attempts, o.retry_after, rng)
            if delay is None:
                row["b_failed"] = now
            else:
                row["b_next"] = now + timedelta(seconds=delay)
        if not o.endpoint_down:
            endpoint.failing_since = None
        else:
            endpoint.failing_since = endpoint.failing_since or o.at
            reason = None
            if o.status == 410:
                reason = "the receiver answered 410 Gone"
            elif now - endpoint.failing_since >= disable_after:
                reason = f"failing since {endpoint.failing_since.isoformat()}"
            if reason and endpoint.enabled:
                endpoint.enabled = False
                endpoint.disabled_reason = reason
                endpoint.updated_at = now
                disabled.append((endpoint.id, reason))
        settled.append(row)
    # One executemany for the batch rather than a statement per delivery.
    if settled:
        await connection.execute(_SETTLE, settled)
    if skipped:
        await connection.execute(
            _UNSKIP,
            [
                {
                    "b_id": o.claimed.delivery_id,
                    "b_next": now
                    + (hold(endpoints[o.claimed.endpoint_id].failing_since, now) or HOLD_MIN),
                }
                for o in skipped
            ],
        )
    # An endpoint that failed in this batch and never succeeded in it is held: nothing of its
    # backlog is due before its next probe (one statement, on the index of pending rows).
    for endpoint in endpoints.values():
        held = hold(endpoint.failing_since, now)
        if held is not None and endpoint.enabled and endpoint.id not in answered:
            await postpone(session, endpoint.id, now + held)
    for endpoint_id, _ in disabled:
        await park(session, endpoint_id)
    await session.flush()
    return disabled


async def postpone(session: AsyncSession, endpoint_id: int, until: datetime) -> None:
    """Nothing of the endpoint's pending messages is due before `until` (later ones keep their
    time; delivered, failed and parked ones are untouched)."""
    await session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint_id,
            WebhookDelivery.next_attempt_at.is_not(None),
            WebhookDelivery.next_attempt_at < until,
        )
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
