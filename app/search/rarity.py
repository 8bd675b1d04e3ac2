"""Which typed word is rarest: the one a search should look up first. Pure: no database.

PostgreSQL keeps, for ticket.search_vector, the most common words of a sample of tickets and the
share of tickets holding each (pg_stats.most_common_elems / most_common_elem_freqs, refreshed by
ANALYZE). A typed word matches as a word prefix, so its share is the sum over the common words it
begins (capped at 1); a word that begins none of them is rarer than the least common one listed.
Looking the rarest word up in the index and checking the others on the rows found reads the
fewest rows, and its share alone is an estimate the planner can trust (two words' shares
multiplied are not: "thải" and "rác" nearly always come together). docs/search.md.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WordStats:
    """The most common words (sorted) and the share of tickets (0..1) holding each."""

    words: tuple[str, ...]
    shares: tuple[float, ...]

    @classmethod
    def from_pg_stats(cls, elems: Sequence[str], freqs: Sequence[float]) -> "WordStats":
        """From pg_stats.most_common_elems and most_common_elem_freqs (the latter has three
        more entries than the former: minimum, maximum, null share; they are ignored)."""
        pairs = sorted(zip(elems, freqs[: len(elems)], strict=True))
        return cls(tuple(w for w, _ in pairs), tuple(f for _, f in pairs))

    @property
    def floor(self) -> float:
        """The share given to a word that begins no listed word: half the least common one."""
        return min(self.shares) / 2 if self.shares else 0.0

    def share(self, word: str) -> float:
        """The share of tickets (0..1) with a word that `word` begins; `floor` if none listed."""
        lo = bisect.bisect_left(self.words, word)
        hi = bisect.bisect_left(self.words, word + "\uffff")
        total = sum(self.shares[lo:hi])
        return min(1.0, total) if total else self.floor


def rarest_first(words: Sequence[str], stats: WordStats | None) -> tuple[str, ...]:
    """The words, the rarest first; ties (and no statistics at all) put the longer word first,
    then keep the typed order. ("thai", "karaoke") -> ("karaoke", "thai")."""
    typed = {w: i for i, w in enumerate(words)}
    if stats is None:
        return tuple(sorted(words, key=lambda w: (-len(w), typed[w])))
    return tuple(sorted(words, key=lambda w: (stats.share(w), -len(w), typed[w])))


# How many times the expected number of rows a newest-first window should hold: a word's share
# is an average, and recent weeks may have fewer of its tickets.
WINDOW_MARGIN = 4.0
# Past this share of the table, a window saves little: read every match of the words instead.
WINDOW_MAX_FRACTION = 0.25


def newest_fraction(limit: int, share: float, rows: float) -> float | None:
    """The fraction (0..1) of the newest tickets expected to hold `limit` matches of a word held
    by `share` of `rows` tickets, with WINDOW_MARGIN; None when that is more than
    WINDOW_MAX_FRACTION of the table (or nothing is known): the word is rare enough that its
    matches are read from the index directly."""
    if share <= 0 or rows <= 0:
        return None
    fraction = limit * WINDOW_MARGIN / share / rows
    return fraction if fraction <= WINDOW_MAX_FRACTION else None


# At most this many expected matches of the rarest word: read them all through the GIN index
# and sort them, rather than walk newest first until `limit` match. Measured at 1M tickets
# (docs/search.md, "Which plan"): `miếu` (0.23 %, ~2,400 matches)
# walked 22,292 rows in 10.5 ms against 4.5 ms for its matches read and sorted; a walk of a
# common word (`karaoke`, 1.2 %) reads ~4,300 rows in ~2.5 ms, its ~13,000 matches ~23 ms.
INDEX_READ_MAX_ROWS = 5_000


def read_through_index(limit: int, share: float, rows: float) -> bool:
    """Whether the matches of a word held by `share` (0..1) of `rows` tickets are few enough
    (INDEX_READ_MAX_ROWS expected) to be read through the index and sorted, instead of a walk
    newest first, yet more than the `limit` asked for (fewer, and the planner reads them
    through the index by itself). False when nothing is known."""
    return share > 0 and rows > 0 and limit < share * rows <= INDEX_READ_MAX_ROWS


def window_start(bounds: Sequence[Any], fraction: float) -> Any:
    """The received_at from which the newest `fraction` of tickets were received, from the
    equal-count histogram of received_at (pg_stats.histogram_bounds, ascending), interpolated
    within a bucket. None without a histogram."""
    if len(bounds) < 2:
        return None
    buckets = len(bounds) - 1
    position = max(0.0, (1.0 - fraction) * buckets)
    i = min(int(position), buckets - 1)
    return bounds[i] + (bounds[i + 1] - bounds[i]) * (position - i)
