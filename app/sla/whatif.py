"""SLA what-if: re-plan past assignments under another sla.yaml and compare the verdicts.

Pure: each assignment comes in as `AssignmentFacts` (its unit, the ticket's topic, priority
and channel, the rule that chose it, its own times, pauses and outcome, and what was stored
when it was planned). `SlaComparison` plans it under the current and a proposed `SlaScenario`
and tallies, per unit and overall, each target's verdict the way the SLA report judges it
(app/reports/repository.py, docs/reports.md):

- on time: done <= due; late: done > due, or ended without the unit's response after the due;
- open-overdue: not done, still open, due < now (a paused clock has no due: never overdue).

On-time rate = on time / (on time + late + open-overdue). A *breach* is late or open-overdue.

Three plans are compared per assignment: as stored (what the SLA report counts), re-planned
under the current config, and re-planned under the proposal. When the stored plan differs from
the current re-plan the assignment was planned under an older config (or its ticket's facts
were corrected since); those are counted and sampled, so a reader knows why "now" can differ
from the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.sla.calendar import Calendar
from app.sla.clock import Pause
from app.sla.policy import TARGETS, Policy, SlaConfig
from app.sla.state import DueTimes, done_times, due_times

ON_TIME, LATE, OPEN_OVERDUE = "on_time", "late", "open_overdue"


@dataclass(frozen=True, slots=True)
class AssignmentFacts:
    """One assignment as the database holds it now (all datetimes aware, UTC)."""

    assignment_id: int
    ticket_id: int
    unit_code: str
    topic: str | None
    priority: str
    channel: str
    rule_id: str | None
    assigned_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    ended_at: datetime | None
    outcome: str | None
    pauses: tuple[Pause, ...]
    stored_policy: str | None
    stored_due: DueTimes


@dataclass(frozen=True)
class SlaScenario:
    """An SLA config and the policies the routing rules name (`set: {sla_policy: ...}`)."""

    config: SlaConfig
    requested: Mapping[str, str] = field(default_factory=dict)  # rule id -> policy id
    # choose() by its inputs, for one replay: the combinations are far fewer than assignments
    # (SlaConfig's own memo is bounded, for a long-running server, and thrashes here).
    _policies: dict[tuple[str | None, ...], Policy] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _calendars: dict[tuple[str | None, ...], tuple[Policy, Calendar]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _named_units: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        named = [p.when.unit for p in self.config.policies if p.when.unit]
        object.__setattr__(self, "_named_units", frozenset().union(*named))

    @classmethod
    def of(cls, config: SlaConfig, rules: Iterable[object]) -> SlaScenario:
        """`rules`: the routing rules (objects with `id` and `sla_policy`) of this scenario."""
        requested = {
            r.id: r.sla_policy  # type: ignore[attr-defined]
            for r in rules
            if getattr(r, "sla_policy", None)
        }
        return cls(config, requested)

    def choose(self, a: AssignmentFacts) -> tuple[Policy, Calendar]:
        """The policy and calendar planning the assignment under this config would pick."""
        config = self.config
        chosen = self._calendars.get((a.unit_code, a.topic, a.priority, a.channel, a.rule_id))
        if chosen is not None:
            return chosen
        unit = config.catalog.units.get(a.unit_code)
        kind = unit.kind if unit else None
        requested = self.requested.get(a.rule_id) if a.rule_id else None
        # Policies name few units: others are told apart by their kind alone, which keeps
        # the memo small (one entry for all 126 ward committees, not one each).
        who = a.unit_code if a.unit_code in self._named_units else None
        key = (who, kind, a.topic, a.priority, a.channel, requested)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = config.policy_for(
                a.unit_code, kind, a.topic, a.priority, a.channel, requested=requested
            )
        chosen = (policy, config.calendar_for(policy, a.unit_code))
        self._calendars[(a.unit_code, a.topic, a.priority, a.channel, a.rule_id)] = chosen
        return chosen


def plan_due(a: AssignmentFacts, policy: Policy, calendar: Calendar) -> DueTimes:
    """The due times planning stores for the assignment (its own times and pauses)."""
    return due_times(a.assigned_at, a.pauses, policy, calendar, acknowledged_at=a.acknowledged_at)


def verdict(
    due: datetime | None, done: datetime | None, ended_at: datetime | None, now: datetime
) -> str | None:
    """on_time / late / open_overdue, or None (open and not overdue, paused, or no verdict)."""
    if due is None:
        return None
    if done is not None:
        return ON_TIME if done <= due else LATE
    if ended_at is not None:
        return LATE if ended_at > due else None
    return OPEN_OVERDUE if due < now else None


@dataclass
class Tally:
    """Verdicts of one target over a set of assignments."""

    on_time: int = 0
    late: int = 0
    open_overdue: int = 0

    def count(self, outcome: str | None) -> None:
        if outcome == ON_TIME:
            self.on_time += 1
        elif outcome == LATE:
            self.late += 1
        elif outcome == OPEN_OVERDUE:
            self.open_overdue += 1

    @property
    def breaches(self) -> int:
        return self.late + self.open_overdue

    @property
    def rate(self) -> float | None:
        """on time / (on time + late + open-overdue), 4 decimals; None without a verdict."""
        judged = self.on_time + self.late + self.open_overdue
        return round(self.on_time / judged, 4) if judged else None


@dataclass
class TargetComparison:
    """One target's verdicts as stored, now (current config) and under the proposal."""

    stored: Tally = field(default_factory=Tally)
    now: Tally = field(default_factory=Tally)
    proposed: Tally = field(default_factory=Tally)
    breaches_appearing: int = 0  # not a breach now, a breach under the proposal
    breaches_disappearing: int = 0


