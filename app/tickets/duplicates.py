"""Which ticket a duplicate points at: a live original, never itself, never a cycle.

A duplicate is terminal and its link never changes, so a chain of duplicates is read without
locks; only its root (the one live ticket) is locked. Markings are serialised by
repository.serialise_duplicate_marking, taken before the ticket's own row lock.
"""

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed, field_error
from app.tickets import repository as repo
from app.tickets.lifecycle import Status
from app.tickets.models import Ticket

# Longer chains than this are not followed (they cannot arise: each marking points at a root).
_MAX_CHAIN = 1000


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed([field_error(["duplicate_of"], message)])


async def live_original(
    session: AsyncSession,
    ticket: Ticket,
    original: Ticket,
    reference: Callable[[Ticket], str],
) -> Ticket:
    """The ticket `ticket` may be marked a duplicate of, given the `original` asked for: the
    root of original's duplicate chain, row-locked. Raises ValidationFailed (422 naming
    duplicate_of) when it is the ticket itself, would close a cycle, or was cancelled."""
    if original.id == ticket.id:
        raise _refuse("a ticket cannot be a duplicate of itself")
    root, hops = original, 0
    while root.duplicate_of_id is not None and hops < _MAX_CHAIN:
        if root.duplicate_of_id == ticket.id:
            raise _refuse(
                f"{reference(original)} is already a duplicate of this ticket"
                + (f" (through {reference(root)})" if root.id != original.id else "")
                + "; marking this one too would leave no original"
            )
        parent = await repo.get_ticket(session, ticket_id=root.duplicate_of_id)
        if parent is None:
            break
        root, hops = parent, hops + 1
    locked = await repo.get_ticket(session, ticket_id=root.id, for_update=True)
    assert locked is not None
    if locked.status == Status.CANCELLED:
        via = f" (the original of {reference(original)})" if locked.id != original.id else ""
        raise _refuse(f"{reference(locked)}{via} was cancelled; a duplicate needs a live original")
    if locked.status == Status.DUPLICATE:  # marked while we read the chain: cannot happen
        raise _refuse(f"{reference(locked)} is itself a duplicate; try again")
    return locked
