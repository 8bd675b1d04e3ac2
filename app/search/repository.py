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
from typing import Any

from sqlalchemy import and_, literal, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from app.search.rarity import WordStats, rarest_first
from app.tickets.models import Ticket


def _tsquery(words: Sequence[str]) -> str:
    return " & ".join(f"{w}:*" for w in words)


def words_condition(dialect: str, words: Sequence[str]) -> Any:
    """Every word begins a word of the ticket's search text (any order).

    words: folded, rarest first (words_rarest_first); on PostgreSQL the first is looked up in
    the index and the others checked on what it finds. Safe to render: folded words hold only
    [0-9a-z] (app.search.text.read_query).
    """
    assert words and all(w.isalnum() and w.isascii() for w in words), words
    if dialect == "postgresql":
        first = text(f"ticket.search_vector @@ '{_tsquery(words[:1])}'::tsquery")
        if len(words) == 1:
            return first
        # COALESCE hides the other words from the selectivity estimate (PostgreSQL then takes
        # 0.5 for the whole), and from the index, which the first word already narrows.
        rest = text(f"COALESCE(ticket.search_vector @@ '{_tsquery(words[1:])}'::tsquery, false)")
        return and_(first, rest)
    padded = literal(" ") + Ticket.search_text
    return and_(*(padded.like(literal(f"% {w}%", literal_execute=True)) for w in words))


# Word statistics per database, re-read at most every STATS_TTL seconds (ANALYZE, which
# refreshes them, runs as autovacuum sees fit: minutes apart at the earliest).
STATS_TTL = 300.0
_stats: dict[str, tuple[float, WordStats | None]] = {}


async def word_stats(session: AsyncSession) -> WordStats | None:
    """The common words of ticket.search_vector and their shares (pg_stats), cached per
    database for STATS_TTL seconds; None on SQLite or before the first ANALYZE."""
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
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = 'ticket' "
                "AND attname = 'search_vector'"
            )
        )
    ).first()
    stats = WordStats.from_pg_stats(row[0], row[1]) if row and row[0] else None
    _stats[key] = (now, stats)
    return stats


async def words_rarest_first(session: AsyncSession, words: Sequence[str]) -> tuple[str, ...]:
    """The typed words in the order words_condition wants them: rarest first (app.search.rarity)."""
    if not words:
        return ()
    return rarest_first(words, await word_stats(session))


async def ranked_candidates(
    session: AsyncSession, *, conditions: list[Any], pool: int
) -> list[tuple[int, str]]:
    """(id, search text) of the newest `pool` tickets meeting the conditions, for ranking."""
    stmt = (
        select(Ticket.id, Ticket.search_text)
        .where(*conditions)
        .order_by(Ticket.received_at.desc(), Ticket.id.desc())
        .limit(pool)
    )
    return [(row[0], row[1]) for row in (await session.execute(stmt)).all()]


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
