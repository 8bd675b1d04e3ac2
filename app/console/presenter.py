"""What the ticket page shows beside the ticket itself, read from its history. Pure."""

from collections.abc import Sequence
from typing import Any

from app.tickets.schemas import EventRead

# The forms each action needs beyond the CSRF token: field name -> (label, required).
ACTION_FIELDS: dict[str, list[tuple[str, str, bool]]] = {
    "request-info": [("question", "Câu hỏi cho người dân", False)],
    "resolve": [("resolution", "Kết quả giải quyết", True)],
    "reject": [("reason", "Lý do từ chối", True)],
    "transfer": [("unit", "Mã đơn vị nhận", True), ("reason", "Lý do", False)],
    "reopen": [("reason", "Lý do mở lại", True)],
    "cancel": [("reason", "Lý do huỷ", False)],
    "duplicate": [("duplicate_of", "Mã phiếu gốc (HN-…)", True)],
    "reroute": [("reason", "Lý do", False)],
    "notes": [("text", "Nội dung ghi chú", True)],
    "caller-informed": [("note", "Đã báo cho người dân những gì", False)],
}


def co_handlers(events: Sequence[EventRead]) -> list[str]:
    """Units routed to work beside the current unit (from the latest assignment's decision)."""
    assigned = [e for e in events if e.kind == "assigned"]
    return list(assigned[-1].details.get("co_handlers") or []) if assigned else []


def action_body(action: str, form: dict[str, Any]) -> dict[str, Any]:
    """The JSON body the API would receive for `action`, from the form's fields (blank
    optional fields left out so the API's own defaults and validation apply)."""
    body: dict[str, Any] = {}
    for name, _label, _required in ACTION_FIELDS.get(action, []):
        value = str(form.get(name) or "").strip()
        if value:
            body[name] = value
    return body
