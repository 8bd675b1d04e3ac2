"""Intake without HTTP: what create returns, replays, and the checks it makes."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.catalog.codes import UnknownCode
from app.errors import Conflict, ValidationFailed
from app.tickets.intake import KeyInProgress
from app.tickets.lifecycle import Status
from app.tickets.models import Assignment, TicketEvent
from tests.service.tickets.conftest import CAU_GIAY, NOW, to_unit
from tests.service.tickets.factories import claimed_key, ticket_data


async def test_create_returns_the_ticket_and_the_assignment_it_wrote(service, session):
    svc = service()
    made = await svc.create(ticket_data(), None)
    assert not made.replayed
    assert made.ticket.id is not None and made.ticket.status == Status.ASSIGNED
    assert made.assignment is not None
    assert (made.assignment.ticket_id, made.assignment.unit_code) == (made.ticket.id, CAU_GIAY)
    stored = await session.get(Assignment, made.assignment.id)
    assert stored is not None and stored.unit_code == CAU_GIAY
    assert made.ticket.sla_due_at == min(
        made.assignment.acknowledge_due_at, made.assignment.resolve_due_at
    )
    assert svc.own_intake_id == made.ticket.id  # the filer sees the caller they typed in


async def test_a_ticket_no_unit_takes_stays_new_without_an_assignment(service, session):
    made = await service(router=to_unit(None)).create(ticket_data(), None)
    assert (made.ticket.status, made.assignment) == (Status.NEW, None)
    kinds = await session.scalars(
        select(TicketEvent.kind)
        .where(TicketEvent.ticket_id == made.ticket.id)
        .order_by(TicketEvent.id)
    )
    assert kinds.all() == ["created", "unrouted"]


async def test_the_same_key_and_body_replays_the_first_ticket(service, session):
    first = await service().create(ticket_data(), "key-1")
    again = await service(now=NOW + timedelta(seconds=5)).create(ticket_data(), "key-1")
    assert again.replayed and again.ticket.id == first.ticket.id and again.assignment is None
    count = await session.scalar(select(func.count()).select_from(Assignment))
    assert count == 1


async def test_the_same_key_with_another_body_is_a_conflict(service):
    await service().create(ticket_data(), "key-2")
    with pytest.raises(Conflict) as caught:
        await service().create(ticket_data(description="Một việc khác hẳn"), "key-2")
    assert not isinstance(caught.value, KeyInProgress)
    assert "different request body" in caught.value.detail


async def test_a_key_whose_first_request_runs_asks_to_retry_without_speaking_http(service, session):
    await claimed_key(session, "key-3")
    with pytest.raises(KeyInProgress) as caught:
        await service().create(ticket_data(), "key-3")
    assert caught.value.retry_after_seconds == 1
    assert not hasattr(caught.value, "headers")  # the API says Retry-After (http_headers)


async def test_an_unknown_topic_names_the_field_and_the_closest_codes(service):
    with pytest.raises(UnknownCode) as caught:
        await service().create(ticket_data(topic="moi-truong.rac-thai-x"), None)
    error = caught.value.extra["errors"][0]
    assert error["loc"] == ["topic"] and "moi-truong.rac-thai" in error["suggestions"]
    with pytest.raises(UnknownCode) as nothing_close:
        await service().create(ticket_data(topic="zzzz"), None)
    error = nothing_close.value.extra["errors"][0]
    assert error["msg"] == "unknown topic 'zzzz'"  # no API path: the API adds where to look


async def test_a_received_at_in_the_future_is_refused(service):
    with pytest.raises(ValidationFailed) as caught:
        await service().create(ticket_data(received_at=NOW + timedelta(hours=1)), None)
    assert caught.value.extra["errors"][0]["loc"] == ["received_at"]


async def test_a_ticket_logged_after_the_fact_starts_its_clock_when_it_came_in(service):
    received = NOW - timedelta(hours=3)
    made = await service().create(ticket_data(received_at=received), None)
    assert made.assignment is not None and made.assignment.assigned_at == received
