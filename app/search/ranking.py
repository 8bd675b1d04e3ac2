"""sort=relevance: the newest matches, ranked by how well they answer the words.

Ranking reads the newest RELEVANCE_POOL matches only (a bounded cost whatever the word: a
common word matches hundreds of thousands of tickets), or fewer when words that are not rare
are sparse in the newest tickets (app.search.repository.ranked_candidates); operators look for recent calls, and a
better-matching old ticket is still found by adding a word or a date range.
"""

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import ValidationFailed, field_error
from app.search.repository import ranked_candidates, tickets_by_ids
from app.search.text import SearchQuery, relevance
from app.tickets import repository as repo

RELEVANCE_POOL = 300


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if cursor.startswith("r") and cursor[1:].isdigit() and int(cursor[1:]) < RELEVANCE_POOL:
        return int(cursor[1:])
    raise ValidationFailed(
        [field_error(["cursor"], "not a cursor from a previous page; start without it")]
    )


def rank(candidates: list[tuple[int, str]], typed: SearchQuery) -> list[int]:
    """Ids best first; the typed reference first of all; ties keep newest first. Pure."""
    scored = [
        (
            (100.0 if typed.ticket_id == ticket_id else 0.0) + relevance(text, typed.words),
            -position,
            ticket_id,
        )
        for position, (ticket_id, text) in enumerate(candidates)
    ]
    scored.sort(reverse=True)
    return [ticket_id for _, _, ticket_id in scored]


async def ranked_page(
    session: AsyncSession, flt: Any, typed: SearchQuery, cursor: str | None, limit: int
) -> tuple[list[Any], str | None]:
    """(tickets of this page best first, the next page's cursor or None). 422 for a bad cursor."""
    offset = _offset(cursor)
    conditions = repo.filter_conditions(flt, session.bind.dialect.name)
    # A page and the look-ahead for "more" will do when the words are sparse of late.
    candidates = await ranked_candidates(
        session, flt=flt, conditions=conditions, pool=RELEVANCE_POOL, enough=offset + limit + 1
    )
    ids = rank(candidates, typed)
    page = ids[offset : offset + limit]
    more = f"r{offset + limit}" if offset + limit < len(ids) else None
    return await tickets_by_ids(session, ids=page), more
