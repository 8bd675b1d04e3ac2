"""Finding tickets without HTTP: by id or reference, search pages, and their errors."""

from datetime import timedelta

import pytest

from app.catalog.codes import UnknownCode
from app.errors import NotFound, ValidationFailed
from app.tickets.queries import NoUnitsOfYourOwn
from app.tickets.schemas import TicketQuery
from tests.service.tickets.conftest import CAU_GIAY, NOW, OPERATOR, agent
from tests.service.tickets.factories import ticket_in


def query(**fields):
    return TicketQuery(**{"limit": 50, **fields})


async def test_a_ticket_is_found_by_id_or_by_its_reference_in_any_case(service):
    svc = service()
    ticket = await ticket_in(svc)
    reference = svc.reference(ticket)
    assert reference == f"HN-2026-{ticket.id:06d}"
    for given in (str(ticket.id), reference, reference.lower(), f" {reference} "):
        assert (await svc.load(given)).id == ticket.id
    for wrong in (f"HN-2025-{ticket.id:06d}", f"XY-2026-{ticket.id:06d}", "٣", "HN-2026-"):
        with pytest.raises(NotFound):
            await svc.load(wrong)


async def test_an_agent_finds_only_what_their_units_had(service):
    ticket = await ticket_in(service())
    assert (await service(agent(CAU_GIAY)).load(str(ticket.id))).id == ticket.id
    with pytest.raises(NotFound):
        await service(agent("ubnd-phuong-ba-dinh")).load(str(ticket.id))
    page = await service(agent("ubnd-phuong-ba-dinh")).search(query())
    assert page.items == []


async def test_a_search_pages_newest_first_with_a_cursor(service):
    svc = service()
    made = [await ticket_in(svc, received_at=NOW - timedelta(hours=h)) for h in (3, 2, 1)]
    first = await svc.search(query(limit=2))
    assert [t.id for t in first.items] == [made[2].id, made[1].id]
    assert first.next_cursor is not None
    second = await svc.search(query(limit=2, cursor=first.next_cursor))
    assert [t.id for t in second.items] == [made[0].id] and second.next_cursor is None


async def test_search_filters_by_unit_topic_and_area(service):
    svc = service()
    ticket = await ticket_in(svc)
    for filters in (
        {"units": [CAU_GIAY]},
        {"topics": ["moi-truong"]},  # a topic matches its subtopics
        {"areas": ["Cầu Giấy"]},  # a name, without the code
    ):
        assert [t.id for t in (await svc.search(query(**filters))).items] == [ticket.id]
    assert (await svc.search(query(units=["ubnd-phuong-ba-dinh"]))).items == []


async def test_search_errors_name_the_parameter_not_where_it_was_sent(service):
    svc = service(OPERATOR)
    cases = [
        ({"units": ["mine"]}, NoUnitsOfYourOwn, ["unit"]),
        ({"topics": ["zzzz"]}, UnknownCode, ["topic"]),
        ({"areas": ["Atlantis"]}, ValidationFailed, ["area"]),
        ({"caller_phone": "12"}, ValidationFailed, ["caller_phone"]),
        ({"cursor": "not-a-cursor"}, ValidationFailed, ["cursor"]),
    ]
    for filters, kind, loc in cases:
        with pytest.raises(kind) as caught:
            await svc.search(query(**filters))
        error = caught.value.extra["errors"][0]
        assert error["loc"] == loc, filters
        assert "/api/" not in error["msg"], filters


async def test_an_agents_mine_means_their_units(service):
    ticket = await ticket_in(service())
    page = await service(agent(CAU_GIAY)).search(query(units=["mine"]))
    assert [t.id for t in page.items] == [ticket.id]


async def test_the_history_is_oldest_first(service):
    svc = service()
    ticket = await ticket_in(svc, "acknowledged")
    kinds = [e.kind for e in await svc.events(ticket)]
    assert kinds == ["created", "assigned", "acknowledged"]
