"""What every ticket operation of one request shares: its session, clock, caller and catalog.

The ticket modules (intake, actions, corrections, queries, presenter) are functions over a
`TicketContext`; `app.tickets.service.TicketService` is that context with the functions as
methods, for the API, the console, Open311 and the demo generator.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.catalog import Catalog
from app.privacy.keys import PrivacyKeys
from app.routing.schema import Router
from app.tickets.assignment_clock import SlaKeeper, event_row
from app.tickets.models import Ticket, TicketEvent
from app.timefmt import LOCAL_TZ
from app.users.principal import Principal

REFERENCE = re.compile(r"^([A-Za-z]+)-(\d{4})-(\d+)$")


@dataclass
class TicketContext:
    """One request's view of the tickets. Writes are flushed, never committed: the caller
    (the request, the CLI) owns the transaction."""

    session: AsyncSession
    catalog: Catalog
    router: Router
    now: datetime  # UTC, read once when the request began
    principal: Principal
    sla: SlaKeeper
    reference_prefix: str = "HN"
    # How far in the future a client's clock may run: later instants are refused, nearer ones
    # taken as now.
    clock_skew: timedelta = timedelta(seconds=60)
    # Keyed hashes: caller-history lookups also find callers anonymised by retention.
    privacy: PrivacyKeys | None = None
    # The ticket this request filed: its filer sees the caller they typed in (app.privacy.masking).
    own_intake_id: int | None = None

    @property
    def actor(self) -> str:
        """Who events name as having acted: the username, or `apikey:<name>`."""
        return self.principal.username

    def reference(self, ticket: Ticket) -> str:
        """The public reference, e.g. HN-2026-000123: the year it was received in Hà Nội."""
        year = ticket.received_at.astimezone(LOCAL_TZ).year
        return f"{self.reference_prefix}-{year}-{ticket.id:06d}"

    def parse_reference(self, text: str) -> int | None:
        """The ticket id in a reference (any prefix and year; the caller checks them), or None."""
        match = REFERENCE.match(text.strip())
        return int(match.group(3)) if match else None

    def event_row(
        self,
        ticket_id: int,
        kind: str,
        at: datetime,
        assignment_id: int | object | None,  # or intake_pg.NEW_ASSIGNMENT at intake
        details: dict[str, Any],
    ) -> dict[str, Any]:
        """A ticket_event row recorded now by this actor (details without None values)."""
        return event_row(ticket_id, assignment_id, kind, at, self.now, self.actor, details)

    def record_event(
        self,
        ticket: Ticket,
        kind: str,
        at: datetime,
        assignment_id: int | None,
        details: dict[str, Any],
    ) -> None:
        """Add an event to the ticket's history (written at the next flush, with its outbox row)."""
        self.session.add(TicketEvent(**self.event_row(ticket.id, kind, at, assignment_id, details)))

    def touch(self, ticket: Ticket, at: datetime) -> None:
        """Mark a change: a new version (what If-Match compares), updated now, last event at `at`."""
        ticket.version += 1
        ticket.updated_at = self.now
        ticket.last_event_at = max(ticket.last_event_at, at)
