"""Replay: route past tickets through two rulesets and compare the decisions.

Pure: tickets come in as `TicketFacts` (the caller streams them from wherever they live), two
compiled rulesets decide, and a `RoutingComparison` keeps only counters and a few samples, so
memory does not grow with the number of tickets. Each ticket is routed as on intake: as of its
own `received_at`, with no unit excluded (its *first* decision).

The result answers "what would this rule change do to real traffic": how many tickets would
go to another unit, a from -> to matrix, the rules whose match counts change, and per changed
cell a few tickets with the explanation of both decisions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from app.routing.engine import Ruleset
from app.routing.explain import Explanation
from app.routing.schema import TicketFacts

FALLBACK = None  # the rule id of a decision made by the fallback (no rule applied)


@dataclass(frozen=True, slots=True)
class ReplayedTicket:
    """One ticket of a changed cell: its id, when it was received, both explanations."""

    ticket_id: int
    received_at: datetime
    now: Explanation
    proposed: Explanation


@dataclass(frozen=True, slots=True)
class Cell:
    """Tickets that the current rules give to `from_unit` and the proposal to `to_unit`.

    A unit of None means nobody (every candidate excluded; cannot happen on a first decision
    unless the fallback is unknown) and is kept for completeness.
    """

    from_unit: str | None
    to_unit: str | None
    tickets: int
    samples: tuple[ReplayedTicket, ...] = ()

    @property
    def changed(self) -> bool:
        return self.from_unit != self.to_unit


@dataclass(frozen=True, slots=True)
class RuleCount:
    """How many replayed tickets a rule decided, now and under the proposal.

    `rule_id` None is the fallback. `change` is `gained`, `lost`, `never` (matched some tickets
    now, none under the proposal) or `same`. `in_proposal` / `in_current`: whether the rule
    exists in each ruleset (a rule only in the proposal is new; only in the current, removed).
    """

    rule_id: str | None
    now: int
    proposed: int
    in_current: bool
    in_proposal: bool

    @property
    def change(self) -> str:
        if self.proposed == self.now:
            return "same"
        if self.proposed > self.now:
            return "gained"
        return "never" if self.proposed == 0 else "lost"


@dataclass(frozen=True)
class RoutingReplay:
    """The comparison of two rulesets over the replayed tickets (see `RoutingComparison`)."""

    current_version: str
    proposed_version: str
    tickets: int  # tickets replayed (after the unit filter)
    changed: int  # tickets the proposal gives to another unit
    rule_changed: int  # same unit, but decided by another rule (or the fallback)
    cells: tuple[Cell, ...]  # every (from, to) pair seen, changed first, biggest first
    rules: tuple[RuleCount, ...]  # every rule that decided a ticket in either, in rule order

    @property
    def changed_cells(self) -> tuple[Cell, ...]:
        return tuple(c for c in self.cells if c.changed)

    @property
    def rule_changes(self) -> tuple[RuleCount, ...]:
        return tuple(r for r in self.rules if r.change != "same")


@dataclass
class RoutingComparison:
    """Accumulates the first decisions of tickets under the current and a proposed ruleset.

    `unit`: keep only tickets that either ruleset gives to this unit. `samples`: how many
    tickets to keep (and explain at the end) per changed cell; the first ones met, so a
    stream ordered by `received_at` keeps the oldest. Call `add` or `add_all`, then `result`.
    """

    current: Ruleset
    proposed: Ruleset
    unit: str | None = None
    samples: int = 3
    tickets: int = 0
    changed: int = 0
    rule_changed: int = 0
    _cells: Counter[tuple[str | None, str | None]] = field(default_factory=Counter)
    _now_rules: Counter[str | None] = field(default_factory=Counter)
    _proposed_rules: Counter[str | None] = field(default_factory=Counter)
    _kept: dict[tuple[str | None, str | None], list[tuple[int, TicketFacts]]] = field(
        default_factory=dict
    )

    def add(self, ticket_id: int, facts: TicketFacts) -> None:
        """Route one ticket through both rulesets and count the outcome."""
        self.add_all(((ticket_id, facts),))

    def add_all(self, tickets: Iterable[tuple[int, TicketFacts]]) -> None:
        """Route many (ticket id, facts) pairs; the hot loop of a replay, kept lean."""
        route_now, route_proposed = self.current.route, self.proposed.route
        cells, now_rules, proposed_rules = self._cells, self._now_rules, self._proposed_rules
        unit, kept, limit = self.unit, self._kept, self.samples
        for ticket_id, facts in tickets:
            a = route_now(facts)
            b = route_proposed(facts)
            if unit is not None and a.unit != unit and b.unit != unit:
                continue
            self.tickets += 1
            now_rules[a.rule_id] += 1
            proposed_rules[b.rule_id] += 1
            key = (a.unit, b.unit)
            cells[key] += 1
            if a.unit != b.unit:
                self.changed += 1
                if limit:
                    sample = kept.setdefault(key, [])
                    if len(sample) < limit:
                        sample.append((ticket_id, facts))
            elif a.rule_id != b.rule_id:
                self.rule_changed += 1

    def result(self) -> RoutingReplay:
        """The comparison so far; explains the kept sample tickets under both rulesets."""
        cells = []
        for (from_unit, to_unit), count in self._cells.items():
            samples = tuple(
                ReplayedTicket(
                    ticket_id,
                    facts.received_at,
                    self.current.explain(facts),
                    self.proposed.explain(facts),
                )
                for ticket_id, facts in self._kept.get((from_unit, to_unit), ())
            )
            cells.append(Cell(from_unit, to_unit, count, samples))
        cells.sort(key=lambda c: (not c.changed, -c.tickets, c.from_unit or "", c.to_unit or ""))
        return RoutingReplay(
            current_version=self.current.version,
            proposed_version=self.proposed.version,
            tickets=self.tickets,
            changed=self.changed,
            rule_changed=self.rule_changed,
            cells=tuple(cells),
            rules=self._rule_counts(),
        )

    def _rule_counts(self) -> tuple[RuleCount, ...]:
        # Rule order: the current file order, then rules only in the proposal, then fallback.
        order = [r.id for r in self.current.rules]
        order += [r.id for r in self.proposed.rules if self.current.rule(r.id) is None]
        counts = []
        for rule_id in [*order, FALLBACK]:
            now, proposed = self._now_rules[rule_id], self._proposed_rules[rule_id]
            if not now and not proposed:
                continue
            counts.append(
                RuleCount(
                    rule_id,
                    now,
                    proposed,
                    in_current=rule_id is None or self.current.rule(rule_id) is not None,
                    in_proposal=rule_id is None or self.proposed.rule(rule_id) is not None,
                )
            )
        return tuple(counts)