@dataclass
class GroupComparison:
    """Everything compared for one unit (or overall)."""

    assignments: int = 0
    planned_under_older_config: int = 0
    policy_changes: int = 0  # assignments the proposal puts on another policy
    due_changes: int = 0  # assignments whose due times the proposal moves
    acknowledge: TargetComparison = field(default_factory=TargetComparison)
    resolve: TargetComparison = field(default_factory=TargetComparison)

    def target(self, name: str) -> TargetComparison:
        return self.acknowledge if name == "acknowledge" else self.resolve


@dataclass(frozen=True, slots=True)
class VerdictChange:
    """A target whose verdict the proposal changes into, or out of, a breach."""

    assignment_id: int
    ticket_id: int
    unit_code: str
    target: str
    done_at: datetime | None
    policy_now: str
    due_now: datetime | None
    verdict_now: str | None
    policy_proposed: str
    due_proposed: datetime | None
    verdict_proposed: str | None


@dataclass(frozen=True, slots=True)
class StalePlan:
    """An assignment whose stored plan is not what the current config gives."""

    assignment_id: int
    ticket_id: int
    unit_code: str
    reason: str


@dataclass(frozen=True)
class SlaWhatIf:
    current_version: str
    proposed_version: str
    now: datetime
    overall: GroupComparison
    units: dict[str, GroupComparison]  # by unit code, sorted
    appearing: tuple[VerdictChange, ...]  # samples, oldest assignments first
    disappearing: tuple[VerdictChange, ...]
    stale: tuple[StalePlan, ...]  # samples


def _stale_reason(a: AssignmentFacts, policy: Policy, due: DueTimes) -> str | None:
    if a.stored_policy != policy.id:
        return (
            f"planned on policy {a.stored_policy or '(none)'}; the current config gives {policy.id}"
        )
    if tuple(a.stored_due) != tuple(due):
        return f"due times under policy {policy.id} differ from the current config's"
    return None


@dataclass
class SlaComparison:
    """Accumulates the re-plans of assignments under the current and a proposed SLA config.

    `now` judges open targets (open-overdue), like the report's `as_of`. `samples`: how many
    verdict changes of each kind, and stale plans, to keep. Call `add_all`, then `result`.
    """

    current: SlaScenario
    proposed: SlaScenario
    now: datetime
    samples: int = 5
    overall: GroupComparison = field(default_factory=GroupComparison)
    units: dict[str, GroupComparison] = field(default_factory=dict)
    appearing: list[VerdictChange] = field(default_factory=list)
    disappearing: list[VerdictChange] = field(default_factory=list)
    stale: list[StalePlan] = field(default_factory=list)

    def add_all(self, assignments: Iterable[AssignmentFacts]) -> None:
        for a in assignments:
            self.add(a)

    def add(self, a: AssignmentFacts) -> None:
        """Plan one assignment under both configs and count its verdicts."""
        policy_now, calendar_now = self.current.choose(a)
        due_now = plan_due(a, policy_now, calendar_now)
        policy_new, calendar_new = self.proposed.choose(a)
        same_plan = (policy_new.acknowledge, policy_new.resolve, calendar_new) == (
            policy_now.acknowledge,
            policy_now.resolve,
            calendar_now,
        )
        # Same targets on the same calendar give the same due times: skip the clock math.
        due_new = due_now if same_plan else plan_due(a, policy_new, calendar_new)
        groups = (self.overall, self.units.setdefault(a.unit_code, GroupComparison()))
        stale = _stale_reason(a, policy_now, due_now)
        if stale and len(self.stale) < self.samples:
            self.stale.append(StalePlan(a.assignment_id, a.ticket_id, a.unit_code, stale))
        done = done_times(
            acknowledged_at=a.acknowledged_at,
            resolved_at=a.resolved_at,
            ended_at=a.ended_at,
            outcome=a.outcome,
        )
        for group in groups:
            group.assignments += 1
            group.planned_under_older_config += stale is not None
            group.policy_changes += policy_new.id != policy_now.id
            group.due_changes += due_new != due_now
        for index, name in enumerate(TARGETS):
            done_at = done[index]
            v_stored = verdict(a.stored_due[index], done_at, a.ended_at, self.now)
            v_now = verdict(due_now[index], done_at, a.ended_at, self.now)
            v_new = verdict(due_new[index], done_at, a.ended_at, self.now)
            was = v_now in (LATE, OPEN_OVERDUE)
            will = v_new in (LATE, OPEN_OVERDUE)
            for group in groups:
                t = group.target(name)
                t.stored.count(v_stored)
                t.now.count(v_now)
                t.proposed.count(v_new)
                t.breaches_appearing += will and not was
                t.breaches_disappearing += was and not will
            if was != will:
                kept = self.appearing if will else self.disappearing
                if len(kept) < self.samples:
                    kept.append(
                        VerdictChange(
                            a.assignment_id,
                            a.ticket_id,
                            a.unit_code,
                            name,
                            done_at,
                            policy_now.id,
                            due_now[index],
                            v_now,
                            policy_new.id,
                            due_new[index],
                            v_new,
                        )
                    )

    def result(self) -> SlaWhatIf:
        return SlaWhatIf(
            current_version=self.current.config.version,
            proposed_version=self.proposed.config.version,
            now=self.now,
            overall=self.overall,
            units=dict(sorted(self.units.items())),
            appearing=tuple(self.appearing),
            disappearing=tuple(self.disappearing),
            stale=tuple(self.stale),
        )
