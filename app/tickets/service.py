"""The ticket service of one request: its context with the ticket operations as methods.

Every write goes through here so that a ticket never exists without its assignment and events;
it flushes only, the request commits. The work is done in modules named for their job:

- intake.py       facts, create, Idempotency-Key replays
- actions.py      act: one handler per action, SLA settling; assigning.py: routing, assignments
- corrections.py  update (PATCH) and the re-routing a correction causes
- queries.py      load by id or reference, read, search pages (cursors.py), history
- presenter.py    TicketRead, each assignment's SLA read, catalog references
- checks.py       area, topic, unit, instant and phone checks (422 naming the field)

The API, the console, Open311, the outbox renderer and the demo generator all take one object
per request, and helpers (app.search, app.api.privacy) read its session, clock and caller;
this facade keeps that one object while the code lives in the modules above.
"""

from typing import Any

from app.catalog.catalog import AreaResolution
from app.routing.schema import TicketFacts
from app.tickets import actions, checks, corrections, intake, presenter, queries
from app.tickets.context import Router, TicketContext
from app.tickets.intake import Created
from app.tickets.loaded import LoadedTicket
from app.tickets.models import Assignment, Ticket
from app.tickets.schemas import (
    ActionIn,
    EventRead,
    TicketCreate,
    TicketPage,
    TicketQuery,
    TicketRead,
    TicketUpdate,
)


class TicketService(TicketContext):
    """One request's ticket operations; see the modules named above for what each does."""

    # -- intake -----------------------------------------------------------------------------

    async def create(
        self, data: TicketCreate, idempotency_key: str | None, extra: dict[str, Any] | None = None
    ) -> Created:
        """File a ticket (app.tickets.intake.create): the ticket, its assignment, replayed."""
        return await intake.create(self, data, idempotency_key, extra)

    def intake_facts(self, data: TicketCreate) -> TicketFacts:
        """What routing would see of this ticket (app.tickets.intake.intake_facts)."""
        return intake.intake_facts(self, data)

    # -- changes ----------------------------------------------------------------------------

    async def act(self, ticket: Ticket, action: str, body: ActionIn) -> LoadedTicket:
        """Apply a lifecycle action (app.tickets.actions.act); the ticket as changed."""
        return await actions.act(self, ticket, action, body)

    async def update(self, ticket: Ticket, data: TicketUpdate) -> Ticket:
        """Apply operator corrections (app.tickets.corrections.update)."""
        return await corrections.update(self, ticket, data)

    # -- reads ------------------------------------------------------------------------------

    async def load(self, id_or_reference: str, *, for_update: bool = False) -> Ticket:
        """One ticket this caller may see (app.tickets.queries.load); NotFound otherwise."""
        return await queries.load(self, id_or_reference, for_update=for_update)

    async def load_for(self, action: str, id_or_reference: str) -> Ticket:
        """The ticket an action is about, row-locked (app.tickets.queries.load_for)."""
        return await queries.load_for(self, action, id_or_reference)

    async def read(self, ticket: Ticket, known: LoadedTicket | None = None) -> TicketRead:
        """The full view of one ticket (app.tickets.queries.read)."""
        return await queries.read(self, ticket, known)

    def to_read(
        self, ticket: Ticket, current: Assignment | None, assignments: list[Assignment]
    ) -> TicketRead:
        """The view of a ticket from rows in hand (app.tickets.presenter.to_read)."""
        return presenter.to_read(self, ticket, current, assignments)

    async def search(self, query: TicketQuery) -> TicketPage:
        """A page of matching tickets (app.tickets.queries.search)."""
        return await queries.search(self, query)

    async def count(self, query: TicketQuery) -> int:
        """How many tickets match the query's filters (app.tickets.queries.count)."""
        return await queries.count(self, query)

    async def page(
        self, tickets: list[Ticket], limit: int, by_due: bool | str = False
    ) -> TicketPage:
        """The first `limit` of `tickets` as reads, with a cursor when there are more
        (app.tickets.queries.page)."""
        return await queries.page(self, tickets, limit, by_due)

    async def events(self, ticket: Ticket) -> list[EventRead]:
        """The ticket's history, oldest first (app.tickets.queries.events)."""
        return await queries.events(self, ticket)

    def free_text(self, ticket: Ticket, value: Any) -> Any:
        """A free-text value as this viewer may see it (app.tickets.presenter.free_text)."""
        return presenter.free_text(self, ticket, value)

    # -- checks shared with app.search -------------------------------------------------------

    def read_area(self, text: str | None, loc: list[str | int]) -> AreaResolution | None:
        """What an area text may mean (app.tickets.checks.read_area)."""
        return checks.read_area(self, text, loc)

    def check_topic(self, code: str | None, loc: list[str | int]) -> str | None:
        """A known topic code (app.tickets.checks.check_topic)."""
        return checks.check_topic(self, code, loc)

    def query_phone(self, raw: str | None) -> str | None:
        """A search's caller_phone in E.164; 422 naming `caller_phone` if it is not one."""
        return checks.phone_of(raw, ["caller_phone"])


__all__ = ["Created", "Router", "TicketService"]
