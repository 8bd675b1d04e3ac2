"""The condition that a ticket's search text holds every word of `q`, on each database.

Its own module because both the ticket list (app.tickets.repository, any `q`) and the search
windowing (app.search.repository, several common words) build on it; the reasons for its
forms are in app.search.repository's docstring and docs/search.md.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, literal, text

from app.search.prefixes import Expansions, exact_tsquery
from app.search.prefixes import prefix_tsquery as _tsquery
from app.tickets.models import Ticket


def _served(words: Sequence[str], expansions: Expansions | None) -> Any:
    """The index-served words: as exact words where the table has them (app.search.prefixes),
    the tickets newer than its watermark checked with the prefix form on their id range (the
    COALESCE keeps that part out of the index: the primary key serves `id > upto`)."""
    plain = _tsquery(words)
    exact = exact_tsquery(words, expansions) if expansions is not None else plain
    if expansions is None or exact == plain:
        return text(f"ticket.search_vector @@ '{plain}'::tsquery")
    return text(
        f"(ticket.search_vector @@ '{exact}'::tsquery OR (ticket.id > {int(expansions.upto_id)} "
        f"AND COALESCE(ticket.search_vector @@ '{plain}'::tsquery, false)))"
    )


def words_condition(
    dialect: str,
    words: Sequence[str],
    index: str = "rarest",
    expansions: Expansions | None = None,
) -> Any:
    """Every word begins a word of the ticket's search text (any order).

    words: folded, rarest first (words_rarest_first). Safe to render: folded words hold only
    [0-9a-z] (app.search.text.read_query). On PostgreSQL, `index` says which words the GIN
    index may serve: "rarest" (the first; the others are checked on the rows it finds, wrapped
    so that the planner estimates the rows by the rarest word alone, not by the product of
    the words' shares: words typed together are seldom independent), "all" (the index
    intersects them all), "none" (every word checked row by row: a walk newest first).
    `expansions` (app.search.lexemes): the index-served words are asked as their exact words.
    """
    assert words and all(w.isalnum() and w.isascii() for w in words), words
    if dialect == "postgresql":
        served = {"rarest": 1, "all": len(words), "none": 0}[index]
        parts = []
        if served:
            parts.append(_served(words[:served], expansions))
        if words[served:]:
            # COALESCE hides the words from the index and from the estimate (taken as 0.5).
            rest = _tsquery(words[served:])
            parts.append(text(f"COALESCE(ticket.search_vector @@ '{rest}'::tsquery, false)"))
        return and_(*parts) if len(parts) > 1 else parts[0]
    padded = literal(" ") + Ticket.search_text
    return and_(*(padded.like(literal(f"% {w}%", literal_execute=True)) for w in words))
