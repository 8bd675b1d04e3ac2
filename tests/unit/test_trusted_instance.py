"""app.db.trusted_instance builds the same instance as the model's constructor, only faster."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session, configure_mappers

import app.models  # noqa: F401  (every table mapped)
from app.db import field_values, set_fields, trusted_instance
from app.tickets.models import Assignment, Ticket

NOW = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
TICKET = {
    "channel": "zalo",
    "status": "assigned",
    "priority": "high",
    "caller_phone": "+84912345678",
    "description": "Đèn đường hỏng",
    "search_text": "den duong hong",
    "area_code": "phuong-cau-giay",
    "received_at": NOW,
    "created_at": NOW,
    "updated_at": NOW,
    "last_event_at": NOW,
    "created_by": "operator",
}
ASSIGNMENT = {"ticket_id": 3, "unit_code": "ubnd-phuong-cau-giay", "assigned_at": NOW}


@pytest.fixture(scope="module", autouse=True)
def _mapped() -> None:
    configure_mappers()


@pytest.mark.parametrize(("model", "values"), [(Ticket, TICKET), (Assignment, ASSIGNMENT)])
def test_same_fields_defaults_and_fields_set_as_the_constructor(model, values):
    fast, slow = trusted_instance(model, dict(values)), model(**values)
    assert fast.model_dump() == slow.model_dump()
    assert fast.model_fields_set == slow.model_fields_set
    assert field_values(fast) == slow.model_dump()


def test_defaults_are_fresh_and_attributes_stay_writable():
    one, two = trusted_instance(Ticket, dict(TICKET)), trusted_instance(Ticket, dict(TICKET))
    one.tags.append("khan-cap")
    assert two.tags == []
    one.status = "new"
    assert one.status == "new" and field_values(one)["status"] == "new"


def test_a_missing_required_field_is_an_error():
    with pytest.raises(TypeError, match="missing required field 'unit_code'"):
        trusted_instance(Assignment, {"ticket_id": 1, "assigned_at": NOW})


def test_set_fields_places_values_on_new_instances_and_tracks_them_on_session_ones():
    fresh = trusted_instance(Ticket, dict(TICKET))
    set_fields(fresh, {"status": "new", "sla_due_at": NOW})
    assert (fresh.status, fresh.sla_due_at) == ("new", NOW)
    assert {"status", "sla_due_at"} <= fresh.model_fields_set

    tracked = trusted_instance(Ticket, dict(TICKET))
    Session().add(tracked)  # pending: the session must see every change
    set_fields(tracked, {"status": "closed"})
    assert inspect(tracked).attrs.status.history.added == ["closed"]
