"""Page cursors: the position after a ticket in the page order, opaque to clients."""

import base64
import json
from datetime import UTC, datetime

from app.errors import ValidationFailed, field_error
from app.tickets.models import Ticket
from app.tickets.repository import NO_DUE


def pack(values: list[object]) -> str:
    """A page position as clients carry it: `values` as JSON, base64url without padding."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def unpack(cursor: str) -> object:
    """What pack wrote; ValueError (or TypeError) for anything else, for the caller to name."""
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encode_cursor(ticket: Ticket, by_due: bool | str = False) -> str:
    """The position after `ticket` in the page order: (sort value, id), base64url without
    padding. The sort value is received_at, the SLA due (by_due=True) or the reports count
    (by_due="reports")."""
    if by_due == "reports":
        return pack([ticket.reports_count, ticket.id])
    key = (ticket.sla_due_at or NO_DUE) if by_due else ticket.received_at
    return pack([key.isoformat(), ticket.id])


def decode_cursor(cursor: str, loc: list[str | int]) -> tuple[datetime, int]:
    """(sort value in UTC, or a count; ticket id) of a cursor encode_cursor wrote; a 422
    naming `loc` for anything else."""
    try:
        at, ticket_id = unpack(cursor)  # type: ignore[misc]
        if isinstance(at, int):  # sort=-reports: a count
            return at, int(ticket_id)  # type: ignore[return-value]
        value = datetime.fromisoformat(at)
        if value.tzinfo is None:
            raise ValueError("cursor without offset")
        # Only what encode_cursor writes: a real id (not a float, bool or 40 digits).
        if type(ticket_id) is not int or not 0 <= ticket_id < 2**31:
            raise ValueError("cursor id out of range")
        return value.astimezone(UTC), ticket_id
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(
            [field_error(loc, "not a cursor from a previous page; start without it")]
        ) from exc
