"""Our ticket lifecycle in GeoReport v2 terms. Pure.

The spec has two statuses, open and closed. The extended values are FixMyStreet's (its
"Open311 FMS Additional states"), given with `extensions=true`.
"""

CLOSED = frozenset({"resolved", "closed", "duplicate", "cancelled"})

EXTENDED = {
    "new": "for_triage",
    "assigned": "open",
    "acknowledged": "action_scheduled",
    "in_progress": "in_progress",
    "waiting_citizen": "in_progress",
    "resolved": "fixed",
    "closed": "closed",
    "duplicate": "duplicate",
    "cancelled": "no_further_action",
}

# Vietnamese status words for status_notes and updates.
LABELS = {
    "new": "Đang phân loại",
    "assigned": "Đã chuyển đơn vị xử lý",
    "acknowledged": "Đơn vị đã tiếp nhận",
    "in_progress": "Đang xử lý",
    "waiting_citizen": "Đang chờ người dân bổ sung thông tin",
    "resolved": "Đã xử lý xong",
    "closed": "Đã đóng",
    "duplicate": "Trùng với phản ánh khác",
    "cancelled": "Đã huỷ",
}

# Events that are news to the public, with the status they leave the ticket in (FixMyStreet's
# servicerequestupdates: one update per such event). Internal notes, SLA marks and access are not.
PUBLIC_EVENTS = {
    "created": "new",
    "assigned": "assigned",
    "unrouted": "new",
    "acknowledged": "acknowledged",
    "started": "in_progress",
    "info_requested": "waiting_citizen",
    "info_received": "in_progress",
    "resolved": "resolved",
    "closed": "closed",
    "auto_closed": "closed",
    "reopened": "assigned",
    "transferred": "assigned",
    "rejected": "assigned",
    "rerouted": "assigned",
    "marked_duplicate": "duplicate",
    "cancelled": "cancelled",
}

# When the kind itself tells more than the status it leaves (a referral between units, a unit
# saying it is not theirs), the extended status of the update says so.
EXTENDED_BY_EVENT = {
    "transferred": "internal_referral",
    "rejected": "not_councils_responsibility",
    "reopened": "reopened",
}


def basic(status: str) -> str:
    """'open' or 'closed', the spec's two values."""
    return "closed" if status in CLOSED else "open"


def extended(status: str) -> str:
    return EXTENDED.get(status, "open")
