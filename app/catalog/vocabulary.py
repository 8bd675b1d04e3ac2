"""The words every core and service shares: channels, priorities, weekdays, ticket statuses,
and the hotline's default time zone.

Pure constants. Routing rules, SLA policies, ticket bodies and report filters are all checked
against these, so a new channel or priority is added here once.
"""

from enum import StrEnum

# Vietnam's one time zone (UTC+7, no DST): the default of HOTLINE_TIMEZONE (Settings.timezone),
# of `timezone` in rules.yaml and of a calendar's `timezone` in sla.yaml. Code that needs the
# zone of this deployment takes Settings.timezone; this constant is only the default.
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


class Channel(StrEnum):
    """How a ticket reached the hotline (issue 2)."""

    PHONE = "phone"
    SMS = "sms"
    ZALO = "zalo"
    WEB = "web"
    EMAIL = "email"
    APP = "app"
    WALK_IN = "walk_in"
    OPEN311 = "open311"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Status(StrEnum):
    """A ticket's status; the transitions between them are app.tickets.lifecycle."""

    NEW = "new"
    ASSIGNED = "assigned"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    WAITING_CITIZEN = "waiting_citizen"
    RESOLVED = "resolved"
    CLOSED = "closed"
    DUPLICATE = "duplicate"
    CANCELLED = "cancelled"


# Values a ticket can carry; a rule or policy naming anything else is a load error.
CHANNELS: tuple[str, ...] = tuple(c.value for c in Channel)
PRIORITIES: tuple[str, ...] = tuple(p.value for p in Priority)
STATUSES: tuple[str, ...] = tuple(s.value for s in Status)
# datetime.weekday() order: WEEKDAYS[0] is Monday.
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekday_range(text: str, *, abbreviate: bool = False) -> list[int] | None:
    """'mon' -> [0]; 'mon-fri' -> [0, 1, 2, 3, 4]; a range may wrap ('sat-mon' -> [5, 6, 0]).

    Case-insensitive; with `abbreviate`, longer names are cut to three letters ('monday').
    None when a part is not a weekday or there are more than two parts.
    """
    parts = [p.strip().lower() for p in text.split("-")]
    if abbreviate:
        parts = [p[:3] for p in parts]
    if len(parts) > 2 or any(p not in WEEKDAYS for p in parts):
        return None
    first, last = WEEKDAYS.index(parts[0]), WEEKDAYS.index(parts[-1])
    days = [first]
    while days[-1] != last:
        days.append((days[-1] + 1) % 7)
    return days
