"""A replay report as JSON-ready data, a plain-text table (the CLI) or CSV.

Shapes are documented in docs/routing.md ("Before you change the rules").
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from app.replay.service import ReplayReport
from app.routing.explain import Explanation
from app.routing.replay import Cell, RoutingReplay
from app.sla.whatif import GroupComparison, SlaWhatIf, Tally, TargetComparison, VerdictChange
from app.timefmt import to_local

Reference = Callable[[int, datetime], str]
TARGETS = ("acknowledge", "resolve")
NOBODY = "(nobody)"


def _local(value: datetime | None) -> str | None:
    return None if value is None else to_local(value)


def as_dict(report: ReplayReport, reference: Reference) -> dict[str, Any]:
    """The report as JSON-ready data (`reference(ticket_id, received_at)` names tickets)."""
    return {
        "period": {
            "from": report.period_from.isoformat(),
            "to": report.period_to.isoformat(),
            "timezone": report.timezone,
        },
        "as_of": to_local(report.as_of),
        "unit": report.unit,
        "proposed_files": list(report.proposed_files),
        "warnings": list(report.warnings),
        "routing": _routing(report.routing, reference),
        "sla": None if report.sla is None else _sla(report.sla),
    }


def _explanation(e: Explanation) -> dict[str, Any]:
    d = e.as_dict()
    d["trace"] = [str(t) for t in e.trace]  # one line per rule tried, as `rules explain`
    return d


def _routing(r: RoutingReplay, reference: Reference) -> dict[str, Any]:
    return {
        "ruleset_version": {"current": r.current_version, "proposed": r.proposed_version},
        "tickets": r.tickets,
        "changed": r.changed,
        "unchanged": r.tickets - r.changed,
        "same_unit_other_rule": r.rule_changed,
        "matrix": [
            {
                "from_unit": c.from_unit,
                "to_unit": c.to_unit,
                "tickets": c.tickets,
                "changed": c.changed,
            }
            for c in r.cells
        ],
        "rule_changes": [
            {
                "rule_id": rc.rule_id,
                "now": rc.now,
                "proposed": rc.proposed,
                "change": rc.change,
                "in_current": rc.in_current,
                "in_proposal": rc.in_proposal,
            }
            for rc in r.rule_changes
        ],
        "samples": [_cell_samples(c, reference) for c in r.changed_cells],
    }


def _cell_samples(c: Cell, reference: Reference) -> dict[str, Any]:
    return {
        "from_unit": c.from_unit,
        "to_unit": c.to_unit,
        "tickets": c.tickets,
        "sample": [
            {
                "ticket_id": t.ticket_id,
                "reference": reference(t.ticket_id, t.received_at),
                "received_at": to_local(t.received_at),
                "now": _explanation(t.now),
                "proposed": _explanation(t.proposed),
            }
            for t in c.samples
        ],
    }


def _tally(t: Tally) -> dict[str, Any]:
    return {
        "on_time": t.on_time,
        "late": t.late,
        "open_overdue": t.open_overdue,
        "on_time_rate": t.rate,
    }


def _target(t: TargetComparison) -> dict[str, Any]:
    return {
        "now": _tally(t.now),
        "proposed": _tally(t.proposed),
        "as_stored": _tally(t.stored),
        "breaches_appearing": t.breaches_appearing,
        "breaches_disappearing": t.breaches_disappearing,
    }


def _group(g: GroupComparison) -> dict[str, Any]:
    return {
        "assignments": g.assignments,
        "planned_under_older_config": g.planned_under_older_config,
        "policy_changes": g.policy_changes,
        "due_changes": g.due_changes,
        **{name: _target(g.target(name)) for name in TARGETS},
    }


def _change(v: VerdictChange) -> dict[str, Any]:
    return {
        "assignment_id": v.assignment_id,
        "ticket_id": v.ticket_id,
        "unit_code": v.unit_code,
        "target": v.target,
        "done_at": _local(v.done_at),
        "now": {"policy": v.policy_now, "due_at": _local(v.due_now), "verdict": v.verdict_now},
        "proposed": {
            "policy": v.policy_proposed,
            "due_at": _local(v.due_proposed),
            "verdict": v.verdict_proposed,
        },
    }


def _sla(s: SlaWhatIf) -> dict[str, Any]:
    return {
        "version": {"current": s.current_version, "proposed": s.proposed_version},
        "overall": _group(s.overall),
        "units": [{"unit_code": code, **_group(g)} for code, g in s.units.items()],
        "breaches_appearing": [_change(v) for v in s.appearing],
        "breaches_disappearing": [_change(v) for v in s.disappearing],
        "planned_under_older_config": [
            {
                "assignment_id": p.assignment_id,
                "ticket_id": p.ticket_id,
                "unit_code": p.unit_code,
                "reason": p.reason,
            }
            for p in s.stale
        ],
    }


# -- CSV ----------------------------------------------------------------------------------------

CSV_COLUMNS = ("section", "unit", "to_unit", "rule_id", "target", "count", "now", "proposed")


def as_csv(report: ReplayReport) -> str:
    """One table, a row per fact (columns CSV_COLUMNS; empty cells do not apply):

    - `matrix`: unit (now) -> to_unit (proposed), count = tickets;
    - `rule`: rule_id (empty: the fallback), now / proposed = tickets it decided (changes only);
    - `sla_on_time_rate` and `sla_breaches`: per unit (`TOTAL` for all) and target, count =
      assignments, now / proposed = the rate (0-1) or the number of breaches.
    UTF-8 with a byte-order mark and CRLF, like the SLA report's CSV.
    """
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    r = report.routing
    for c in r.cells:
        w.writerow(["matrix", c.from_unit or "", c.to_unit or "", "", "", c.tickets, "", ""])
    for rc in r.rule_changes:
        w.writerow(["rule", "", "", rc.rule_id or "", "", "", rc.now, rc.proposed])
    if report.sla is not None:
        groups = [("TOTAL", report.sla.overall), *report.sla.units.items()]
        for code, g in groups:
            for name in TARGETS:
                t = g.target(name)
                rate = [_blank(t.now.rate), _blank(t.proposed.rate)]
                w.writerow(["sla_on_time_rate", code, "", "", name, g.assignments, *rate])
                breaches = [t.now.breaches, t.proposed.breaches]
                w.writerow(["sla_breaches", code, "", "", name, g.assignments, *breaches])
    return out.getvalue()


def _blank(value: Any) -> Any:
    return "" if value is None else value


# -- text ---------------------------------------------------------------------------------------


def _rate(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def as_table(report: ReplayReport, reference: Reference) -> str:
    """A plain-text summary for the terminal."""
    r = report.routing
    lines = [
        f"period {report.period_from} .. {report.period_to} ({report.timezone}), "
        f"as of {to_local(report.as_of)}" + (f", unit {report.unit}" if report.unit else ""),
        f"proposed files: {', '.join(report.proposed_files) or '(none)'}",
        *(f"warning: {w}" for w in report.warnings),
        "",
        f"routing: {r.tickets} ticket(s) replayed, {r.changed} would change unit"
        + (f", {r.rule_changed} same unit by another rule" if r.rule_changed else ""),
    ]
    changed = r.changed_cells
    if changed:
        width = max(len(c.from_unit or NOBODY) for c in changed)
        lines += ["", "from unit (now) -> to unit (proposed): tickets"]
        lines += [
            f"  {c.from_unit or NOBODY:<{width}} -> {c.to_unit or NOBODY}: {c.tickets}"
            for c in changed
        ]
    if r.rule_changes:
        lines += ["", "rules whose match counts change (now -> proposed):"]
        for rc in r.rule_changes:
            label = rc.rule_id or "(fallback)"
            note = {"never": "never matches any more", "gained": "gained", "lost": "lost"}[
                rc.change
            ]
            new = "" if rc.in_current else " (new rule)"
            gone = "" if rc.in_proposal else " (removed)"
            lines.append(f"  {label}: {rc.now} -> {rc.proposed}  {note}{new}{gone}")
    for c in changed:
        for t in c.samples:
            lines += [
                "",
                f"{reference(t.ticket_id, t.received_at)} received {to_local(t.received_at)}: "
                f"{c.from_unit or NOBODY} -> {c.to_unit or NOBODY}",
                "  now:",
                *(f"    {line}" for line in str(t.now).splitlines()),
                "  proposed:",
                *(f"    {line}" for line in str(t.proposed).splitlines()),
            ]
    if report.sla is not None:
        lines += ["", *_sla_table(report.sla)]
    return "\n".join(lines)


def _sla_table(s: SlaWhatIf) -> list[str]:
    lines = [
        f"SLA: {s.overall.assignments} assignment(s) re-planned, "
        f"{s.overall.policy_changes} on another policy, {s.overall.due_changes} with other due "
        "times",
        "on-time rate now -> proposed (acknowledge | resolve), breaches appearing/disappearing:",
    ]
    groups = [("ALL", s.overall), *s.units.items()]
    width = max(len(code) for code, _ in groups)
    for code, g in groups:
        a, r = g.acknowledge, g.resolve
        lines.append(
            f"  {code:<{width}} {g.assignments:6}  "
            f"{_rate(a.now.rate)} -> {_rate(a.proposed.rate)} "
            f"(+{a.breaches_appearing}/-{a.breaches_disappearing}) | "
            f"{_rate(r.now.rate)} -> {_rate(r.proposed.rate)} "
            f"(+{r.breaches_appearing}/-{r.breaches_disappearing})"
        )
    for v in s.appearing:
        lines.append(
            f"  would be late: assignment {v.assignment_id} ({v.unit_code}, {v.target}): due "
            f"{_local(v.due_now)} -> {_local(v.due_proposed)}, done {_local(v.done_at) or '-'}"
        )
    if s.overall.planned_under_older_config:
        lines.append(
            f"{s.overall.planned_under_older_config} assignment(s) were planned under an older "
            "config (their stored due times differ from the current config's); 'now' re-plans "
            "them under the current config:"
        )
        lines += [f"  assignment {p.assignment_id} ({p.unit_code}): {p.reason}" for p in s.stale]
    return lines
