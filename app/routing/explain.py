"""Explaining a decision: every rule tried in file order, and why each did or did not match.

Deliberately a plain linear scan over all conditions (no index), so that it doubles as the
reference the compiled `Ruleset.route` is checked against: `explain(...).decision == route(...)`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.catalog.vocabulary import WEEKDAYS
from app.routing.engine import CompiledRule, Ruleset
from app.routing.schema import CONDITION_ORDER, Decision, KindByArea, TicketFacts
from app.routing.textmatch import padded

_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """One rule tried: matched, or the first condition (or 'assign') that failed and why."""

    rule_id: str
    file: str
    line: int | None
    matched: bool
    failed: str | None = None
    reason: str | None = None

    def __str__(self) -> str:
        head = f"{self.rule_id} ({self.file}:{self.line})"
        return f"{head}: matched" if self.matched else f"{head}: {self.failed}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Explanation:
    decision: Decision
    trace: tuple[RuleTrace, ...]
    fallback_used: bool
    local_time: datetime
    note: str

    def as_dict(self) -> dict[str, Any]:
        d = self.decision
        return {
            "decision": {
                "unit": d.unit,
                "rule_id": d.rule_id,
                "ruleset_version": d.ruleset_version,
                "priority": d.priority,
                "sla_policy": d.sla_policy,
                "co_handlers": list(d.co_handlers),
                "tags": list(d.tags),
            },
            "fallback_used": self.fallback_used,
            "local_time": self.local_time.isoformat(),
            "note": self.note,
            "trace": [
                {
                    "rule_id": t.rule_id,
                    "file": t.file,
                    "line": t.line,
                    "matched": t.matched,
                    "failed": t.failed,
                    "reason": t.reason,
                }
                for t in self.trace
            ],
        }

    def __str__(self) -> str:
        lines = [str(t) for t in self.trace]
        lines.append(self.note)
        return "\n".join(lines)


class _Facts:
    """The facts plus derived values computed once: local time, folded description."""

    def __init__(self, facts: TicketFacts, ruleset: Ruleset) -> None:
        self.facts = facts
        self.local = facts.received_at.astimezone(ruleset.tz)
        self.minute = self.local.hour * 60 + self.local.minute
        self.text = padded(facts.description)


def _list(items: Any) -> str:
    return ", ".join(str(i) for i in items)


def _topic(r: CompiledRule, f: _Facts) -> str | None:
    topic, wanted = f.facts.topic, _list(r.rule.when.topic or ())
    if topic is None:
        return f"the ticket has no topic; the rule needs one under {wanted}"
    return None if topic in r.topics else f"topic {topic} is not under {wanted}"  # type: ignore[operator]


def _area(r: CompiledRule, f: _Facts) -> str | None:
    written = []
    for ref in r.rule.when.area or ():
        written.append(ref.text if ref.codes == (ref.text,) else f"{ref.text} [{_list(ref.codes)}]")
    wanted, area = "; ".join(written), f.facts.area
    if area is None:
        return f"the ticket has no area; the rule needs one in {wanted}"
    return None if area in r.areas else f"area {area} is not in {wanted}"  # type: ignore[operator]


def _channel(r: CompiledRule, f: _Facts) -> str | None:
    if f.facts.channel in r.channels:  # type: ignore[operator]
        return None
    return f"channel {f.facts.channel} is not one of {_list(r.rule.when.channel or ())}"


def _priority(r: CompiledRule, f: _Facts) -> str | None:
    if f.facts.priority in r.priorities:  # type: ignore[operator]
        return None
    return f"priority {f.facts.priority} is not one of {_list(r.rule.when.priority or ())}"


def _confidential(r: CompiledRule, f: _Facts) -> str | None:
    if f.facts.confidential == r.confidential:
        return None
    return "the ticket is " + ("" if f.facts.confidential else "not ") + "confidential"


def _weekdays(r: CompiledRule, f: _Facts) -> str | None:
    day = f.local.weekday()
    if (r.weekday_mask >> day) & 1:  # type: ignore[operator]
        return None
    allowed = _list(WEEKDAYS[d] for d in r.rule.when.weekdays or ())
    return f"received on a {_DAY_NAMES[day]} (local time), not on {allowed}"


def _hours(r: CompiledRule, f: _Facts) -> str | None:
    if r.minute_table[f.minute]:  # type: ignore[index]
        return None
    return f"received at {f.local:%H:%M} local time, outside {_list(r.rule.when.hours or ())}"


def _keywords(r: CompiledRule, f: _Facts) -> str | None:
    if any(phrase in f.text for phrase in r.keywords):  # type: ignore[union-attr]
        return None
    return f"the description contains none of: {_list(r.rule.when.keywords or ())}"


# condition name -> (is the rule constrained on it?, why it fails or None)
_CHECKS: dict[
    str, tuple[Callable[[CompiledRule], bool], Callable[[CompiledRule, _Facts], str | None]]
] = {
    "topic": (lambda r: r.topics is not None, _topic),
    "area": (lambda r: r.areas is not None, _area),
    "channel": (lambda r: r.channels is not None, _channel),
    "priority": (lambda r: r.priorities is not None, _priority),
    "confidential": (lambda r: r.confidential is not None, _confidential),
    "weekdays": (lambda r: r.weekday_mask is not None, _weekdays),
    "hours": (lambda r: r.minute_table is not None, _hours),
    "keywords": (lambda r: r.keywords is not None, _keywords),
}
assert tuple(_CHECKS) == CONDITION_ORDER


def _check(name: str, r: CompiledRule, f: _Facts) -> str | None:
    """None when condition `name` of rule `r` holds (or is absent), else the reason it fails."""
    constrained, why = _CHECKS[name]
    return why(r, f) if constrained(r) else None


def _unit_for(
    r: CompiledRule, facts: TicketFacts, exclude: frozenset[str] | set[str]
) -> tuple[str | None, str | None]:
    """(unit, None) when the rule's assignment resolves and is allowed, else (None, reason)."""
    if r.unit is not None:
        unit = r.unit
    else:
        target = r.rule.assign
        kind = target.kind if isinstance(target, KindByArea) else "?"
        if facts.area is None:
            return None, f"assigns the {kind} unit serving the area, but the ticket has no area"
        unit = (r.by_area or {}).get(facts.area)
        if unit is None:
            return None, f"no unit of kind {kind} serves area {facts.area} or any area above it"
    if unit in exclude:
        return None, f"unit {unit} is excluded (it already rejected this ticket)"
    return unit, None


