"""`hotline rules replay`: read the proposed files from a directory, replay, print."""

import argparse
import asyncio
import json
import sys
from pathlib import Path

from app.config import Settings
from app.errors import AppError
from app.replay.proposal import check_names, rule_file_names

FORMATS = ("table", "json", "csv")


def read_proposed(directory: Path) -> dict[str, str]:
    """The rule files found in `directory` by their relative name -> text (UTF-8)."""
    files = {}
    for name in rule_file_names(directory):
        files[name] = (directory / name).read_text(encoding="utf-8")
    check_names(list(files))
    return files


async def _run(args: argparse.Namespace, settings: Settings, files: dict[str, str]) -> str:
    from app.catalog.loader import load_catalog
    from app.db import make_engine, make_session_factory, transaction, utcnow
    from app.replay.render import as_csv, as_dict, as_table
    from app.replay.service import ReplayService
    from app.routing import load_ruleset
    from app.sla import load_sla

    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    ruleset = load_ruleset(settings.rules_dir, catalog, sla_policies=sla.policy_ids)
    engine = make_engine(settings.direct_url, pool_size=1)  # not through a pooler
    try:
        async with transaction(make_session_factory(engine)) as session:
            service = ReplayService(
                session=session,
                catalog=catalog,
                ruleset=ruleset,
                sla=sla,
                rules_dir=settings.rules_dir,
                now=utcnow(),
                reference_prefix=settings.reference_prefix,
                timezone=settings.timezone,
                where="option",
            )
            period = service.period(args.date_from, args.date_to)
            proposed_dir = args.proposed

            def label(name: str, proposed: bool) -> str:
                return str((proposed_dir if proposed else settings.rules_dir) / name)

            proposal = service.proposal(files, label)
            report = await service.replay(
                proposal, period, unit=args.unit, samples=args.samples, with_sla=args.sla
            )
    finally:
        await engine.dispose()
    if args.format == "json":
        return json.dumps(as_dict(report, service.reference), ensure_ascii=False, indent=2)
    if args.format == "csv":
        return as_csv(report).removeprefix("\ufeff")
    return as_table(report, service.reference)


def run_replay(args: argparse.Namespace, settings: Settings) -> int:
    """Exit 0 after printing the report; 1 with the proposal's file:line errors, or another
    error (bad directory, date, unit), printed to stderr without a traceback."""
    if not args.proposed.is_dir():
        print(f"error: --proposed {args.proposed}: not a directory", file=sys.stderr)
        return 1
    try:
        files = read_proposed(args.proposed)
    except (ValueError, OSError) as exc:
        print(f"error: --proposed {args.proposed}: {exc}", file=sys.stderr)
        return 1
    if not files:
        print(
            f"warning: {args.proposed} holds no rule files: replaying the current rules",
            file=sys.stderr,
        )
    from app.catalog.source import ReferenceDataError
    from app.routing import RulesError
    from app.sla import SlaConfigError

    try:
        print(asyncio.run(_run(args, settings, files)))
    except (RulesError, SlaConfigError, ReferenceDataError) as exc:
        print(
            f"error: the current rules in {settings.rules_dir} do not load:\n{exc}", file=sys.stderr
        )
        return 1
    except AppError as exc:
        errors = exc.extra.get("errors") or []
        for error in errors:
            where = "" if "file" in error else f"{'.'.join(map(str, error['loc']))}: "
            print(f"error: {where}{error['msg']}", file=sys.stderr)
        if not errors:
            print(f"error: {exc.detail}", file=sys.stderr)
        else:
            print(exc.detail, file=sys.stderr)
        return 1
    return 0
