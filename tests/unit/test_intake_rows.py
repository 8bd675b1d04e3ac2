"""The intake contract's pure part (app.tickets.intake_rows): which rows, which placeholders."""

import pytest

from app.tickets.intake_rows import (
    NEW_ASSIGNMENT,
    NEW_TICKET,
    IntakeRows,
    rows_to_write,
    with_ids,
)


def _intake(**changes):
    values = {
        "ticket": {"id": None, "channel": "phone"},
        "assignment": {"id": None, "ticket_id": 0, "unit_code": "ubnd-phuong-cau-giay"},
        "co_handlers": ("cong-an-ha-noi", "cong-ty-thoat-nuoc"),
        "events": [
            {"ticket_id": 0, "assignment_id": None, "kind": "created"},
            {"ticket_id": 0, "assignment_id": NEW_ASSIGNMENT, "kind": "assigned"},
        ],
        "key": {"actor": "operator", "key": "k-1", "request_hash": "h", "created_at": None},
    }
    return IntakeRows(**{**values, **changes})


def test_rows_point_at_the_new_ticket_and_assignment_and_carry_no_ids_of_their_own():
    rows = rows_to_write(_intake())
    assert [name for name, _ in rows.tables()] == [
        "idempotency_key",
        "ticket",
        "assignment",
        "co_handler",
        "ticket_event",
    ]
    assert rows.key == {
        "actor": "operator",
        "key": "k-1",
        "request_hash": "h",
        "created_at": None,
        "ticket_id": NEW_TICKET,
    }
    assert rows.ticket == {"channel": "phone"}
    assert rows.assignment == {"ticket_id": NEW_TICKET, "unit_code": "ubnd-phuong-cau-giay"}
    assert [(c["ticket_id"], c["assignment_id"], c["unit_code"]) for c in rows.co_handlers] == [
        (NEW_TICKET, NEW_ASSIGNMENT, "cong-an-ha-noi"),
        (NEW_TICKET, NEW_ASSIGNMENT, "cong-ty-thoat-nuoc"),
    ]
    assert [(e["ticket_id"], e["assignment_id"]) for e in rows.events] == [
        (NEW_TICKET, None),
        (NEW_TICKET, NEW_ASSIGNMENT),
    ]
    filled = with_ids(rows.co_handlers[0], {NEW_TICKET: 7, NEW_ASSIGNMENT: 9})
    assert filled == {"ticket_id": 7, "assignment_id": 9, "unit_code": "cong-an-ha-noi"}


def test_without_key_or_assignment_those_tables_get_no_rows():
    unrouted = _intake(
        key=None,
        assignment=None,
        co_handlers=(),
        events=[{"ticket_id": 0, "assignment_id": None, "kind": "unrouted"}],
    )
    assert [name for name, _ in rows_to_write(unrouted).tables()] == ["ticket", "ticket_event"]


@pytest.mark.parametrize(
    "changes",
    [
        # A new ticket has no assignment but the one being created.
        {"events": [{"ticket_id": 0, "assignment_id": 12, "kind": "assigned"}]},
        {"assignment": None, "co_handlers": ()},  # "assigned" names an assignment not made
        {"assignment": None, "events": []},  # co-handlers of no assignment
    ],
)
def test_rows_that_point_nowhere_are_refused(changes):
    with pytest.raises(ValueError):
        rows_to_write(_intake(**changes))