def explain(
    ruleset: Ruleset, facts: TicketFacts, exclude_units: frozenset[str] | set[str] = frozenset()
) -> Explanation:
    f = _Facts(facts, ruleset)
    trace: list[RuleTrace] = []
    for r in ruleset.compiled:
        rule = r.rule
        failed = reason = None
        for name in CONDITION_ORDER:
            reason = _check(name, r, f)
            if reason is not None:
                failed = name
                break
        unit = None
        if failed is None:
            unit, reason = _unit_for(r, facts, exclude_units)
            if unit is None:
                failed = "assign"
        if failed is not None:
            trace.append(RuleTrace(rule.id, rule.file, rule.line, False, failed, reason))
            continue
        assert unit is not None
        trace.append(RuleTrace(rule.id, rule.file, rule.line, True))
        decision = ruleset.decide(r, facts.area, unit, exclude_units)
        note = f"rule {rule.id} matched: assigned to {unit}"
        return Explanation(decision, tuple(trace), False, f.local, note)
    decision = ruleset.fallback_decision(exclude_units)
    if decision.unit is None:
        note = f"no rule matched and the fallback {ruleset.fallback} is excluded: nobody assigned"
    else:
        note = f"no rule matched: assigned to the fallback {ruleset.fallback}"
    return Explanation(decision, tuple(trace), True, f.local, note)
