"""Message types, and which ticket event announces which. Pure data."""

# ticket_event.kind -> message type. Events not listed (notes, routing misses, legal holds)
# are internal and announce nothing.
EVENT_TYPES: dict[str, str] = {
    "created": "ticket.created",
    "assigned": "ticket.assigned",
    "acknowledged": "ticket.acknowledged",
    "info_requested": "ticket.waiting_citizen",
    "info_received": "ticket.info_received",
    "resolved": "ticket.resolved",
    "rejected": "ticket.rejected",
    "transferred": "ticket.transferred",
    "reopened": "ticket.reopened",
    "closed": "ticket.closed",
    "cancelled": "ticket.cancelled",
    "marked_duplicate": "ticket.duplicate",
    "updated": "ticket.updated",
    # Written by the citizen follow-up (issue #14) when it lands; announced from then on.
    "feedback": "ticket.feedback",
    "sla_warning": "sla.warning",
    "sla_breached": "sla.breached",
    "escalated": "sla.escalated",
}

CALLER_ERASED = "caller.erased"
WEBHOOK_TEST = "webhook.test"

# What a subscription may ask for (webhook.test is sent on demand, to one endpoint only).
MESSAGE_TYPES: tuple[str, ...] = (*dict.fromkeys(EVENT_TYPES.values()), CALLER_ERASED)
