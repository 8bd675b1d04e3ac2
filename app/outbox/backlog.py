"""How far behind the outbox is, for the metrics (app.periodic counts it in the leader only).

Three stages, each with a partial index of its pending rows, so that every query here reads
the backlog and never the delivered history:

- `fanout`: outbox rows not yet fanned out (ix_outbox_message_pending);
- `webhook`: deliveries with an attempt still to make (ix_webhook_delivery_due);
- `mail`: e-mail still to send (ix_mail_message_due).

The age of a stage is how long its oldest item has waited past the moment it could have gone:
for the fan-out since it was written, for a delivery or an e-mail since its attempt fell due
(a retry scheduled for in five hours is pending, not late). Counts stop at COUNT_CAP so that a
huge backlog never makes the count itself slow.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.outbox.models import MailMessage, OutboxMessage, WebhookDelivery, WebhookEndpoint

STAGES = ("fanout", "webhook", "mail")
# A count stops here: past it, the alert has long fired and the exact figure does not matter.
COUNT_CAP = 100_000


@dataclass(frozen=True)
class Backlog:
    """pending: stage -> items still to do (at most COUNT_CAP); age: stage -> seconds the
    oldest has waited past its due time (0.0 when none is late); disabled_endpoints: webhook
    endpoints switched off (by 410, by failing too long, or by an administrator)."""

    pending: dict[str, int]
    age: dict[str, float]
    disabled_endpoints: int


async def _capped_count(session: AsyncSession, pending: object) -> int:
    rows = select(func.count()).select_from(pending.limit(COUNT_CAP).subquery())  # type: ignore[attr-defined]
    return int((await session.execute(rows)).scalar_one())


def _seconds_late(now: datetime, since: datetime | None) -> float:
    if since is None:
        return 0.0
    return max(0.0, (now - since).total_seconds())


async def measure(session: AsyncSession, *, now: datetime) -> Backlog:
    """The outbox's backlog at `now` (UTC-aware). Six small queries, each on a partial index
    (or the endpoint table, one row per subscription); raises what the database raises."""
    m, d, mail = OutboxMessage, WebhookDelivery, MailMessage
    fanout = select(m.id).where(m.dispatched_at.is_(None))
    webhook = select(d.id).where(d.next_attempt_at.is_not(None))
    mails = select(mail.id).where(mail.next_attempt_at.is_not(None))
    oldest_written = (
        await session.execute(
            select(m.created_at).where(m.dispatched_at.is_(None)).order_by(m.id).limit(1)
        )
    ).scalar_one_or_none()
    first_due = {}
    for stage, model in (("webhook", d), ("mail", mail)):
        first_due[stage] = (
            await session.execute(
                select(model.next_attempt_at)
                .where(model.next_attempt_at.is_not(None))
                .order_by(model.next_attempt_at)
                .limit(1)
            )
        ).scalar_one_or_none()
    disabled = (
        await session.execute(
            select(func.count())
            .select_from(WebhookEndpoint)
            .where(WebhookEndpoint.enabled.is_(False))
        )
    ).scalar_one()
    return Backlog(
        pending={
            "fanout": await _capped_count(session, fanout),
            "webhook": await _capped_count(session, webhook),
            "mail": await _capped_count(session, mails),
        },
        age={
            "fanout": _seconds_late(now, oldest_written),
            "webhook": _seconds_late(now, first_due["webhook"]),
            "mail": _seconds_late(now, first_due["mail"]),
        },
        disabled_endpoints=int(disabled),
    )


def attempt_outcome(status: int | None, error: str | None) -> str:
    """The `outcome` label of one webhook attempt: `delivered` (2xx), `redirect` (3xx, a
    failure: redirects are not followed), `client_error` (4xx), `server_error` (5xx),
    `timeout`, `refused` (a private address not allowed, app.outbox.ssrf) or
    `connection_error` (no HTTP answer). `error` is the relay's text for a failed attempt."""
    if status is not None:
        if 200 <= status < 300:
            return "delivered"
        return {3: "redirect", 4: "client_error", 5: "server_error"}.get(
            status // 100, "server_error"
        )
    if error == "timed out":
        return "timeout"
    if error and error.startswith("refused:"):
        return "refused"
    return "connection_error"


ATTEMPT_OUTCOMES = (
    "delivered",
    "redirect",
    "client_error",
    "server_error",
    "timeout",
    "refused",
    "connection_error",
)
