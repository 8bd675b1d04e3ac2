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


def refusal(action: str, errors: Sequence[Any]) -> str:
    """The sentence(s) for an action's form refused by its body model (pydantic's
    `errors()`), naming each field by its label on the form: missing, or too long."""
    labels = {name: label for name, label, _ in ACTION_FIELDS.get(action, [])}
    sentences: list[str] = []
    for error in errors:
        name = str(error["loc"][-1]) if error["loc"] else ""
        label = labels.get(name, name)
        limit = (error.get("ctx") or {}).get("max_length")
        if error["type"] == "missing":
            sentence = f"Cần nhập «{label}»."
        elif error["type"] in ("too_long", "string_too_long") and limit:
            sentence = f"«{label}» quá dài (tối đa {limit} ký tự)."
        else:
            sentence = f"Kiểm tra lại «{label}»."
        if sentence not in sentences:
            sentences.append(sentence)
    return " ".join(sentences)
