"""The distinct words of the tickets' search vectors (PostgreSQL's `search_lexeme`, migrations
7060bbf944ad and adfe2c2b4252): read to turn a typed prefix into exact words (app.search.prefixes), advanced
by the periodic maintenance. Never on the intake path.

What keeps the table complete for every ticket up to `search_lexeme_mark.upto_id`:
- new tickets: `refresh`, in the periodic maintenance (app.periodic), adds the words of the
  tickets in (upto_id, pending_id] and sets upto_id to pending_id and pending_id to the newest
  id. A ticket's id is drawn inside its intake statement, which commits as it ends, so one
  refresh later every id up to pending_id has committed or never will;
- changed tickets (corrections, erasure, retention): the trigger `ticket_search_lexemes` adds
  the words a new search text brings and deletes the words no ticket holds any more.
Privacy: an erased or anonymised caller's name leaves the tickets' search text, so its words
leave this table in the same transaction unless another ticket still holds them. Words that
begin with a digit (phone numbers) are never kept. docs/search.md, docs/privacy.md.
"""

from collections.abc import Sequence

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Text

from app.search.prefixes import MAX_EXACT, Expansions, expandable, from_rows

# pg_advisory_xact_lock key taken by every change of words (the trigger) and by `refresh`: the
# migrations' REMOVAL_LOCK, the same constant ("1022 search lexemes").
REMOVAL_LOCK = 0x1022_5E1E
# Begins with a letter: "hh4c" is begun by the typed "hh"; a phone number never is.
_LETTERS = "'^[a-z][a-z0-9]*$'"

_EXPANSIONS = text(
    "SELECT m.upto_id, (SELECT coalesce(max(id), 0) FROM ticket), w.word, ARRAY("
    'SELECT l.lexeme FROM search_lexeme l WHERE l.lexeme >= w.word COLLATE "C" '
    "AND l.lexeme < (w.word || '{') COLLATE \"C\" ORDER BY l.lexeme LIMIT :most) "
    "FROM search_lexeme_mark m, unnest(:words) AS w(word)"
).bindparams(bindparam("words", type_=ARRAY(Text)))


async def expansions(session: AsyncSession, words: Sequence[str]) -> Expansions | None:
    """Each word's exact words (at most prefixes.MAX_EXACT + 1) and the watermark, in one
    statement (a btree range per word: well under a millisecond); None when no word can be
    expanded, or the table is missing or too far behind (prefixes.from_rows)."""
    letters = [w for w in words if expandable(w)]
    if not letters:
        return None
    rows = (await session.execute(_EXPANSIONS, {"words": letters, "most": MAX_EXACT + 1})).all()
    if not rows:
        return None
    found = {row[2]: row[3] for row in rows}
    return from_rows(int(rows[0][0]), int(rows[0][1]), found)


async def refresh(session: AsyncSession) -> int:
    """Add the words of the tickets received since the last refresh but one, and move the
    watermark; the number of tickets read. The caller commits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REMOVAL_LOCK})
    upto, pending = (
        await session.execute(text("SELECT upto_id, pending_id FROM search_lexeme_mark FOR UPDATE"))
    ).one()
    if pending > upto:
        await session.execute(
            text(
                "INSERT INTO search_lexeme (lexeme) SELECT DISTINCT l FROM ticket, "
                "unnest(tsvector_to_array(search_vector)) AS l "
                f"WHERE ticket.id > :upto AND ticket.id <= :pending AND l ~ {_LETTERS} "
                "ORDER BY l ON CONFLICT DO NOTHING"
            ),
            {"upto": upto, "pending": pending},
        )
    await session.execute(
        text(
            "UPDATE search_lexeme_mark SET upto_id = :pending, "
            "pending_id = (SELECT coalesce(max(id), 0) FROM ticket)"
        ),
        {"pending": pending},
    )
    return int(pending - upto)


async def rebuild(session: AsyncSession) -> int:
    """Every ticket's words, the watermark at the newest ticket (a bulk load: bench/search_1m.py;
    nothing may be filing tickets meanwhile); the number of words. The caller commits."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REMOVAL_LOCK})
    await session.execute(text("DELETE FROM search_lexeme"))
    await session.execute(
        text(
            "INSERT INTO search_lexeme (lexeme) SELECT DISTINCT l FROM ticket, "
            f"unnest(tsvector_to_array(search_vector)) AS l WHERE l ~ {_LETTERS}"
        )
    )
    await session.execute(
        text(
            "UPDATE search_lexeme_mark SET upto_id = newest, pending_id = newest "
            "FROM (SELECT coalesce(max(id), 0) AS newest FROM ticket) AS t"
        )
    )
    return int((await session.execute(text("SELECT count(*) FROM search_lexeme"))).scalar_one())
