"""Finding tickets: one by id or reference, a page of a search, a ticket's history.

Errors in search parameters name the parameter (loc ["unit"], ["cursor"]...); the API says
they were in the query string.
"""

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import NotFound, ValidationFailed, field_error
from app.search import repository as search_repo
from app.search.ranking import ranked_page
from app.search.reporters import reporters
from app.search.text import SearchQuery, read_query
from app.tickets import callback, presenter
from app.tickets import loaded as loading
from app.tickets import repository as repo
from app.tickets.assignment_clock import pauses_of
from app.tickets.checks import areas_under, check_topic, check_unit, phone_of
from app.tickets.context import TicketContext
from app.tickets.cursors import decode_cursor, encode_cursor
from app.tickets.lifecycle import statuses_meant
from app.tickets.loaded import LoadedTicket
from app.tickets.models import Ticket, TicketEvent
from app.tickets.schemas import EventRead, TicketPage, TicketQuery, TicketRead
from app.timefmt import LOCAL_TZ, assume_local


class NoUnitsOfYourOwn(ValidationFailed):
    """`unit=mine` from someone who is no unit's agent."""

    MESSAGE = "'mine' means the units of a unit agent; you have none, so give unit codes"

    def __init__(self, loc: list[str | int]):
        self.loc = loc
        super().__init__([field_error(loc, self.MESSAGE)])


async def load(ctx: TicketContext, id_or_reference: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this id or reference (HN-2026-000123), row-locked when `for_update`.
    NotFound when there is none, or when an agent's units never had it (it does not exist
    for them)."""
    # isdecimal() alone accepts other scripts' digits ('٣', '²' is isdigit()), int() not all.
    plain_id = id_or_reference.isascii() and id_or_reference.isdecimal()
    ticket_id = int(id_or_reference) if plain_id else ctx.parse_reference(id_or_reference)
    ticket = None
    if ticket_id is not None and ticket_id < 2**31:
        ticket = await repo.get_ticket(ctx.session, ticket_id=ticket_id, for_update=for_update)
    if (
        ticket is not None
        and not plain_id
        and (ctx.reference(ticket).upper() != id_or_reference.strip().upper())
    ):
        ticket = None
    if ticket is not None and ctx.principal.scoped_to_units:
        units = await repo.units_involved(ctx.session, ticket_id=ticket.id)
        if not units & ctx.principal.units:
            ticket = None
    if ticket is None:
        raise NotFound(
            f"No ticket '{id_or_reference}' (give its id or reference, e.g. HN-2026-000123)."
        )
    return ticket


async def load_for(ctx: TicketContext, action: str, id_or_reference: str) -> Ticket:
    """The ticket an action is about, row-locked; marking a duplicate first takes the lock
    that serialises markings (app.tickets.duplicates), before any row lock."""
    if action == "duplicate":
        await repo.serialise_duplicate_marking(ctx.session)
    return await load(ctx, id_or_reference, for_update=True)


async def read(ctx: TicketContext, ticket: Ticket, known: LoadedTicket | None = None) -> TicketRead:
    """The full view of one ticket, with every assignment; `known`: its assignments and
    pauses as an action just left them (not loaded again)."""
    loaded = known or await loading.load(ctx.session, ticket)
    duplicate_of = None
    if ticket.duplicate_of_id:
        # Usually in the session already (the marking loaded it): no round trip then.
        original = await ctx.session.get(Ticket, ticket.duplicate_of_id)
        duplicate_of = ctx.reference(original) if original else None
    latest = await latest_callback_events(ctx.session, [ticket])
    read = presenter.to_read(
        ctx,
        ticket,
        loaded.current,
        loaded.assignments,
        duplicate_of,
        loaded.pause_map(),
        latest,
    )
    read.reporters = await reporters(ctx, ticket)
    return read


async def latest_callback_events(
    session: AsyncSession, tickets: list[Ticket]
) -> dict[tuple[int, str], TicketEvent]:
    """The latest info_requested / resolved event of the tickets whose status shows one."""
    ids = [t.id for t in tickets if callback.needs_events(t)]
    return await repo.latest_events(
        session,
        ticket_ids=ids,  # type: ignore[arg-type]
        kinds=callback.EVENT_KINDS,
    )


async def search(ctx: TicketContext, query: TicketQuery) -> TicketPage:
    """A page of the tickets this caller may see that match every filter given.

    `q` is read by app.search.text.read_query (words in any order, a reference or part of
    one, a phone); sort=relevance ranks the newest matches (app.search.ranking).
    """
    typed = read_query(query.q) if query.q else SearchQuery()
    flt = await _filter(ctx, query, typed)
    if query.q and not (flt.words or flt.ticket_id or flt.text_phone):
        return TicketPage(items=[], next_cursor=None)  # nothing searchable was typed
    if query.sort == "relevance":
        rows, more = await ranked_page(ctx.session, flt, typed, query.cursor, query.limit)
        found = await page(ctx, rows, query.limit)
        found.next_cursor = more
        return found
    after = decode_cursor(query.cursor, ["cursor"]) if query.cursor else None
    rows = await search_repo.list_tickets(
        ctx.session, flt=flt, sort=query.sort, after=after, limit=query.limit + 1
    )
    if typed.year is not None:
        rows = [t for t in rows if t.received_at.astimezone(LOCAL_TZ).year == typed.year]
    by: bool | str = "reports" if query.sort == "-reports" else query.sort == "due"
    return await page(ctx, rows, query.limit, by_due=by)


async def count(ctx: TicketContext, query: TicketQuery) -> int:
    """How many tickets this caller may see match the filters of `query` (sort, limit and
    cursor apart): the total beside a paged list. A `q` counts its words, reference or phone,
    but not a year it names (search applies that to the page read)."""
    typed = read_query(query.q) if query.q else SearchQuery()
    flt = await _filter(ctx, query, typed)
    if query.q and not (flt.words or flt.ticket_id or flt.text_phone):
        return 0  # nothing searchable was typed, as search() finds nothing
    return await repo.count_tickets(ctx.session, flt=flt)


async def _filter(ctx: TicketContext, query: TicketQuery, typed: SearchQuery) -> repo.TicketFilter:
    """The repository filter of a query: names resolved, subtrees expanded, the caller's scope."""
    phone = phone_of(query.caller_phone, ["caller_phone"])
    principal = ctx.principal
    return repo.TicketFilter(
        statuses=statuses_meant(query.statuses),
        units=units_meant(ctx, query.units),
        areas=sorted(areas_under(ctx, query.areas, ["area"])),
        topics=sorted(topics_under(ctx, query.topics)),
        priorities=query.priorities,
        channels=query.channels,
        received_from=assume_local(query.received_from) if query.received_from else None,
        received_to=assume_local(query.received_to) if query.received_to else None,
        caller_phone=phone,
        caller_pseudonym=ctx.privacy.pseudonym(phone, "phone") if phone and ctx.privacy else None,
        words=await search_repo.words_rarest_first(ctx.session, typed.words),
        ticket_id=typed.ticket_id if typed.ticket_id and typed.ticket_id < 2**31 else None,
        text_phone=typed.phone,
        visible_to_units=sorted(principal.units) if principal.scoped_to_units else None,
        # Caller history never links a number to a confidential ticket (the masking rule).
        hide_confidential_callers=True,
        sla_states=query.sla_states,
        now=ctx.now,
    )


