"""Lifecycle actions without HTTP: handlers, SLA settling, and the state an action returns."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.catalog.codes import UnknownCode
from app.errors import Conflict, Forbidden, NotFound
from app.tickets.lifecycle import Status
from app.tickets.models import TicketEvent
from app.tickets.schemas import ActionIn, ReasonIn, RequestInfoIn, TransferIn
from tests.service.tickets.conftest import CAU_GIAY, NOW, SUPERVISOR, TRIAGE, agent
from tests.service.tickets.factories import ticket_in
from tests.service.tickets.test_statements import ACTIONS, principal_for


@pytest.mark.parametrize("action", ACTIONS)
async def test_the_read_after_an_action_is_the_read_of_what_was_written(action, service):
    """An action hands its loaded rows to the read; a read loading them afresh agrees."""
    status, body, _ = ACTIONS[action]
    ticket = await ticket_in(service(SUPERVISOR), status)
    svc = service(principal_for(action))
    loaded = await svc.load_for(action, str(ticket.id))
    changed = await svc.act(loaded, action, body)
    from_action = await svc.read(loaded, changed)
    ticket_id = str(ticket.id)
    svc.session.expire_all()  # what is in the database now, not what the action holds
    afresh = await svc.read(await svc.load(ticket_id))
    assert from_action == afresh


async def test_an_agent_may_not_work_on_a_ticket_another_unit_now_has(service):
    ticket = await ticket_in(service(SUPERVISOR))
    await service(SUPERVISOR).act(ticket, "transfer", TransferIn(unit=TRIAGE))
    svc = service(agent(CAU_GIAY))
    loaded = await svc.load_for("acknowledge", str(ticket.id))  # it was theirs: they see it
    with pytest.raises(Forbidden):
        await svc.act(loaded, "acknowledge", ActionIn())
    with pytest.raises(NotFound):  # never Ba Đình's: it does not exist for them
        await service(agent("ubnd-phuong-ba-dinh")).load(str(ticket.id))


async def test_asking_the_citizen_stops_the_clock_and_the_answer_restarts_it(service):
    ticket = await ticket_in(service(SUPERVISOR), "acknowledged")
    svc = service(agent(CAU_GIAY))
    due_before = ticket.sla_due_at
    asked = await svc.act(ticket, "request-info", RequestInfoIn(question="Số nhà mấy?"))
    current = asked.current
    assert current is not None and asked.open_pause(current) is not None
    assert (ticket.status, ticket.sla_due_at, current.resolve_due_at) == (
        Status.WAITING_CITIZEN,
        None,
        None,
    )
    later = service(agent(CAU_GIAY), now=NOW + timedelta(minutes=30))  # within working hours
    answered = await later.act(ticket, "info-received", ActionIn())
    assert answered.open_pause(current) is None and ticket.status != Status.WAITING_CITIZEN
    # Thirty working minutes spent waiting push the due back.
    assert current.resolve_due_at is not None and current.resolve_due_at > due_before


async def test_a_rejection_routes_the_ticket_again_without_the_rejecting_unit(service):
    ticket = await ticket_in(service(SUPERVISOR))
    svc = service(agent(CAU_GIAY))
    loaded = await svc.act(ticket, "reject", ReasonIn(reason="Không thuộc thẩm quyền"))
    first, second = loaded.assignments
    assert (first.unit_code, first.outcome, first.ended_at) == (CAU_GIAY, "rejected", NOW)
    assert second.ended_at is None and second.unit_code != CAU_GIAY
    assert ticket.current_unit_code == second.unit_code
    assert loaded.rejected_units() == {CAU_GIAY}


async def test_a_transfer_checks_the_unit_and_starts_a_fresh_clock(service):
    ticket = await ticket_in(service(SUPERVISOR))
    svc = service(SUPERVISOR)
    with pytest.raises(UnknownCode) as unknown:
        await svc.act(ticket, "transfer", TransferIn(unit="ubnd-phuong-cau-giai"))
    assert unknown.value.extra["errors"][0]["loc"] == ["unit"]
    assert CAU_GIAY in unknown.value.suggestions
    with pytest.raises(Conflict):
        await svc.act(ticket, "transfer", TransferIn(unit=CAU_GIAY))
    loaded = await svc.act(ticket, "transfer", TransferIn(unit=TRIAGE))
    old, new = loaded.assignments
    assert (old.outcome, new.unit_code, new.assigned_at) == ("transferred", TRIAGE, NOW)
    assert ticket.sla_due_at is not None and ticket.sla_due_at > NOW


async def test_a_reopened_ticket_goes_back_to_the_unit_that_resolved_it(service):
    ticket = await ticket_in(service(SUPERVISOR), "resolved")
    loaded = await service(SUPERVISOR).act(ticket, "reopen", ReasonIn(reason="Vẫn còn rác"))
    resolved, reopened = loaded.assignments
    assert resolved.outcome == "resolved" and resolved.ended_at is not None
    assert (reopened.unit_code, reopened.ended_at, ticket.status) == (
        CAU_GIAY,
        None,
        Status.ASSIGNED,
    )


async def test_a_late_acknowledgement_records_the_breach_once(service, session):
    ticket = await ticket_in(service(SUPERVISOR))
    due = ticket.sla_due_at
    late = service(agent(CAU_GIAY), now=due + timedelta(days=1))
    loaded = await late.act(ticket, "acknowledge", ActionIn())
    assert loaded.current is not None and loaded.current.acknowledge_breached_at is not None
    kinds = (
        await session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == ticket.id))
    ).all()
    assert kinds.count("sla_breached") == 1
