"""The Idempotency-Key header, read one way for every route that files a ticket (POST
/api/v1/tickets, Open311's POST requests.json/.xml).

A key is 1 to 200 visible ASCII characters (spaces allowed between them), the length the
idempotency_key table keeps. A header sent empty or blank is a 422 naming it: taking it as
"no key" would file a ticket twice on a retry the client believes is safe.
"""

import re
from typing import Annotated

from fastapi import Header

from app.errors import ValidationFailed, field_error

HEADER = "Idempotency-Key"
MAX_LENGTH = 200
_VISIBLE = re.compile(r"[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?")
EXPECTED = (
    f"must be 1 to {MAX_LENGTH} visible ASCII characters (letters, digits, punctuation; "
    "spaces only between them), e.g. a UUID; leave the header out to file without one"
)


def checked_key(value: str | None) -> str | None:
    """The key as given, or None without the header; ValidationFailed at
    ["header", "Idempotency-Key"] for an empty, blank, too long or non-ASCII one."""
    if value is None:
        return None
    if len(value) > MAX_LENGTH or not _VISIBLE.fullmatch(value):
        if not value.strip():
            what = "is empty"
        elif len(value) > MAX_LENGTH:
            what = f"is {len(value)} characters long"
        else:
            what = "has a character that is not visible ASCII"
        raise ValidationFailed([field_error(["header", HEADER], f"{what}; it {EXPECTED}")])
    return value


async def idempotency_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            description=f"Makes a retry safe: 1 to {MAX_LENGTH} visible ASCII characters; the "
            "same key with the same body returns the first ticket (Idempotent-Replayed: true), "
            "with another body 409",
        ),
    ] = None,
) -> str | None:
    """The request's Idempotency-Key, checked (checked_key)."""
    return checked_key(idempotency_key)
