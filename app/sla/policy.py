"""SLA policies as data, and choosing one: first match wins, a routing rule may name one.

Pure: no I/O, no clock. `app.sla.loader` builds an `SlaConfig` from `routing_rules/sla.yaml`;
the service asks it which policy and which calendar an assignment runs on, then hands both to
`app.sla.state`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from app.catalog.catalog import Catalog, Unit
from app.sla.calendar import Calendar, Duration
from app.sla.clock import CALENDAR_TIME

TARGETS: tuple[str, ...] = ("acknowledge", "resolve")
# Condition keys of a policy's `when`, in the order `explain` reports them.
CONDITIONS: tuple[str, ...] = ("unit", "unit_kind", "topic", "priority", "channel")
DEFAULT_WARNING_AT = 0.8


@dataclass(frozen=True, slots=True)
class Target:
    """One SLA target: a duration counted in working time (default) or in calendar time."""

    duration: Duration
    calendar_time: bool = False

    def seconds(self, calendar: Calendar) -> int:
        """The target in seconds of the clock it runs on (see `Duration.resolve`)."""
        return self.duration.resolve(calendar, calendar_time=self.calendar_time)

    def clock(self, calendar: Calendar) -> Calendar:
        """The calendar the target is counted on: `calendar`, or plain time (24x7, UTC)."""
        return CALENDAR_TIME if self.calendar_time else calendar

    @property
    def mode(self) -> str:
        return "calendar" if self.calendar_time else "working"

    def __str__(self) -> str:
        return f"{self.duration} calendar time" if self.calendar_time else str(self.duration)


@dataclass(frozen=True, slots=True)
class Conditions:
    """A policy's `when`. None means "any"; a set means "one of". All given must hold."""

    unit: frozenset[str] | None = None
    unit_kind: frozenset[str] | None = None
    topic: frozenset[str] | None = None  # a topic also matches its subtopics
    priority: frozenset[str] | None = None
    channel: frozenset[str] | None = None

    @property
    def is_empty(self) -> bool:
        return all(getattr(self, key) is None for key in CONDITIONS)

    def failed(
        self,
        *,
        unit_code: str,
        unit_kind: str | None,
        topic_chain: tuple[str, ...],
        priority: str | None,
        channel: str | None,
    ) -> list[str]:
        """The conditions that do not hold (empty: the policy matches)."""
        values = {
            "unit": unit_code,
            "unit_kind": unit_kind,
            "priority": priority,
            "channel": channel,
        }
        failed = []
        for key in CONDITIONS:
            wanted = getattr(self, key)
            if wanted is None:
                continue
            if key == "topic":
                if not wanted.intersection(topic_chain):
                    failed.append(key)
            elif values[key] not in wanted:
                failed.append(key)
        return failed


@lru_cache(maxsize=4096)
def _share_of(share: float, seconds: int) -> int:
    # The decimal the share was written as (0.8 is 4/5, not the float nearest to it).
    return math.ceil(Fraction(str(share)) * seconds)


@dataclass(frozen=True, slots=True)
class Policy:
    id: str
    acknowledge: Target
    resolve: Target
    when: Conditions = Conditions()
    calendar: str | None = None  # None: the unit's calendar
    warning_at: float = DEFAULT_WARNING_AT  # share of the target elapsed, 0 < w < 1
    description: str | None = None
    file: str = ""
    line: int | None = None

    def target(self, name: str) -> Target:
        if name not in TARGETS:
            raise KeyError(f"unknown SLA target {name!r}; one of {', '.join(TARGETS)}")
        return self.acknowledge if name == "acknowledge" else self.resolve

    def warning_seconds(self, target_seconds: int) -> int:
        """Elapsed seconds from which a target is in `warning`: ceil(warning_at x target).

        Exact decimal arithmetic (0.8 x 27000 is 21600, not 21601 from float rounding).
        """
        return _share_of(self.warning_at, target_seconds)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, slots=True)
