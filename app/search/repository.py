"""The SQL side of `q`: one condition per database, chosen by measurement (docs/search.md).

PostgreSQL: each word as the regular expression `(^| )word` over search_text, served by a
pg_trgm GIN index (migration 2026_11_29_0950). The pattern is rendered into the statement
text, never a parameter: with a parameter PostgreSQL may switch the app's reused prepared
statement to a generic plan that cannot see how rare a word is, and walk the newest-first
index through the whole table for a rare word. With the pattern in the text, every distinct
query is planned with its own pattern (estimated against the column's statistics).

SQLite (the embedded default): each word as `LIKE '% word%'` over ' ' || search_text, a scan
of the table; fine at embedded sizes, see docs/search.md for the limits.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from app.tickets.models import Ticket


def words_condition(dialect: str, words: Sequence[str]) -> Any:
    """Every word begins a word of the ticket's search text (any order).

    Safe to render: folded words hold only [0-9a-z] (app.search.text.read_query).
    """
    assert all(w.isalnum() and w.isascii() for w in words), words
    if dialect == "postgresql":
        return and_(
            *(Ticket.search_text.op("~")(literal(f"(^| ){w}", literal_execute=True)) for w in words)
        )
    padded = literal(" ") + Ticket.search_text
    return and_(*(padded.like(literal(f"% {w}%", literal_execute=True)) for w in words))


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
