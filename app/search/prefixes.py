"""A typed word as the exact words it begins, for PostgreSQL's GIN index. Pure: no database.

Why: GIN answers a prefix term (`nuoc:*`) by gathering every posting of every word with that
prefix into a bitmap before it can intersect it with anything (~0.5 µs a posting: 68,000 for
`nuoc:*` at 1M tickets), while exact words (`nuoc | nuocx`) are intersected skipping through
their posting trees: `karaoke:* & nuoc:*` 15.5 ms, the same as exact words 1.2 ms.

The meaning stays: a word still matches every word it begins. The exact words come from
`search_lexeme` (app.search.lexemes), complete for tickets up to its watermark `upto_id`;
newer tickets are checked with the prefix form, row by row, on their short id range.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# At most this many exact words stand for a typed word; more (a short prefix such as "n"),
# and the prefix form is kept: a long OR costs an entry-tree descent per word, and a prefix
# that common is better walked than intersected anyway (docs/search.md).
MAX_EXACT = 32
# Past this many tickets newer than the watermark (the periodic refresh is not running), the
# prefix form is kept: checking them row by row would cost more than it saves.
MAX_NEWER = 20_000


@dataclass(frozen=True)
class Expansions:
    """Each typed word's exact words (sorted; None: keep the prefix form), complete for the
    tickets with id <= upto_id."""

    upto_id: int
    words: Mapping[str, tuple[str, ...] | None]


def expandable(word: str) -> bool:
    """Only letters: the table keeps no word that begins with a digit (phone numbers, house
    numbers), so a typed word with digits keeps the prefix form. (A word it holds may go on
    with digits: "hh4c", begun by the typed "hh".)"""
    return word.isascii() and word.isalpha()


def from_rows(
    upto_id: int, newest_id: int, found: Mapping[str, Sequence[str]]
) -> Expansions | None:
    """Expansions from what the table holds: `found` is each word's exact words, at most
    MAX_EXACT + 1 of them (one more tells "too many"). None when more than MAX_NEWER tickets
    are newer than the watermark."""
    if newest_id - upto_id > MAX_NEWER:
        return None
    words = {
        w: (tuple(exact) if expandable(w) and len(exact) <= MAX_EXACT else None)
        for w, exact in found.items()
    }
    return Expansions(upto_id=upto_id, words=words)


def exact_tsquery(words: Sequence[str], expansions: Expansions) -> str:
    """The words as a tsquery of exact words, e.g. ("karaoke", "nuoc") ->
    "(karaoke) & (nuoc | nuocx)", a word not expanded keeping "w:*". A word that begins no word
    up to the watermark becomes itself, exact: it matches none of those tickets, and GIN looks
    it up cheaply (the newer tickets are checked with the prefix form)."""
    terms = []
    for w in words:
        exact = expansions.words.get(w)
        # Rendered into statements: only letters and digits (the table keeps nothing else).
        assert exact is None or all(e.isascii() and e.isalnum() for e in exact), exact
        if exact is None:
            terms.append(f"{w}:*")
        else:
            terms.append("(" + " | ".join(exact or (w,)) + ")")
    return " & ".join(terms)


def prefix_tsquery(words: Sequence[str]) -> str:
    """Every word as a prefix: "karaoke:* & nuoc:*"."""
    return " & ".join(f"{w}:*" for w in words)
