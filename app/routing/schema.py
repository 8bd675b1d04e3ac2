"""The routing vocabulary: ticket facts in, a decision out, and the parsed form of a rule.

Pure data (frozen dataclasses and constants). Parsing and validation live in `loader`, indexing
in `compiler`, evaluation in `engine`, traces in `explain`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.catalog.source import SourceDataError

# The order in which conditions are evaluated and reported by `explain`: cheap, selective
# conditions first. It does not change which rule wins (all conditions must hold).
CONDITION_ORDER: tuple[str, ...] = (
    "topic",
    "area",
    "channel",
    "priority",
    "confidential",
    "weekdays",
    "hours",
    "keywords",
)
RULE_KEYS: tuple[str, ...] = (
    "id",
    "description",
    "when",
    "assign",
    "set",
    "co_handlers",
    "tags",
)
SET_KEYS: tuple[str, ...] = ("priority", "sla_policy")
TOP_KEYS: tuple[str, ...] = ("timezone", "fallback", "rules")


# -- input and output -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """What routing may look at. `area` is a current area code; `received_at` must be aware."""

    topic: str | None
    area: str | None
    channel: str
    priority: str
    description: str
    received_at: datetime
    confidential: bool = False

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None or self.received_at.utcoffset() is None:
            raise ValueError("TicketFacts.received_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Decision:
    """Who gets the ticket and why. `unit` is None only when every candidate, the fallback
    included, is excluded; `rule_id` is None when the fallback decided."""

    unit: str | None
    rule_id: str | None
    ruleset_version: str
    priority: str | None = None
    sla_policy: str | None = None
    co_handlers: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()


# What routes a ticket: its facts and the units to leave out (a transfer's) to a Decision.
# The running ruleset's `route` (app.routing.live.LiveRuleset) is one; tests pass stand-ins.
Router = Callable[[TicketFacts, frozenset[str]], Decision]


# -- problems ---------------------------------------------------------------------------------


class RulesError(SourceDataError):
    """The rule files do not load; `errors` lists every problem found (SourceProblem, with the
    rule id), `warnings` too."""


# -- parsed rules -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnitTarget:
    """`assign: cdc-ha-noi`: a fixed unit."""

    code: str

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class KindByArea:
    """`assign: {kind: ubnd, by: area}`: the unit of that kind serving the ticket's area or,
    failing that, its nearest ancestor."""

    kind: str

    def __str__(self) -> str:
        return f"{self.kind} unit serving the area"


Target = UnitTarget | KindByArea


@dataclass(frozen=True, slots=True)
class AreaRef:
    """One entry of an `area` condition as written, and the current area codes it stands for
    (one for a code or current name; several for a former name now split or merged)."""

    text: str
    codes: tuple[str, ...]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class HoursWindow:
    """Local minutes of the day, `start` inclusive, `end` exclusive; crosses midnight when
    end <= start (e.g. 22:00-06:00)."""

    start: int
    end: int
    text: str

    def contains(self, minute: int) -> bool:
        if self.start < self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class When:
    """Conditions of a rule; None means "not constrained". Tuples mean any-of."""

    topic: tuple[str, ...] | None = None
    area: tuple[AreaRef, ...] | None = None
    channel: tuple[str, ...] | None = None
    priority: tuple[str, ...] | None = None
    confidential: bool | None = None
    weekdays: tuple[int, ...] | None = None  # 0 = Monday, as datetime.weekday()
    hours: tuple[HoursWindow, ...] | None = None
    keywords: tuple[str, ...] | None = None  # folded phrases


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    file: str
    line: int | None
    when: When
    assign: Target
    priority: str | None = None
    sla_policy: str | None = None
    co_handlers: tuple[Target, ...] = ()
    tags: tuple[str, ...] = ()
    description: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class RuleSource:
    """Everything read from the rule files, validated against the catalog, in file order."""

    rules: tuple[Rule, ...]
    fallback: str
    timezone: str
    version: str
    files: tuple[str, ...] = field(default=())
