"""Corrections without HTTP: changed fields, history, and re-routing until a unit takes it."""

import pytest

from app.errors import ValidationFailed
from app.routing.schema import Decision
from app.tickets.schemas import TicketUpdate
from tests.service.tickets.conftest import CAU_GIAY, SUPERVISOR, TRIAGE
from tests.service.tickets.factories import ticket_in

BURST_PIPE = "nuoc-sach.vo-ong"


def by_topic(facts, excluded):
    """Burst pipes to the switchboard, everything else to Cầu Giấy."""
    unit = TRIAGE if facts.topic == BURST_PIPE else CAU_GIAY
    return Decision(unit=None if unit in excluded else unit, rule_id=None, ruleset_version="t")


async def test_a_corrected_topic_routes_an_untaken_ticket_again(service):
    svc = service(SUPERVISOR, router=by_topic)
    ticket = await ticket_in(svc)
    version = ticket.version
    await svc.update(ticket, TicketUpdate(topic=BURST_PIPE))
    assert (ticket.topic_code, ticket.current_unit_code) == (BURST_PIPE, TRIAGE)
    assert ticket.version == version + 1
    kinds = [e.kind for e in await svc.events(ticket)]
    assert kinds[-3:] == ["updated", "rerouted", "assigned"]
    updated = (await svc.events(ticket))[-3]
    assert updated.details["changes"]["topic_code"] == ["moi-truong.rac-thai", BURST_PIPE]


async def test_a_ticket_a_unit_has_taken_keeps_its_unit(service):
    svc = service(SUPERVISOR, router=by_topic)
    ticket = await ticket_in(svc, "acknowledged")
    await svc.update(ticket, TicketUpdate(topic=BURST_PIPE))
    assert (ticket.topic_code, ticket.current_unit_code) == (BURST_PIPE, CAU_GIAY)


async def test_nothing_changed_writes_nothing(service):
    svc = service(SUPERVISOR)
    ticket = await ticket_in(svc)
    version, events = ticket.version, len(await svc.events(ticket))
    await svc.update(ticket, TicketUpdate(topic=ticket.topic_code))
    assert (ticket.version, len(await svc.events(ticket))) == (version, events)


async def test_a_description_cannot_be_removed(service):
    svc = service(SUPERVISOR)
    ticket = await ticket_in(svc)
    # The schema refuses a null description already; the service does not rely on it.
    nulled = TicketUpdate.model_construct(description=None)
    with pytest.raises(ValidationFailed) as caught:
        await svc.update(ticket, nulled)
    assert caught.value.extra["errors"][0]["loc"] == ["description"]
