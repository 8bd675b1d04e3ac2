"""THE RULE: when an output may show a caller's identity. Pure.

Every output that carries caller data (ticket reads and lists, events, search, caller history,
exports, and later webhooks, Open311 and the console) builds the caller through `caller_view`,
and nowhere else decides. docs/privacy.md states the rule in words.
"""

import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from app.tickets.schemas import CallerOut
from app.users.permissions import allows


class HasCaller(Protocol):
    caller_name: str | None
    caller_phone: str | None
    caller_email: str | None
    anonymous: bool
    confidential: bool


class Viewer(Protocol):
    role: str


REVEAL_PERMISSION = "callers:reveal"
T = TypeVar("T")


def caller_shown(
    *, confidential: bool, viewer: Viewer | None, revealed: bool = False, own_intake: bool = False
) -> bool:
    """Whether `viewer` may see the caller's name, phone and e-mail in this output.

    - viewer None (a public or machine output: Open311, webhooks, logs): never.
    - a caller who is not confidential: yes, to anyone signed in who may read the ticket.
    - a confidential caller (a denouncer's identity is a legal secret, Law 25/2018/QH14; a
      caller may ask to stay unnamed): only to the operator who filed it, in the answer to that
      very intake (`own_intake`), or after a reasoned reveal (`revealed`, which the caller wrote
      to the access log) by a role holding `callers:reveal` (operators and supervisors).
      Every role sees it masked otherwise, whatever its permissions.
    """
    if viewer is None:
        return False
    if not confidential:
        return True
    if own_intake:
        return True
    return revealed and allows(viewer.role, REVEAL_PERMISSION)


def caller_view(
    ticket: HasCaller,
    viewer: Viewer | None,
    *,
    revealed: bool = False,
    own_intake: bool = False,
) -> CallerOut:
    """The caller block of an output, masked or not by `caller_shown`."""
    shown = caller_shown(
        confidential=ticket.confidential, viewer=viewer, revealed=revealed, own_intake=own_intake
    )
    return CallerOut(
        name=ticket.caller_name if shown else None,
        phone=ticket.caller_phone if shown else None,
        email=ticket.caller_email if shown else None,
        anonymous=ticket.anonymous,
        confidential=ticket.confidential,
        masked=not shown and ticket.confidential,
    )


def _own_identity(ticket: HasCaller) -> Any:
    return _scrubber(ticket.caller_phone, ticket.caller_email, ticket.caller_name)


# A scrubber compiles a pattern per identity (phone parsed, name folded): a page of 50 tickets
# asks for each masked caller's three times (description, address, attachments), so each is
# remembered, but only for SCRUBBER_SECONDS: an identity erased since (app.privacy.rights,
# retention) must not live on in a process's memory beyond the requests that were using it.
SCRUBBER_SECONDS = 60.0
_SCRUBBER_LIMIT = 1024
_scrubbers: dict[tuple[str | None, str | None, str | None], tuple[float, Any]] = {}


def _scrubber(phone: str | None, email: str | None, name: str | None) -> Any:
    from app.privacy.scrub import Identity, Scrubber

    key = (phone, email, name)
    now = time.monotonic()
    hit = _scrubbers.get(key)
    if hit is not None and now - hit[0] < SCRUBBER_SECONDS:
        return hit[1]
    if len(_scrubbers) >= _SCRUBBER_LIMIT:
        for old in [k for k, (at, _) in _scrubbers.items() if now - at >= SCRUBBER_SECONDS]:
            del _scrubbers[old]
        if len(_scrubbers) >= _SCRUBBER_LIMIT:
            _scrubbers.clear()
    scrubber = Scrubber.of(
        Identity(
            phones=(phone,) if phone else (),
            emails=(email,) if email else (),
            names=(name,) if name else (),
        )
    )
    _scrubbers[key] = (now, scrubber)
    return scrubber


def free_text_view(
    ticket: HasCaller,
    viewer: Viewer | None,
    value: T,
    *,
    revealed: bool = False,
    own_intake: bool = False,
) -> T:
    """Free text of a ticket (description, address, event payloads) as this output may show
    it: where the caller is masked, their own name, number and e-mail are blanked in it too
    (operators type "bà Hoa, 0912…" into descriptions and notes)."""
    shown = caller_shown(
        confidential=ticket.confidential, viewer=viewer, revealed=revealed, own_intake=own_intake
    )
    # Not shown: a confidential caller, or a public or machine output (viewer None), which
    # never carries any caller's identity, confidential or not.
    if shown or value is None:
        return value
    return _own_identity(ticket).json(value)  # type: ignore[no-any-return]


def machine_view(ticket: HasCaller) -> Callable[[T], T]:
    """`free_text_view(ticket, None, value)` as a function of `value`, its scrubber built once:
    for machine outputs (webhook bodies) that scrub many values of one ticket."""
    scrubber = _own_identity(ticket)

    def view(value: T) -> T:
        return value if value is None else scrubber.json(value)  # type: ignore[no-any-return]

    return view


def searchable(ticket: HasCaller, text: str) -> str:
    """The text that `q` search may match: a confidential caller's identity left out, so that
    nobody finds a denouncer's ticket by typing their name or number."""
    return _own_identity(ticket).text(text) if ticket.confidential else text
