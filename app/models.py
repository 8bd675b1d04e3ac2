"""Every table, imported in one place for Alembic and the tests."""

import app.outbox.capture  # noqa: F401  (writes outbox rows beside ticket events)
from app.open311.models import LookupThrottle, TicketFeedback
from app.outbox.models import (
    MailMessage,
    OutboxMessage,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from app.privacy.models import AccessRecord, DataSubjectRequest
from app.reference.models import AreaRow, TopicRow, UnitAreaRow, UnitRow
from app.tickets.models import (
    Assignment,
    AssignmentPause,
    CoHandler,
    IdempotencyKey,
    Ticket,
    TicketEvent,
)
from app.users.models import ApiKey, LoginThrottle, User, UserUnit

__all__ = [
    "AccessRecord",
    "ApiKey",
    "AreaRow",
    "Assignment",
    "AssignmentPause",
    "CoHandler",
    "DataSubjectRequest",
    "IdempotencyKey",
    "LoginThrottle",
    "LookupThrottle",
    "MailMessage",
    "OutboxMessage",
    "Ticket",
    "TicketEvent",
    "TicketFeedback",
    "TopicRow",
    "UnitAreaRow",
    "UnitRow",
    "User",
    "UserUnit",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
