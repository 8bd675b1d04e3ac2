"""Input checks of the ticket services: areas, topics, units, instants and phones.

Each failure is a 422 (ValidationFailed) naming the field by `loc`, relative to where the
service got it (the body, or a search query's parameters); the transport says where that is.
"""

from datetime import datetime

from app.catalog import codes
from app.catalog.area_errors import area_error
from app.catalog.catalog import AreaConflict, AreaNotFound, AreaResolution
from app.errors import ValidationFailed, field_error
from app.phone import InvalidPhone, to_e164
from app.tickets.context import TicketContext
from app.tickets.models import Ticket
from app.timefmt import LOCAL_TZ


def read_area(ctx: TicketContext, text: str | None, loc: list[str | int]) -> AreaResolution | None:
    """What an area text may mean (app.catalog.resolver); None for no text. An unknown
    part or parts that disagree are a 422 naming them."""
    if text is None or not text.strip():
        return None
    try:
        return ctx.catalog.resolve_area(text)
    except (AreaNotFound, AreaConflict) as exc:
        raise ValidationFailed([area_error(loc, exc)]) from exc


def read_address_area(ctx: TicketContext, address: str) -> AreaResolution | None:
    """The area a ticket without `area` takes from its street address (app.reference.
    resolver.resolve_address); a 422 on `address` when its area parts disagree."""
    try:
        return ctx.catalog.resolve_address(address)
    except AreaConflict as exc:
        raise ValidationFailed([area_error(["address"], exc)]) from exc


def areas_under(ctx: TicketContext, texts: list[str], loc: list[str | int]) -> set[str]:
    """Codes or names to every current area under them (a former district: all it became)."""
    return codes.check_areas(ctx.catalog, texts, loc)


def check_topic(ctx: TicketContext, code: str | None, loc: list[str | int]) -> str | None:
    """`code` if the catalog has that topic (None stays None); UnknownCode otherwise."""
    if code is None:
        return None
    return codes.check_topic(ctx.catalog, code, loc)


def check_unit(ctx: TicketContext, code: str, loc: list[str | int]) -> str:
    """`code` if the catalog has that unit; UnknownCode otherwise."""
    return codes.check_unit(ctx.catalog, code, loc)


def check_instant(
    ctx: TicketContext, value: datetime, loc: list[str | int], not_before: datetime | None
) -> datetime:
    """A client's instant, never in the future (up to ctx.clock_skew ahead is taken as now)
    nor before `not_before`; a 422 naming `loc` otherwise (instants shown in Hà Nội time)."""
    if value > ctx.now + ctx.clock_skew:
        raise ValidationFailed([field_error(loc, f"{value.isoformat()} is in the future")])
    value = min(value, ctx.now)
    if not_before is not None and value < not_before:
        raise ValidationFailed(
            [
                field_error(
                    loc,
                    f"{value.astimezone(LOCAL_TZ).isoformat()} is before the ticket's last event at "
                    f"{not_before.astimezone(LOCAL_TZ).isoformat()}",
                )
            ]
        )
    return value


def action_instant(ctx: TicketContext, ticket: Ticket, occurred_at: datetime | None) -> datetime:
    """When an action happened. Omitted: now, after whatever happened before it. The clock
    was read when the request began, before it waited for the ticket's row lock, and a
    request that held the lock meanwhile may have written a later event; so the later of
    the two. Given (back-office entry): checked, never in the future nor before the last
    event (422 naming occurred_at)."""
    if occurred_at is None:
        return max(ctx.now, ticket.last_event_at)
    return check_instant(ctx, occurred_at, ["occurred_at"], ticket.last_event_at)


def phone_of(raw: str | None, loc: list[str | int]) -> str | None:
    """A phone number given to search by, in E.164 (None for none); a 422 naming `loc`."""
    if not raw:
        return None
    try:
        return to_e164(raw)
    except InvalidPhone as exc:
        raise ValidationFailed([field_error(loc, str(exc))]) from exc