def units_meant(ctx: TicketContext, units: list[str]) -> list[str]:
    """Unit codes of the `unit` filter; `mine` is the signed-in agent's own units. An unknown
    code is UnknownCode (app.catalog.codes): a typo must not read as "no tickets"."""
    for code in units:
        if code != "mine":
            check_unit(ctx, code, ["unit"])
    if "mine" not in units:
        return units
    if not ctx.principal.units:
        raise NoUnitsOfYourOwn(["unit"])
    return sorted({u for u in units if u != "mine"} | ctx.principal.units)


def topics_under(ctx: TicketContext, codes: list[str]) -> set[str]:
    """The topics of the `topic` filter and all their subtopics; UnknownCode for a bad one."""
    topics: set[str] = set()
    for code in codes:
        check_topic(ctx, code, ["topic"])
        topics |= ctx.catalog.topic_subtree(code)
    return topics


async def page(
    ctx: TicketContext, tickets: list[Ticket], limit: int, by_due: bool | str = False
) -> TicketPage:
    """The first `limit` of `tickets` as reads (with their open assignments), and the cursor
    after them when there are more."""
    has_more = len(tickets) > limit
    tickets = tickets[:limit]
    current = await repo.open_assignments(ctx.session, ticket_ids=[t.id for t in tickets])
    pauses = await pauses_of(ctx.session, assignment_ids=[a.id for a in current.values()])
    cursor = encode_cursor(tickets[-1], by_due) if has_more else None
    latest = await latest_callback_events(ctx.session, tickets)
    return TicketPage(
        items=[
            presenter.to_read(ctx, t, current.get(t.id), pauses=pauses, latest=latest)
            for t in tickets
        ],
        next_cursor=cursor,
    )


async def events(ctx: TicketContext, ticket: Ticket) -> list[EventRead]:
    """The ticket's history, oldest first, as this viewer may see it."""
    rows = await repo.events_of(ctx.session, ticket_id=ticket.id)
    return presenter.event_reads(ctx, ticket, rows)
