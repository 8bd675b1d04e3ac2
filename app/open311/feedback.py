"""Citizen follow-up after a resolution: was it fixed (yes / no / partly), a 1-5 rating, their
words. One answer per resolution; "no" reopens the ticket for the unit that resolved it, with the
citizen's words as the reason (a new assignment, as reopen does). Flushes only; speaks no HTTP.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import Conflict
from app.open311 import repository as repo
from app.open311.models import TicketFeedback
from app.tickets.models import Ticket, TicketEvent
from app.tickets.schemas import ReasonIn, Text
from app.tickets.service import TicketService

DEFAULT_REASON = "Người dân phản hồi: chưa được khắc phục"


class Fixed(StrEnum):
    YES = "yes"
    NO = "no"
    PARTLY = "partly"


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fixed: Fixed = Field(description="Was the problem really fixed: yes, no or partly")
    rating: int | None = Field(default=None, ge=1, le=5, description="1 (poor) to 5 (good)")
    comment: Annotated[Text | None, Field(max_length=2000)] = None


class FeedbackRead(BaseModel):
    reference: str
    fixed: Fixed
    rating: int | None
    reopened: bool
    status: str


@dataclass
class FeedbackService:
    tickets: TicketService

    async def record(self, ticket: Ticket, data: FeedbackIn, channel: str) -> FeedbackRead:
        """Record the answer to the ticket's latest resolution; 409 when the ticket is not
        resolved (nothing to answer) or this resolution was answered already."""
        session = self.tickets.session
        if ticket.status != "resolved":
            raise Conflict(f"The ticket is {ticket.status}; feedback is taken once it is resolved.")
        latest = (await repo.latest_assignments(session, ticket_ids=[ticket.id])).get(ticket.id)
        if latest is None or latest.outcome != "resolved":
            raise Conflict("The ticket has no resolution to give feedback on.")
        if await repo.feedback_of(session, assignment_id=latest.id) is not None:
            raise Conflict("This resolution already has its feedback (one per resolution).")
        now = self.tickets.now
        row = TicketFeedback(
            ticket_id=ticket.id,
            assignment_id=latest.id,
            unit_code=latest.unit_code,
            fixed=data.fixed.value,
            rating=data.rating,
            comment=data.comment,
            channel=channel,
            recorded_by=self.tickets.actor,
            recorded_at=now,
        )
        try:
            async with session.begin_nested():
                session.add(row)
                await session.flush()
        except IntegrityError as exc:  # a concurrent answer to the same resolution won
            raise Conflict(
                "This resolution already has its feedback (one per resolution)."
            ) from exc
        at = max(now, ticket.last_event_at)
        details = {"fixed": data.fixed.value, "rating": data.rating, "comment": data.comment}
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                assignment_id=latest.id,
                kind="feedback",
                occurred_at=at,
                recorded_at=now,
                actor=self.tickets.actor,
                details={**details, "channel": channel},
            )
        )
        if data.fixed is Fixed.NO:
            await self.tickets.act(
                ticket, "reopen", ReasonIn(reason=data.comment or DEFAULT_REASON)
            )
        else:
            ticket.version += 1
            ticket.updated_at = now
            await session.flush()
        return FeedbackRead(
            reference=self.tickets.reference(ticket),
            fixed=data.fixed,
            rating=data.rating,
            reopened=data.fixed is Fixed.NO,
            status=ticket.status,
        )


async def close_unanswered(
    session: AsyncSession, *, now: datetime, after: timedelta, limit: int = 200
) -> int:
    """Close resolved tickets whose resolution got no feedback within `after`, each with an
    `auto_closed` event; the number closed. Safe in every instance at once: candidates are
    row-locked with SKIP LOCKED and checked again under the lock."""
    closed = 0
    for ticket, assignment_id in await repo.unanswered_resolutions(
        session, resolved_before=now - after, limit=limit
    ):
        ticket.status = "closed"
        ticket.version += 1
        ticket.updated_at = now
        ticket.last_event_at = max(ticket.last_event_at, now)
        session.add(
            TicketEvent(
                ticket_id=ticket.id,
                assignment_id=assignment_id,
                kind="auto_closed",
                occurred_at=now,
                recorded_at=now,
                actor="followup",
                details={"after_days": after / timedelta(days=1)},
            )
        )
        closed += 1
    await session.flush()
    return closed


def feedback_details(row: TicketFeedback) -> dict[str, Any]:
    return {"fixed": row.fixed, "rating": row.rating, "comment": row.comment}
