"""A ticket's ETag (its id and version) and the If-Match check of a change."""

from app.errors import PreconditionFailed
from app.tickets.models import Ticket


def etag(ticket: Ticket) -> str:
    """The strong ETag of a ticket's current version, e.g. "12-3"."""
    return f'"{ticket.id}-{ticket.version}"'


def check_if_match(ticket: Ticket, if_match: str | None) -> None:
    """412 (PreconditionFailed, naming the current version) unless If-Match is absent, `*`,
    or lists the ticket's ETag (weak ones compared by their tag)."""
    if if_match is None or if_match.strip() == "*":
        return
    wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
    if etag(ticket) not in wanted:
        raise PreconditionFailed(
            f"The ticket changed since you read it (now version {ticket.version}, ETag {etag(ticket)}); "
            "reload it and apply your change again.",
            current_version=ticket.version,
        )
