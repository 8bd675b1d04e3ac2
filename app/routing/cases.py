"""Rule cases: routing_rules/tests/*.yaml, each a ticket and the decision expected for it.

    cases:
      - name: burst pipe in a former ward name
        ticket:
          topic: nuoc-sach.vo-ong
          area: Phường Trúc Bạch        # a code, a current name or a former name
          received_at: 2026-03-04 23:30  # local time of the ruleset; or with an offset
          exclude: [nuoc-sach-ha-noi]   # units that already rejected the ticket
        expect:
          unit: tong-dai-1022
          rule: null                    # null: decided by the fallback
          priority: high                # optional: priority, sla_policy, co_handlers, tags

Ticket defaults: channel phone, priority normal, empty description, not confidential,
received Wednesday 2026-03-04 10:00 local time.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from app.catalog.catalog import AreaAmbiguous, AreaConflict, AreaNotFound, Catalog
from app.catalog.loader import load_catalog
from app.catalog.source import ReferenceDataError, line_of, read_yaml
from app.routing.engine import Ruleset
from app.routing.explain import Explanation
from app.routing.ruleset import load_ruleset
from app.routing.schema import Decision, TicketFacts

DEFAULT_RECEIVED = "2026-03-04 10:00"
TICKET_KEYS = (
    "topic",
    "area",
    "channel",
    "priority",
    "description",
    "received_at",
    "confidential",
    "exclude",
)
EXPECT_KEYS = ("unit", "rule", "priority", "sla_policy", "co_handlers", "tags")


@dataclass(frozen=True)
class CaseResult:
    file: str
    line: int | None
    name: str
    passed: bool
    message: str = ""
    expected_rule: str | None = None
    decision: Decision | None = None
    explanation: Explanation | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        status = "ok" if self.passed else "FAIL"
        return f"{where}: {status} {self.name}" + (f": {self.message}" if self.message else "")


@dataclass
class CaseReport:
    results: list[CaseResult] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # rule ids no case expects

    @property
    def ok(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    def __iter__(self) -> Iterator[CaseResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)


class CaseError(ValueError):
    pass


def _local(value: Any, ruleset: Ruleset) -> datetime:
    if isinstance(value, datetime):
        when = datetime.fromisoformat(value.isoformat())
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise CaseError(f"received_at: not an ISO date-time: {value!r}") from exc
    else:
        raise CaseError(f"received_at: not a date-time: {value!r}")
    return when if when.tzinfo is not None else when.replace(tzinfo=ruleset.tz)


def facts_from(
    ticket: Any, ruleset: Ruleset, catalog: Catalog
) -> tuple[TicketFacts, frozenset[str]]:
    """A case's `ticket` mapping as TicketFacts plus the excluded units."""
    if not isinstance(ticket, dict):
        raise CaseError("'ticket' must be a mapping")
    unknown = [k for k in ticket if k not in TICKET_KEYS]
    if unknown:
        raise CaseError(f"ticket: unknown key(s) {', '.join(map(str, unknown))}")
    topic = ticket.get("topic")
    if topic is not None and topic not in catalog.topics:
        raise CaseError(f"ticket: unknown topic '{topic}'")
    area = ticket.get("area")
    if area is not None:
        try:
            area = catalog.resolve_one_area(str(area)).code
        except AreaAmbiguous as exc:
            codes = ", ".join(a.code for a in exc.candidates)
            raise CaseError(f"ticket: area '{area}' is ambiguous ({codes})") from exc
        except (AreaNotFound, AreaConflict) as exc:
            raise CaseError(f"ticket: unknown area '{area}'") from exc
    exclude = ticket.get("exclude") or []
    if isinstance(exclude, str):
        exclude = [exclude]
    for code in exclude:
        if code not in catalog.units:
            raise CaseError(f"ticket: exclude: unknown unit '{code}'")
    facts = TicketFacts(
        topic=topic,
        area=area,
        channel=str(ticket.get("channel", "phone")),
        priority=str(ticket.get("priority", "normal")),
        description=str(ticket.get("description", "")),
        received_at=_local(ticket.get("received_at", DEFAULT_RECEIVED), ruleset),
        confidential=bool(ticket.get("confidential", False)),
    )
    return facts, frozenset(exclude)


