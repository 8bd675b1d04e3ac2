"""Every table, imported in one place for Alembic and the tests."""

from app.reference.models import AreaRow, TopicRow, UnitAreaRow, UnitRow
from app.tickets.models import Assignment, AssignmentPause, IdempotencyKey, Ticket, TicketEvent

__all__ = [
    "AreaRow",
    "Assignment",
    "AssignmentPause",
    "IdempotencyKey",
    "Ticket",
    "TicketEvent",
    "TopicRow",
    "UnitAreaRow",
    "UnitRow",
]
