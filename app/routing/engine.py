"""Deciding: a compiled ruleset turns TicketFacts into a Decision.

The compiler (app/routing/compiler.py) gives every rule a bit (bit i = rule i in file order)
and precomputes, per topic, area, channel, priority and confidentiality, the set of rules whose
condition of that kind holds, as an int bitmask. A decision ANDs five masks and walks the
surviving bits from the lowest, i.e. in file order, checking only the conditions that are not
indexed (weekdays, hours, keywords) and whether the rule's unit resolves and is not excluded.
The description is folded at most once, when the walk reaches the first rule with keywords; with
many keyword rules among the candidates, a phrase index then finds all the phrases present in
one pass over the words. The first rule that passes wins, exactly as a linear scan would decide
(property-tested against one).
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from app.catalog.source import SourceProblem
from app.catalog.vocabulary import WEEKDAYS
from app.routing.schema import Decision, KindByArea, Rule, TicketFacts
from app.routing.textmatch import padded

if TYPE_CHECKING:
    from app.routing.explain import Explanation

_KEYWORD_RULES_ONE_BY_ONE = 6  # more keyword candidates than this: use the phrase index
_CACHE_LIMIT = 4096  # decisions cached per rule (keyed by area) for the no-exclusion path


@dataclass(eq=False, slots=True)
class CompiledRule:
    """A rule with its conditions expanded to sets and lookup tables."""

    index: int
    rule: Rule
    topics: frozenset[str] | None  # the rule's topics and all their subtopics
    areas: frozenset[str] | None  # the rule's areas and everything under them
    channels: frozenset[str] | None
    priorities: frozenset[str] | None
    confidential: bool | None
    weekday_mask: int | None  # bit d set = datetime.weekday() d allowed
    minute_bits: int | None  # bit m set = local minute-of-day m allowed
    minute_table: bytes | None  # same as minute_bits, as 1440 bytes for fast lookup
    keywords: tuple[str, ...] | None  # folded phrases padded with spaces: " mat dien "
    unit: str | None  # fixed unit, or None when assigned by area
    by_area: dict[str, str] | None  # area -> unit, when assigned by area
    co_handlers: tuple[str | dict[str, str], ...]  # fixed codes or area -> unit tables
    # Does the decision depend on the ticket's area (assignment or a co-handler by area)?
    area_dependent: bool = field(init=False)
    cache: dict[str | None, Decision] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.area_dependent = self.unit is None or any(
            isinstance(c, dict) for c in self.co_handlers
        )


class Ruleset:
    """A validated, compiled ruleset. Its rules never change once built (decisions are
    memoised internally); share one instance between requests and threads, swap it to reload."""

    def __init__(
        self,
        *,
        rules: list[CompiledRule],
        fallback: str,
        timezone: str,
        version: str,
        files: tuple[str, ...],
        masks: dict[str, tuple[dict[Any, Any], int]],
        warnings: list[SourceProblem],
    ) -> None:
        self.compiled = tuple(rules)
        self.rules: tuple[Rule, ...] = tuple(r.rule for r in rules)
        self.fallback = fallback
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.version = version
        self.files = files
        self.warnings = list(warnings)
        self._by_id = {r.rule.id: r for r in rules}
        self._topic, self._topic_any = masks["topic"]
        self._area, self._area_any = masks["area"]
        self._channel, self._channel_any = masks["channel"]
        self._priority, self._priority_any = masks["priority"]
        conf, _ = masks["confidential"]
        self._keyword_index, self._with_keywords = masks["keywords"]
        self._keywordless = ((1 << len(rules)) - 1) & ~self._with_keywords
        self._conf_true, self._conf_false = conf[True], conf[False]
        # Per rule, in file order, what the decision loop reads (a tuple unpacks faster than
        # attribute loads).
        self._plan = tuple(
            (r.weekday_mask, r.minute_table, r.keywords, r.unit, r.by_area, r) for r in rules
        )
        self._fallback_decision = Decision(fallback, None, version)
        self._nobody = Decision(None, None, version)

    def __len__(self) -> int:
        return len(self.compiled)

    def rule(self, rule_id: str) -> Rule | None:
        found = self._by_id.get(rule_id)
        return found.rule if found else None

    def route(
        self, facts: TicketFacts, exclude_units: frozenset[str] | set[str] = frozenset()
    ) -> Decision:
        """The first rule in file order whose conditions hold and whose unit resolves and is
        not excluded; else the fallback; else (fallback excluded too) a decision with no unit."""
        area = facts.area
        cand = (
            self._topic.get(facts.topic, self._topic_any)
            & self._area.get(area, self._area_any)
            & self._channel.get(facts.channel, self._channel_any)
            & self._priority.get(facts.priority, self._priority_any)
            & (self._conf_true if facts.confidential else self._conf_false)
        )
        # Keyword rules among the candidates are checked when the walk reaches the first one:
        # one by one on the folded text if they are few, else all at once through the phrase
        # index (which removes those that fail from the candidates).
        keyword_rules = cand & self._with_keywords
        text: str | None = None
        plan = self._plan
        minute = weekday = -1
        while cand:
            low = cand & -cand
            if low & keyword_rules and text is None:
                if keyword_rules.bit_count() > _KEYWORD_RULES_ONE_BY_ONE:
                    cand &= self._keywordless | self._keyword_index.find(facts.description)
                    keyword_rules = 0
                    continue
                text = padded(facts.description)
            cand ^= low
            weekdays, minutes, keywords, unit, by_area, r = plan[low.bit_length() - 1]
            if weekdays is not None or minutes is not None:
                if minute < 0:
                    local = facts.received_at.astimezone(self.tz)
                    minute, weekday = local.hour * 60 + local.minute, local.weekday()
                if weekdays is not None and not (weekdays >> weekday) & 1:
                    continue
                if minutes is not None and not minutes[minute]:
                    continue
            if keywords is not None and keyword_rules:
                for phrase in keywords:
                    if phrase in text:  # type: ignore[operator]
                        break
                else:
                    continue
            if unit is None:
                unit = by_area.get(area)
                if unit is None:
                    continue
            if not exclude_units:
                cached = r.cache.get(area if r.area_dependent else None)
                if cached is not None:
                    return cached
            elif unit in exclude_units:
                continue
            return self.decide(r, area, unit, exclude_units)
        if self.fallback in exclude_units:
            return self._nobody
        return self._fallback_decision

    def decide(
        self, r: CompiledRule, area: str | None, unit: str, exclude_units: frozenset[str] | set[str]
    ) -> Decision:
        """The decision of rule `r` for a ticket in `area`, its unit already resolved."""
        key = area if r.area_dependent else None
        if not exclude_units:
            cached = r.cache.get(key)
            if cached is not None:
                return cached
        co: list[str] = []
        for target in r.co_handlers:
            code = target if isinstance(target, str) else target.get(area) if area else None
            if code and code != unit and code not in exclude_units and code not in co:
                co.append(code)
        rule = r.rule
        decision = Decision(
            unit=unit,
            rule_id=rule.id,
            ruleset_version=self.version,
            priority=rule.priority,
            sla_policy=rule.sla_policy,
            co_handlers=tuple(co),
            tags=rule.tags,
        )
        if not exclude_units and len(r.cache) < _CACHE_LIMIT:
            r.cache[key] = decision
        return decision

    def fallback_decision(self, exclude_units: frozenset[str] | set[str]) -> Decision:
        return self._nobody if self.fallback in exclude_units else self._fallback_decision

    def explain(
        self, facts: TicketFacts, exclude_units: frozenset[str] | set[str] = frozenset()
    ) -> "Explanation":
        """The same decision as `route`, with a trace of every rule tried (see explain.py)."""
        from app.routing.explain import explain

        return explain(self, facts, exclude_units)

    def describe(self) -> dict[str, Any]:
        """The running ruleset as plain data (for GET /routing/rules)."""
        return {
            "version": self.version,
            "timezone": self.timezone,
            "fallback": self.fallback,
            "files": list(self.files),
            "warnings": [str(w) for w in self.warnings],
            "rules": [describe_rule(r) for r in self.rules],
        }


def describe_rule(rule: Rule) -> dict[str, Any]:
    when: dict[str, Any] = {}
    w = rule.when
    if w.topic is not None:
        when["topic"] = list(w.topic)
    if w.area is not None:
        when["area"] = [ref.text for ref in w.area]
    for name in ("channel", "priority", "keywords"):
        value = getattr(w, name)
        if value is not None:
            when[name] = list(value)
    if w.confidential is not None:
        when["confidential"] = w.confidential
    if w.weekdays is not None:
        when["weekdays"] = [WEEKDAYS[d] for d in w.weekdays]
    if w.hours is not None:
        when["hours"] = [h.text for h in w.hours]

    def target(t: Any) -> Any:
        return {"kind": t.kind, "by": "area"} if isinstance(t, KindByArea) else t.code

    out: dict[str, Any] = {
        "id": rule.id,
        "file": rule.file,
        "line": rule.line,
        "when": when,
        "assign": target(rule.assign),
    }
    if rule.description:
        out["description"] = rule.description
    if rule.priority or rule.sla_policy:
        out["set"] = {
            k: v for k, v in (("priority", rule.priority), ("sla_policy", rule.sla_policy)) if v
        }
    if rule.co_handlers:
        out["co_handlers"] = [target(t) for t in rule.co_handlers]
    if rule.tags:
        out["tags"] = list(rule.tags)
    return out
