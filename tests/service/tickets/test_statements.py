"""How many SQL statements each action costs: an action loads what it needs once.

Counted from loading the ticket to reading it back, as POST /tickets/{id}/{action} does
(app.api.tickets); sign-in is not counted. The bounds are the figures measured after the
split of TicketService (docs/performance.md), so a change that adds a round trip fails here.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from app.tickets.schemas import (
    ActionIn,
    DuplicateIn,
    NoteIn,
    OptionalReasonIn,
    ReasonIn,
    RequestInfoIn,
    ResolveIn,
    TransferIn,
)
from tests.service.tickets.conftest import CAU_GIAY, SUPERVISOR, agent
from tests.service.tickets.factories import ticket_in

# action: (status before, body, the most statements it may take). Before the split (load,
# act and read as one TicketService) they took: acknowledge 13, start 12, request-info 14,
# info-received 14, resolve 15, reject 18, transfer 16, reroute 15, close 8, reopen 14,
# cancel 12, notes 6, duplicate 17 (SQLite; acknowledge and the unit's work by an agent, who
# costs one more statement: the check that the ticket is the agent's units').
ACTIONS: dict[str, tuple[str, ActionIn, int]] = {
    "acknowledge": ("assigned", ActionIn(), 7),
    "start": ("assigned", ActionIn(), 6),
    "request-info": ("acknowledged", RequestInfoIn(question="Số nhà mấy?"), 9),
    "info-received": ("waiting_citizen", ActionIn(), 8),
    "resolve": ("acknowledged", ResolveIn(resolution="Đã thu gom"), 8),
    "reject": ("assigned", ReasonIn(reason="Không thuộc thẩm quyền"), 10),
    "transfer": ("assigned", TransferIn(unit="tong-dai-1022", reason="Sai đơn vị"), 9),
    "reroute": ("assigned", OptionalReasonIn(), 8),
    "close": ("resolved", ActionIn(), 6),
    "reopen": ("resolved", ReasonIn(reason="Vẫn còn rác"), 8),
    "cancel": ("assigned", OptionalReasonIn(reason="Nhập nhầm"), 6),
    "notes": ("assigned", NoteIn(text="Đã gọi lại cho người dân"), 4),
}


@contextmanager
def statements(session: AsyncSession) -> Iterator[list[str]]:
    """The SQL statements run on the session's connection meanwhile; PostgreSQL's NOTIFY (the
    outbox relay's wake-up after a flush that wrote a message) is no data and not counted."""
    seen: list[str] = []
    engine = session.bind.sync_engine

    def count(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        if not sql.startswith("NOTIFY"):
            seen.append(sql)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def principal_for(action: str) -> Any:
    """The unit's agent for the unit's work, a supervisor for the rest."""
    unit_work = {"acknowledge", "start", "request-info", "info-received", "resolve", "reject"}
    return agent(CAU_GIAY) if action in unit_work else SUPERVISOR


@pytest.mark.parametrize("action", ACTIONS)
async def test_an_action_loads_what_it_needs_once(action, service, session):
    status, body, bound = ACTIONS[action]
    ticket = await ticket_in(service(SUPERVISOR), status)
    svc = service(principal_for(action))
    with statements(session) as seen:
        loaded = await svc.load_for(action, str(ticket.id))
        changed = await svc.act(loaded, action, body)
        await svc.read(loaded, changed)
    assert len(seen) <= bound, "\n".join(seen)


async def test_a_duplicate_marking_loads_what_it_needs_once(service, session):
    original = await ticket_in(service(SUPERVISOR))
    ticket = await ticket_in(service(SUPERVISOR))
    svc = service(SUPERVISOR)
    with statements(session) as seen:
        loaded = await svc.load_for("duplicate", str(ticket.id))
        changed = await svc.act(loaded, "duplicate", DuplicateIn(duplicate_of=str(original.id)))
        await svc.read(loaded, changed)
    assert len(seen) <= 11, "\n".join(seen)
