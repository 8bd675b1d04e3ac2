"""What `q` searches and how a typed query is read. Pure: no database, no settings.

The search document of a ticket is one folded string (app.text.fold: lower case, no diacritics,
look-alike letters unified, punctuation as spaces): description, address and, when the caller is
not confidential, the caller's name and phone. A confidential caller is never in it (the masking
rule, app.privacy.masking), so nobody finds a denouncer by name or number.

A query matches a ticket when every word of it begins a word of the document (any order):
"thai rac" finds "rác thải", "Ngh" finds "Nghĩa". A query that is a reference, or part of one,
also finds that ticket by id; one that is a phone number also finds the caller's tickets.
"""

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from app.phone import InvalidPhone, to_e164
from app.text import fold

# HN-2026-000016, hn-2026-16, 2026-000016 (year and number), or a zero-padded number: 000016.
_REFERENCE = re.compile(r"^(?:[A-Za-z]{1,5}-)?(?P<year>\d{4})-(?P<number>\d{1,10})$")
_PADDED = re.compile(r"^0\d{3,9}$")
_PHONE_CHARS = re.compile(r"^\+?[\d\s.\-()]{9,20}$")
# More words than this add little and make every query slower; the rest are ignored.
MAX_WORDS = 8


@dataclass(frozen=True)
class SearchQuery:
    """A typed `q`, read: the words to match, and what else it may name."""

    words: tuple[str, ...] = ()
    ticket_id: int | None = None
    # The year of a reference, when one was given: the ticket must be from that local year.
    year: int | None = None
    phone: str | None = None  # E.164
    notes: list[str] = field(default_factory=list)


def search_document(
    description: str,
    address: str | None,
    caller_name: str | None = None,
    caller_phone: str | None = None,
    *,
    confidential: bool = False,
) -> str:
    """The folded text `q` matches for one ticket.

    caller_phone is E.164 (+84912345678); it is indexed as its digits and its national form
    (84912345678 0912345678) so that either spelling finds it. Left out for confidential callers.
    """
    parts = [description, address or ""]
    if not confidential:
        parts.append(caller_name or "")
        if caller_phone:
            digits = caller_phone.lstrip("+")
            parts.append(digits)
            if digits.startswith("84"):
                parts.append("0" + digits[2:])
    return fold(" ".join(parts))


def read_query(q: str) -> SearchQuery:
    """Words (folded, at most MAX_WORDS, in the order typed), and a reference or phone if q is one.

    "HN-2026-16" / "2026-000016" -> ticket 16 of 2026; "000016" -> ticket 16 (and the words);
    "0912 345 678" -> the phone +84912345678 (and the words).
    """
    raw = q.strip()
    words = tuple(dict.fromkeys(fold(raw).split()))[:MAX_WORDS]
    match = _REFERENCE.match(raw)
    if match:
        return SearchQuery(ticket_id=int(match["number"]), year=int(match["year"]))
    ticket_id = int(raw) if _PADDED.match(raw) and int(raw) > 0 else None
    phone = None
    if _PHONE_CHARS.match(raw):
        try:
            phone = to_e164(raw)
        except InvalidPhone:
            phone = None
    return SearchQuery(words=words, ticket_id=ticket_id, phone=phone)


def relevance(document: str, words: tuple[str, ...]) -> float:
    """How well a matching document answers the words, higher is better (0..1 per word + order).

    A whole-word match counts 1, a word-prefix match 0.5; words found in the order typed and
    next to each other add 0.5 per adjacent pair (a phrase typed as said ranks first).
    """
    tokens = document.split()
    score = 0.0
    positions: list[int] = []
    for word in words:
        exact = [i for i, t in enumerate(tokens) if t == word]
        if exact:
            score += 1.0
            positions.append(exact[0])
            continue
        prefix = [i for i, t in enumerate(tokens) if t.startswith(word)]
        if prefix:
            score += 0.5
            positions.append(prefix[0])
        else:
            positions.append(-10)
    score += 0.5 * sum(1 for a, b in itertools.pairwise(positions) if b == a + 1)
    return score


def ticket_search_text(ticket: Any) -> str:
    """The search document of a stored or new ticket (columns as on app.tickets.models.Ticket).

    A caller that retention or an erasure anonymised is left out (what is left is a pseudonym,
    not something anybody types).
    """
    anonymised = getattr(ticket, "caller_anonymised_at", None) is not None
    return search_document(
        ticket.description,
        ticket.address,
        None if anonymised else ticket.caller_name,
        None if anonymised else ticket.caller_phone,
        confidential=ticket.confidential,
    )
