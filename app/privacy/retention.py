"""Retention: anonymise what has been kept as long as allowed. Safe in every instance at once.

Each kind of data (caller identity, description, attachments' URLs) has its own period in
days, counted from the ticket's terminal status (closed, cancelled, duplicate; in practice from
its last event, which is that one or a later note, so never early); None keeps it. Tickets
under legal hold are skipped until the hold is lifted. Each batch is one transaction that
claims its rows with FOR UPDATE SKIP LOCKED (another instance takes the next rows) and marks
them done, so a second run, or a concurrent one, finds nothing left to do.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import transaction
from app.privacy import repository as repo
from app.privacy.access_log import AccessLog
from app.privacy.anonymise import anonymise
from app.privacy.keys import PrivacyKeys

KINDS = ("caller", "description", "attachments")


@dataclass(frozen=True)
class RetentionPolicy:
    """Days to keep each kind after a ticket ends; None keeps it (the default for all)."""

    caller_days: int | None = None
    description_days: int | None = None
    attachments_days: int | None = None

    @property
    def enabled(self) -> bool:
        return any(
            d is not None for d in (self.caller_days, self.description_days, self.attachments_days)
        )

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """Per kind with a period: tickets whose last event is before this instant expired."""
        days = {
            "caller": self.caller_days,
            "description": self.description_days,
            "attachments": self.attachments_days,
        }
        return {kind: now - timedelta(days=d) for kind, d in days.items() if d is not None}


async def dry_run(
    session: AsyncSession, policy: RetentionPolicy, now: datetime
) -> dict[str, list[tuple[int, int]]]:
    """Per kind: (year received, tickets) that a run at `now` would anonymise. Writes nothing."""
    return {
        kind: await repo.expired_per_year(session, kind=kind, cutoff=cutoff)
        for kind, cutoff in policy.cutoffs(now).items()
    }


async def run(
    factory: async_sessionmaker[AsyncSession],
    *,
    policy: RetentionPolicy,
    keys: PrivacyKeys,
    now: datetime,
    batch: int = 200,
    route: str = "job: retention",
    actor: str = "retention",
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Anonymise every expired kind of data, a batch per transaction, one access record per
    batch; the number of tickets done per kind. Names, phones and e-mails become pseudonyms
    (keys.pseudonym), so repeat callers stay countable until the pseudonym key is destroyed."""
    done = dict.fromkeys(policy.cutoffs(now), 0)
    for kind, cutoff in policy.cutoffs(now).items():
        while True:
            async with transaction(factory) as session:
                tickets = await repo.claim_expired(session, kind=kind, cutoff=cutoff, limit=batch)
                if not tickets:
                    break
                await anonymise(session, tickets, kinds=frozenset({kind}), now=now, keys=keys)
                log = AccessLog(session, keys, actor, "system", now)
                await log.record(
                    "retention",
                    route,
                    reason=f"{kind} kept past its retention period (until {cutoff.isoformat()})",
                    details={"kind": kind, "tickets": [t.id for t in tickets]},
                )
            done[kind] += len(tickets)
            if progress is not None:
                progress(kind, done[kind])
            if len(tickets) < batch:
                break
    return done
