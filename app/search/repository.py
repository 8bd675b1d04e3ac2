"""The SQL side of `q`: one condition per database, chosen by measurement (docs/search.md).

PostgreSQL: a GIN index on to_tsvector('simple', search_text) (migration 2026_11_29_0950).
The tsquery is rendered into the statement text, never a parameter: a parameter lets
PostgreSQL switch the app's reused prepared statement to a generic plan that cannot see how
rare a word is, and walks the newest-first index through the whole table for a rare word.
With the words in the text every distinct query is planned with its own word statistics
(ANALYZE keeps the frequency of the most common words of the index expression).

SQLite (the embedded default): each word as `LIKE '% word%'` over ' ' || search_text, a scan
of the table; fine at embedded sizes, see docs/search.md for the limits.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, literal, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import func

from app.search.text import prefix_tsquery
from app.tickets.models import Ticket

_SIMPLE = literal_column("'simple'::regconfig")
# Exactly the indexed expression (the planner matches it textually).
TSVECTOR = func.to_tsvector(_SIMPLE, Ticket.search_text)


def words_condition(dialect: str, words: Sequence[str]) -> Any:
    """Every word begins a word of the ticket's search text (any order)."""
    words = tuple(words)
    if dialect == "postgresql":
        query = func.to_tsquery(_SIMPLE, literal(prefix_tsquery(words), literal_execute=True))
        return TSVECTOR.op("@@")(query)
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
