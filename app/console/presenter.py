"""What the ticket page shows beside the ticket itself, read from its history. Pure."""

from collections.abc import Sequence
from typing import Any

from app.tickets.schemas import EventRead, TicketRead

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
}


def pending_question(ticket: TicketRead, events: Sequence[EventRead]) -> str | None:
    """The question asked of the citizen while the ticket waits for them; else None."""
    if ticket.status != "waiting_citizen":
        return None
    asked = [e for e in events if e.kind == "info_requested"]
    return (asked[-1].details.get("question") or "(không ghi câu hỏi)") if asked else None


def resolution(events: Sequence[EventRead]) -> str | None:
    """The latest resolution text, if the ticket was ever resolved."""
    done = [e for e in events if e.kind == "resolved"]
    return done[-1].details.get("resolution") if done else None


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