def _compare(expect: dict, decision: Decision) -> list[str]:
    problems = []
    if decision.unit != expect.get("unit"):
        problems.append(f"unit {decision.unit}, expected {expect.get('unit')}")
    if decision.rule_id != expect.get("rule"):
        problems.append(f"rule {decision.rule_id}, expected {expect.get('rule')}")
    for key in ("priority", "sla_policy"):
        if key in expect and getattr(decision, key) != expect[key]:
            problems.append(f"{key} {getattr(decision, key)}, expected {expect[key]}")
    for key in ("co_handlers", "tags"):
        if key in expect and list(getattr(decision, key)) != list(expect[key] or []):
            problems.append(
                f"{key} {list(getattr(decision, key))}, expected {list(expect[key] or [])}"
            )
    return problems


def run_case(node: Any, path: Path, index: int, ruleset: Ruleset, catalog: Catalog) -> CaseResult:
    line = line_of(node)
    name = f"case {index + 1}"
    try:
        if not isinstance(node, dict):
            raise CaseError("a case must be a mapping with 'ticket' and 'expect'")
        name = str(node.get("name") or name)
        unknown = [k for k in node if k not in ("name", "ticket", "expect")]
        if unknown:
            raise CaseError(f"unknown key(s) {', '.join(map(str, unknown))}")
        expect = node.get("expect")
        if not isinstance(expect, dict) or "unit" not in expect or "rule" not in expect:
            raise CaseError("'expect' needs 'unit' and 'rule' (null for the fallback)")
        bad = [k for k in expect if k not in EXPECT_KEYS]
        if bad:
            raise CaseError(f"expect: unknown key(s) {', '.join(map(str, bad))}")
        facts, exclude = facts_from(node.get("ticket"), ruleset, catalog)
    except CaseError as exc:
        return CaseResult(str(path), line, name, False, str(exc))
    decision = ruleset.route(facts, exclude)
    problems = _compare(expect, decision)
    if problems:
        explanation = ruleset.explain(facts, exclude)
        return CaseResult(
            str(path),
            line,
            name,
            False,
            "; ".join(problems),
            expect.get("rule"),
            decision,
            explanation,
        )
    return CaseResult(str(path), line, name, True, "", expect.get("rule"), decision)


def run_cases(
    rules_dir: Path, ruleset: Ruleset | None = None, catalog: Catalog | None = None
) -> CaseReport:
    """Run every case in `rules_dir/tests/*.yaml` against the ruleset in `rules_dir`.

    Raises RulesError when the rules themselves do not load.
    """
    rules_dir = Path(rules_dir)
    catalog = catalog if catalog is not None else load_catalog(rules_dir)
    ruleset = ruleset if ruleset is not None else load_ruleset(rules_dir, catalog)
    report = CaseReport()
    for path in sorted((rules_dir / "tests").glob("*.yaml")):
        try:
            doc = read_yaml(path) or {}
        except ReferenceDataError as exc:
            for e in exc.errors:
                report.results.append(CaseResult(e.file, e.line, "file", False, e.message))
            continue
        cases = doc.get("cases") if isinstance(doc, dict) else None
        if not isinstance(cases, list):
            report.results.append(
                CaseResult(str(path), line_of(doc), "file", False, "needs a 'cases' list")
            )
            continue
        for index, node in enumerate(cases):
            report.results.append(run_case(node, path, index, ruleset, catalog))
    expected = {r.expected_rule for r in report.results if r.passed}
    report.uncovered = [rule.id for rule in ruleset.rules if rule.id not in expected]
    return report
