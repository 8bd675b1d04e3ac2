"""Message bodies (app.outbox.render.ticket_body): the ticket serialised once per batch is
embedded byte for byte, and an oversized ticket gives way under the 20 KB limit."""

import json
from datetime import UTC, datetime
from types import SimpleNamespace

from app.outbox.render import MAX_BODY_BYTES, TicketView, ticket_body

EVENT = SimpleNamespace(
    id=7,
    kind="assigned",
    occurred_at=datetime(2026, 11, 29, 2, 14, 3, tzinfo=UTC),
    actor="operator",
    details={"unit": "ubnd-phuong-cau-giay", "reason": "gọi lại 0912 345 678"},
    assignment_id=2,
)


def view(description: str, assignments: int) -> TicketView:
    history = [
        {"id": i, "unit": {"code": f"u{i}", "name": "Đơn vị " + "x" * 300}}
        for i in range(1, assignments + 1)
    ]
    read = {
        "id": 1,
        "reference": "HN-2026-000001",
        "description": description,
        "assignments": history,
        "current_assignment": history[-1] if history else None,
    }
    return TicketView(
        read, lambda value: json.loads(json.dumps(value).replace("0912 345 678", "[đã ẩn]"))
    )


def test_the_body_is_the_plain_serialisation_of_its_parts():
    v = view("Rác thải ùn ứ đầu ngõ", 2)
    body = ticket_body("ticket.assigned", EVENT, v, 3)
    assert json.loads(body) == {
        "type": "ticket.assigned",
        "timestamp": "2026-11-29T02:14:03+00:00",
        "data": {
            "ticket": v.read,
            "event": {
                "id": 7,
                "kind": "assigned",
                "occurred_at": "2026-11-29T02:14:03+00:00",
                "actor": "operator",
                "details": {"unit": "ubnd-phuong-cau-giay", "reason": "gọi lại [đã ẩn]"},
            },
            "assignment": v.read["assignments"][1],
            "sequence": 3,
        },
    }
    # Two messages about one ticket embed the same serialisation, and it is not changed.
    again = ticket_body("ticket.created", EVENT, v, 1)
    assert json.loads(again)["data"]["ticket"] == json.loads(body)["data"]["ticket"] == v.read


def test_a_long_history_gives_way_first_then_the_description():
    v = view("Mô tả ngắn", 80)
    body = json.loads(ticket_body("ticket.assigned", EVENT, v, 1))
    assert body["data"]["ticket"]["assignments"] is None
    assert body["data"]["ticket"]["current_assignment"] == v.read["current_assignment"]
    assert body["data"]["ticket"]["description"] == "Mô tả ngắn"
    assert len(v.read["assignments"]) == 80  # the shared view is left as it was

    v = view("ổ gà " * 10_000, 80)
    raw = ticket_body("ticket.assigned", EVENT, v, 1)
    assert len(raw.encode()) < MAX_BODY_BYTES
    body = json.loads(raw)
    assert body["data"]["ticket"]["description"] == ("ổ gà " * 10_000)[:2000]
    assert v.read["description"] == "ổ gà " * 10_000
