"""Several calls, one problem: a duplicate links its caller to the original.

Marking D a duplicate of O closes D with the link (app.tickets.service), adds D's reports to
O's `reports_count`, and records `duplicate_linked` in O's history. O's assignments and SLA
clock are not touched: the problem is the same, the unit's deadline too.
"""

from typing import Any

from app.privacy.masking import caller_view
from app.search import repository as repo
from app.search.schemas import Reporter
from app.tickets.models import Ticket

REPORTERS_LIMIT = 100


def link(service: Any, duplicate: Ticket, original: Ticket, at: Any) -> None:
    """Count the duplicate's calls on the original and record the link in its history."""
    original.reports_count += duplicate.reports_count
    original.version += 1
    original.updated_at = service.now
    service.record_event(
        original,
        "duplicate_linked",
        at,
        None,
        {"duplicate": service.reference(duplicate), "reports_count": original.reports_count},
    )


async def reporters(service: Any, ticket: Ticket) -> list[Reporter] | None:
    """Every call that reported `ticket`'s problem, oldest first (None when only one did).
    Callers as the masking rule shows them to this viewer."""
    if ticket.reports_count <= 1:
        return None
    rows = [ticket] + await repo.duplicates_of(
        service.session, ticket_id=ticket.id, limit=REPORTERS_LIMIT
    )
    return [
        Reporter(
            reference=service.reference(t),
            received_at=t.received_at,
            channel=t.channel,
            caller=caller_view(t, service.principal),
        )
        for t in rows
    ]
