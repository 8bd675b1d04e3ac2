"""`hotline rules check|test|explain|replay` and `hotline calendar show`: the files in
routing_rules/, read without a server; only replay opens the database."""

import argparse
import sys
from pathlib import Path
from typing import Any

from app.config import get_settings


def _rules(args: argparse.Namespace) -> int:
    """check: validate rules and SLA config; test: run the rule cases; explain: one decision."""

    from app.catalog.loader import load_catalog
    from app.catalog.source import ReferenceDataError
    from app.routing import TicketFacts, check_rules, load_ruleset, run_cases
    from app.sla import check_sla

    rules_dir = args.dir or get_settings().rules_dir
    try:
        catalog = load_catalog(rules_dir)
    except ReferenceDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    sla_errors, sla_warnings = check_sla(rules_dir, catalog)
    policies = None
    if not sla_errors:
        from app.sla import load_sla

        policies = load_sla(rules_dir, catalog).policy_ids
    if args.action == "check":
        errors, warnings = check_rules(rules_dir, catalog, sla_policies=policies)
        for problem in [*errors, *sla_errors]:
            print(f"error: {problem}")
        for problem in [*warnings, *sla_warnings]:
            print(f"warning: {problem}")
        total = len(errors) + len(sla_errors)
        print(f"{rules_dir}: {total} error(s), {len(warnings) + len(sla_warnings)} warning(s)")
        return 1 if total else 0
    ruleset = load_ruleset(rules_dir, catalog, sla_policies=policies)
    if args.action == "test":
        report = run_cases(rules_dir, ruleset, catalog)
        for result in report:
            if not result.passed or args.verbose:
                print(result)
        for rule_id in report.uncovered:
            print(f"warning: no case expects rule {rule_id}")
        print(f"{len(report) - len(report.failed)} passed, {len(report.failed)} failed")
        return 0 if report.ok else 1
    from app.cli_support import explain_inputs

    area, at = explain_inputs(args, catalog)
    facts = TicketFacts(
        topic=args.topic,
        area=area,
        channel=args.channel,
        priority=args.priority,
        description=args.description or "",
        received_at=at,
        confidential=args.confidential,
    )
    explanation = ruleset.explain(facts, frozenset(args.exclude or ()))
    for step in explanation.trace:
        mark = "MATCH" if step.matched else "no   "
        print(f"{mark} {step.rule_id:28} {step.file}:{step.line}  {step.reason or ''}")
    d = explanation.decision
    print(f"-> {d.unit} (rule {d.rule_id or 'fallback'}, ruleset {d.ruleset_version})")
    return 0


def _calendar(args: argparse.Namespace) -> int:
    """show: each calendar's days off and extra working days in a year, library or override."""
    from app.calendar_cli import show_calendars

    return show_calendars(args.year, args.calendar, args.dir or get_settings().rules_dir)


def _replay(args: argparse.Namespace) -> int:
    """rules replay: past tickets through the proposed files in --proposed DIR."""
    from app.replay.cli import run_replay

    return run_replay(args, get_settings())


def add_commands(sub: Any) -> None:
    """Register rules and calendar on the `hotline` parser."""
    rules = sub.add_parser("rules", help="check, test and explain routing rules").add_subparsers(
        dest="action", required=True
    )
    for name, text in [
        ("check", "validate rules and sla.yaml; exit 1 on errors"),
        ("test", "run the rule cases in routing_rules/tests/"),
        ("explain", "show which rule routes a ticket, and why"),
    ]:
        p = rules.add_parser(name, help=text)
        p.add_argument("--dir", type=Path, help="rules directory (default: HOTLINE_RULES_DIR)")
        p.set_defaults(func=_rules)
    rules.choices["test"].add_argument("-v", "--verbose", action="store_true")
    explain = rules.choices["explain"]
    explain.add_argument("--topic")
    explain.add_argument("--area", help="code or name")
    explain.add_argument("--channel", default="phone")
    explain.add_argument("--priority", default="normal")
    explain.add_argument("--description")
    explain.add_argument("--at", help="local time, e.g. 2026-11-26T23:10 (default: now)")
    explain.add_argument("--confidential", action="store_true")
    explain.add_argument("--exclude", action="append", help="unit that rejected it")

    replay = rules.add_parser(
        "replay", help="replay past tickets through proposed rule files; nothing is written"
    )
    replay.add_argument(
        "--proposed",
        type=Path,
        required=True,
        help="directory with the proposed files (rules.yaml, rules.d/, sla.yaml...); "
        "files it lacks are the current ones",
    )
    replay.add_argument("--from", dest="date_from", help="first local date YYYY-MM-DD")
    replay.add_argument("--to", dest="date_to", help="last local date (default: today)")
    replay.add_argument("--unit", help="only tickets routed to or from this unit")
    replay.add_argument("--format", choices=["table", "json", "csv"], default="table")
    replay.add_argument("--samples", type=int, default=3, help="tickets explained per cell")
    replay.add_argument(
        "--sla",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run the SLA what-if (default: when the proposal has sla.yaml)",
    )
    replay.set_defaults(func=_replay)

    calendar = sub.add_parser("calendar", help="SLA calendars").add_subparsers(
        dest="action", required=True
    )
    show = calendar.add_parser(
        "show", help="a year's effective days off and extra working days of each calendar"
    )
    show.add_argument("year", type=int)
    show.add_argument("--calendar", action="append", help="only this calendar (repeat)")
    show.add_argument("--dir", type=Path, help="rules directory (default: HOTLINE_RULES_DIR)")
    show.set_defaults(func=_calendar)
