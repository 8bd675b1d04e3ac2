"""The SQL side of `q`: one condition per database, chosen by measurement (docs/search.md).

PostgreSQL: the words as a prefix tsquery over ticket.search_vector (a stored
to_tsvector('simple', search_text), migration b51c0e7d4a93) with a GIN index. The first word,
the rarest by the column's statistics (app.search.rarity), is the indexed condition; the others
are checked on the rows it finds, wrapped so that the planner does not multiply their shares
(words typed together are seldom independent: it would expect a handful of rows and read
every match of two common words). Words are rendered into the statement text, never
parameters: the app's reused prepared statements may switch to a generic plan, which could not
see how rare a parameter's word is.

SQLite (the embedded default): each word as `LIKE '% word%'` over ' ' || search_text, a scan
of the table; fine at embedded sizes, see docs/search.md for the limits.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from app.search import lexemes
from app.search.rarity import (
    WordStats,
    newest_fraction,
    rarest_first,
    read_through_index,
    window_start,
)
from app.search.words import words_condition
from app.tickets import repository as tickets_repo
from app.tickets.models import Ticket


@dataclass(frozen=True)
class SearchStats:
    """What PostgreSQL's statistics say about tickets: word shares, row count, and the
    equal-count histogram of received_at (ascending)."""

    words: WordStats | None
    rows: float
    received_bounds: tuple[datetime, ...]


# Statistics per database, re-read at most every STATS_TTL seconds (ANALYZE, which refreshes
# them, runs as autovacuum sees fit: minutes apart at the earliest).
STATS_TTL = 300.0
_stats: dict[str, tuple[float, SearchStats | None]] = {}


async def search_stats(session: AsyncSession) -> SearchStats | None:
    """pg_stats of ticket.search_vector and ticket.received_at and the row estimate, cached per
    database for STATS_TTL seconds; None on SQLite."""
    bind = session.bind
    if bind.dialect.name != "postgresql":
        return None
    key = bind.url.render_as_string(hide_password=True)
    now = time.monotonic()
    cached = _stats.get(key)
    if cached is not None and now - cached[0] < STATS_TTL:
        return cached[1]
    row = (
        await session.execute(
            text(
                "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'ticket'::regclass), "
                "(SELECT most_common_elems::text::text[] FROM pg_stats WHERE schemaname = "
                "current_schema() AND tablename = 'ticket' AND attname = 'search_vector'), "
                "(SELECT most_common_elem_freqs FROM pg_stats WHERE schemaname = "
                "current_schema() AND tablename = 'ticket' AND attname = 'search_vector'), "
                "(SELECT histogram_bounds::text::timestamptz[] FROM pg_stats WHERE schemaname = "
                "current_schema() AND tablename = 'ticket' AND attname = 'received_at')"
            )
        )
    ).one()
    stats = SearchStats(
        words=WordStats.from_pg_stats(row[1], row[2]) if row[1] else None,
        rows=float(row[0] or 0),
        received_bounds=tuple(row[3] or ()),
    )
    _stats[key] = (now, stats)
    return stats


async def words_rarest_first(session: AsyncSession, words: Sequence[str]) -> tuple[str, ...]:
    """The typed words, rarest first (app.search.rarity)."""
    if not words:
        return ()
    stats = await search_stats(session)
    return rarest_first(words, stats.words if stats else None)


async def newest_window(session: AsyncSession, flt: Any, limit: int) -> Any:
    """For several words whose rarest is common, a received_at from which the newest `limit`
    matches are expected (with a margin; rarity.newest_fraction); else None. Never when q
    also names a ticket or a phone (an old one must be found). Rounded down to the hour, so
    that searches within the hour share a statement. PostgreSQL only.

    Why: the rarest word alone estimates rows well for one word, but two common words may
    seldom come together ("karaoke nước"), and walking the newest-first index until 51 match
    would then read the whole table. Within the window any plan is bounded by its size.
    (One word in a window was tried: PostgreSQL then intersected the word's GIN bitmap with
    the window's range, which for a prefix word like `rac:*` gathers all its 28,000 postings:
    26 ms where the plain walk takes 1 ms; for `miếu` it saved little. docs/search.md.)"""
    if len(flt.words) < 2 or flt.ticket_id or flt.text_phone:
        return None
    stats = await search_stats(session)
    if stats is None or stats.words is None:
        return None
    fraction = newest_fraction(limit, stats.words.share(flt.words[0]), stats.rows)
    if fraction is None:
        return None
    start = window_start(stats.received_bounds, fraction)
    return start.replace(minute=0, second=0, microsecond=0) if start is not None else None


def _since(dialect: str, start: datetime) -> Any:
    """received_at >= start. On PostgreSQL rendered, not a parameter: a generic plan could not
    see how narrow the window is, and might read every match of the words before filtering by
    time (isoformat of a datetime is safe to render)."""
    if dialect != "postgresql":
        return Ticket.received_at >= start
    return text(f"ticket.received_at >= '{start.astimezone(UTC).isoformat()}'::timestamptz")


async def _windowed(
    session: AsyncSession, flt: Any, limit: int, start: datetime, read: Any, enough: int = 0
) -> list[Any]:
    """Several common words: newest first within the window, every word checked row by row
    (a bounded walk); if that gives fewer than `limit`, all matches through the index (the
    words seldom come together, so there are few), each word asked as the exact words it
    begins (app.search.lexemes): GIN then intersects them skipping, instead of gathering every
    posting of each prefix (`karaoke nước`: 15.5 ms -> ~1 ms at 1M tickets).
    `enough`: fewer rows than `limit` that will do (sort=relevance: the page asked for)."""
    dialect = session.bind.dialect.name
    base = tickets_repo.filter_conditions(replace(flt, words=()), dialect)
    window = [words_condition(dialect, flt.words, "none"), _since(dialect, start)]
    rows = await read([*base, *window])
    if len(rows) >= min(enough or limit, limit):
        return rows
    exact = await lexemes.expansions(session, flt.words) if dialect == "postgresql" else None
    return await read([*base, words_condition(dialect, flt.words, "all", exact)])


async def list_tickets(
    session: AsyncSession,
    *,
    flt: Any,
    sort: str,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Ticket]:
    """app.tickets.repository.list_tickets, with several common words read in a window.

    Newest first with several words whose rarest is common (newest_window): the newest
    tickets expected to hold `limit` matches are walked first, then, if they held too few, the
    matches are read through the index. Otherwise exactly as list_tickets.
    """
    newest_first = sort == "-received_at"
    start = await newest_window(session, flt, limit) if newest_first else None
    few = newest_first and start is None and await few_matches(session, flt, limit)
    if start is None and not few:
        return await tickets_repo.list_tickets(
            session, flt=flt, sort=sort, after=after, limit=limit
        )

    # Newest first, after the cursor's (received_at, id).
    cursor = (
        []
        if after is None
        else [
            or_(
                Ticket.received_at < after[0],
                and_(Ticket.received_at == after[0], Ticket.id < after[1]),
            )
        ]
    )

    async def read(conditions: list[Any]) -> list[Ticket]:
        stmt = (
            select(Ticket)
            .where(*conditions, *cursor)
            .order_by(Ticket.received_at.desc(), Ticket.id.desc())
            .limit(limit)
        )
        return list((await session.scalars(stmt)).all())

    if few:
        # Ids first: sorting thousands of whole rows (2.7 kB each) took twice as long.
        ids = select(Ticket.id).where(*await _index_read(session, flt), *cursor)
        ids = ids.order_by(_SORTED_NOT_WALKED.desc(), Ticket.id.desc()).limit(limit)
        return await tickets_by_ids(session, ids=list((await session.scalars(ids)).all()))
    return await _windowed(session, flt, limit, start, read)


# received_at as an expression the received_at index cannot serve (the same order): the
# planner then reads the matches through the GIN index and sorts them, instead of walking.
_SORTED_NOT_WALKED = Ticket.received_at + text("interval '0'")


async def few_matches(session: AsyncSession, flt: Any, limit: int) -> bool:
    """Whether the rarest word of `q` has few enough matches to read them all through the index
    (rarity.read_through_index), on PostgreSQL, when `q` is only words. The planner would
    otherwise walk newest first for a word of a few thousand tickets, as its estimate of the
    walk assumes matches spread evenly (`miếu`: 22,292 rows walked for 51)."""
    if not flt.words or flt.ticket_id or flt.text_phone:
        return False
    stats = await search_stats(session)
    if stats is None or stats.words is None:
        return False
    return read_through_index(limit, stats.words.share(flt.words[0]), stats.rows)


async def _index_read(session: AsyncSession, flt: Any) -> list[Any]:
    """The filter's conditions with the rarest word served by the index as its exact words
    (app.search.lexemes: GIN reads an exact word's postings faster than a prefix's)."""
    dialect = session.bind.dialect.name
    base = tickets_repo.filter_conditions(replace(flt, words=()), dialect)
    exact = await lexemes.expansions(session, flt.words[:1]) if dialect == "postgresql" else None
    return [*base, words_condition(dialect, flt.words, "rarest", exact)]


async def ranked_candidates(
    session: AsyncSession, *, flt: Any, conditions: list[Any], pool: int, enough: int = 0
) -> list[tuple[int, str]]:
    """(id, search text) of the newest `pool` tickets meeting the conditions (those of flt),
    for ranking. Several common words are read in a window (newest_window); when it holds
    fewer than `pool` but at least `enough` (the page asked for), those are the pool: the
    newest matches still, without reading every older match through the index."""

    async def read(where: list[Any]) -> list[tuple[int, str]]:
        stmt = (
            select(Ticket.id, Ticket.search_text)
            .where(*where)
            .order_by(Ticket.received_at.desc(), Ticket.id.desc())
            .limit(pool)
        )
        return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]

    start = await newest_window(session, flt, pool)
    if start is None:
        return await read(conditions)
    return await _windowed(session, flt, pool, start, read, enough)


async def tickets_by_ids(session: AsyncSession, *, ids: Sequence[int]) -> list[Any]:
    """Tickets with these ids, in the order given."""
    if not ids:
        return []
    rows = {t.id: t for t in (await session.scalars(select(Ticket).where(Ticket.id.in_(ids))))}
    return [rows[i] for i in ids if i in rows]


# Statuses whose work is not done (app.tickets.lifecycle.OPEN), as literals: a constant list
# lets PostgreSQL's generic plans use it like a custom plan would.
OPEN_STATUSES = ("new", "assigned", "acknowledged", "in_progress", "waiting_citizen")


def _caller(phones: Sequence[str], exclude_id: int | None) -> list[Any]:
    conditions = [Ticket.caller_phone.in_(phones), Ticket.confidential.is_(False)]
    if exclude_id is not None:
        conditions.append(Ticket.id != exclude_id)
    return conditions


async def caller_tickets(
    session: AsyncSession, *, phones: Sequence[str], limit: int, exclude_id: int | None = None
) -> list[Ticket]:
    """A caller's tickets (any of these numbers; never confidential ones), newest first."""
    stmt = (
        select(Ticket)
        .where(*_caller(phones, exclude_id))
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def caller_counts(
    session: AsyncSession,
    *,
    phones: Sequence[str],
    since_30: Any,
    since_365: Any,
    exclude_id: int | None = None,
) -> tuple[int, int, int]:
    """(tickets since since_30, since since_365, open ones) of a caller, confidential excluded."""
    stmt = select(
        func.count().filter(Ticket.received_at >= since_30),
        func.count().filter(Ticket.received_at >= since_365),
        func.count().filter(Ticket.status.in_(OPEN_STATUSES)),
    ).where(*_caller(phones, exclude_id))
    row = (await session.execute(stmt)).one()
    return int(row[0]), int(row[1]), int(row[2])


# What similarity needs of a ticket: plain rows, not ORM objects (hundreds per request).
SIMILAR_COLUMNS = (
    Ticket.id,
    Ticket.received_at,
    Ticket.caller_phone,
    Ticket.area_code,
    Ticket.topic_code,
    Ticket.status,
    Ticket.description,
    Ticket.latitude,
    Ticket.longitude,
    Ticket.confidential,
)
_NOT_CANDIDATES = ("duplicate", "cancelled")


async def similar_pool(
    session: AsyncSession,
    *,
    phones: Sequence[str] = (),
    phone_since: Any = None,
    area: str | None = None,
    topic: str | None = None,
    since: Any,
    limit: int,
) -> list[Any]:
    """Rows that may be the same problem: the caller's since `phone_since`, and the newest
    `limit` of the area's (else the topic's) since `since`. Duplicates and cancelled left out."""
    rows: dict[int, Any] = {}
    queries = []
    if phones:
        queries.append(
            select(*SIMILAR_COLUMNS)
            .where(Ticket.caller_phone.in_(phones), Ticket.received_at >= phone_since)
            .order_by(Ticket.received_at.desc())
            .limit(20)
        )
    if area or topic:
        column = Ticket.area_code if area else Ticket.topic_code
        queries.append(
            select(*SIMILAR_COLUMNS)
            .where(column == (area or topic), Ticket.received_at >= since)
            .order_by(Ticket.received_at.desc())
            .limit(limit)
        )
    for stmt in queries:
        for row in (await session.execute(stmt.where(Ticket.status.not_in(_NOT_CANDIDATES)))).all():
            rows[row.id] = row
    return list(rows.values())


async def duplicates_of(session: AsyncSession, *, ticket_id: int, limit: int) -> list[Ticket]:
    """Tickets marked as duplicates of this one, oldest call first."""
    stmt = (
        select(Ticket)
        .where(Ticket.duplicate_of_id == ticket_id)
        .order_by(Ticket.received_at, Ticket.id)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())