class PolicyTrial:
    """One line of `SlaConfig.explain`: a policy and the conditions it failed."""

    policy: str
    failed: tuple[str, ...]

    @property
    def matched(self) -> bool:
        return not self.failed


@dataclass
class SlaConfig:
    """Calendars and the ordered policies (the default last), checked against `catalog`."""

    calendars: Mapping[str, Calendar]
    policies: tuple[Policy, ...]
    catalog: Catalog
    default_calendar: str | None = None
    version: str = ""
    _by_id: dict[str, Policy] = field(init=False, repr=False)
    # policy_for() by its inputs: every new assignment asks, and the answers are few.
    _chosen: dict[tuple[str | None, ...], Policy] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.policies or not self.policies[-1].when.is_empty:
            raise ValueError("the last SLA policy must have no conditions: it is the default")
        self._by_id = {p.id: p for p in self.policies}
        self._chosen = {}

    @property
    def default(self) -> Policy:
        return self.policies[-1]

    @property
    def policy_ids(self) -> frozenset[str]:
        """What a routing rule's `set: {sla_policy: ...}` may name."""
        return frozenset(self._by_id)

    def get(self, policy_id: str) -> Policy:
        """The policy with this id; KeyError if none (e.g. an assignment from an old config)."""
        return self._by_id[policy_id]

    def _topic_chain(self, topic: str | None) -> tuple[str, ...]:
        if topic is None:
            return ()
        return tuple(self.catalog.topic_ancestors(topic)) or (topic,)

    def explain(
        self,
        unit_code: str,
        unit_kind: str | None,
        topic: str | None,
        priority: str | None,
        channel: str | None,
    ) -> list[PolicyTrial]:
        """Every policy tried, in order, up to and including the one that matched."""
        chain = self._topic_chain(topic)
        trials = []
        for policy in self.policies:
            failed = policy.when.failed(
                unit_code=unit_code,
                unit_kind=unit_kind,
                topic_chain=chain,
                priority=priority,
                channel=channel,
            )
            trials.append(PolicyTrial(policy.id, tuple(failed)))
            if not failed:
                break
        return trials

    def policy_for(
        self,
        unit_code: str,
        unit_kind: str | None,
        topic: str | None,
        priority: str | None,
        channel: str | None,
        *,
        requested: str | None = None,
    ) -> Policy:
        """The policy of an assignment to `unit_code`: the first whose conditions all hold.

        `requested` is the routing decision's `sla_policy` (`set: {sla_policy: ...}`): when it
        names a known policy, that policy is used whatever its conditions say. An unknown name
        (the rules are checked against the policy ids, so only after a bad reload) is ignored.
        The last policy has no conditions, so there is always an answer.
        """
        if requested is not None and requested in self._by_id:
            return self._by_id[requested]
        key = (unit_code, unit_kind, topic, priority, channel)
        chosen = self._chosen.get(key)
        if chosen is None:
            chosen = self.get(self.explain(*key)[-1].policy)
            if len(self._chosen) >= 4096:
                self._chosen.clear()
            self._chosen[key] = chosen
        return chosen

    def calendar_code_for(self, policy: Policy, unit: Unit | str) -> str:
        if isinstance(unit, str):
            found = self.catalog.units.get(unit)
            unit_calendar = found.calendar if found is not None else None
        else:
            unit_calendar = unit.calendar
        code = policy.calendar or unit_calendar or self.default_calendar
        if code is None:
            raise KeyError(f"no calendar for unit {unit!s} under SLA policy {policy.id}")
        return code

    def calendar_for(self, policy: Policy, unit: Unit | str) -> Calendar:
        """The policy's calendar, else the unit's (units.yaml), else `default_calendar`.

        `unit` is a Unit or a unit code. KeyError if that calendar is not defined (the loader
        refuses such a config, so only for a unit unknown to the catalog without a default).
        """
        code = self.calendar_code_for(policy, unit)
        try:
            return self.calendars[code]
        except KeyError:
            raise KeyError(f"SLA calendar {code!r} is not defined in sla.yaml") from None
