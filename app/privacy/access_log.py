"""Writing and reading the access log: who saw or changed whose personal data, and why."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.privacy import repository as repo
from app.privacy.keys import PrivacyKeys
from app.privacy.models import AccessRecord


@dataclass(frozen=True)
class AccessLog:
    """Appends records for one actor in one transaction (a request's, so on the primary)."""

    session: AsyncSession
    keys: PrivacyKeys
    actor: str
    role: str
    now: datetime

    async def record(
        self,
        action: str,
        route: str,
        *,
        ticket_id: int | None = None,
        reason: str | None = None,
        phone: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append one record. `phone` (E.164) is kept only as its keyed hash.

        action: reveal, caller_history, export, erasure, retention, legal_hold,
        legal_hold_lifted. route: what was called, e.g. "POST /api/v1/callers/erase" or
        "cli: hotline callers erase".
        """
        await repo.append_access(
            self.session,
            row={
                "at": self.now,
                "actor": self.actor,
                "role": self.role,
                "action": action,
                "route": route[:200],
                "ticket_id": ticket_id,
                "reason": reason,
                "phone_hash": self.keys.audit_hash(phone) if phone else None,
                "details": details or {},
            },
        )


async def search(
    session: AsyncSession,
    keys: PrivacyKeys,
    *,
    ticket_id: int | None = None,
    actor: str | None = None,
    phone: str | None = None,
    at_from: datetime | None = None,
    at_to: datetime | None = None,
    limit: int = 100,
    before_id: int | None = None,
) -> list[AccessRecord]:
    """Records matching every filter, newest first; `phone` (E.164) is matched by its hash."""
    return await repo.list_access(
        session,
        ticket_id=ticket_id,
        actor=actor,
        phone_hash=keys.audit_hash(phone) if phone else None,
        at_from=at_from,
        at_to=at_to,
        limit=limit,
        before_id=before_id,
    )
