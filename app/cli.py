"""The `hotline` command: serve, db upgrade/downgrade, sync."""

import argparse
import asyncio
import logging
import shutil
import sys
from pathlib import Path

from app.config import get_settings
from app.outbox.cli import add_webhook_commands
from app.privacy.cli import add_privacy_commands


def _serve(args: argparse.Namespace) -> int:
    from app.cli_support import CommandError, port_taken
    from app.logs import logging_config
    from app.metrics import prepare_multiprocess_dir
    from app.serving import serve
    from app.setup import prepare

    settings = get_settings()
    if port_taken(args.host, args.port):
        raise CommandError(f"port {args.port} on {args.host} is taken; choose another with --port")
    if not args.no_setup:
        prepare(settings)
    # Before any worker starts: they inherit the directory they share their metrics through.
    metrics_dir = prepare_multiprocess_dir()
    # uvloop + httptools: with plain asyncio one of two workers takes nearly every keep-alive
    # connection; uvicorn's standard extras spread them (and app.serving spreads bursts).
    serve(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        # Our own access line replaces uvicorn's (app.api.observe: route template, request id,
        # user, duration; caller data redacted), in the format of every other line.
        access_log=False,
        log_config=logging_config(settings),
        # Longer than load balancers' idle timeouts (often 60 s), so that the balancer, not the
        # app, closes idle connections: otherwise requests race a closing socket and fail.
        timeout_keep_alive=75,
        log_level=settings.log_level.lower(),
    )
    shutil.rmtree(metrics_dir, ignore_errors=True)
    return 0


def _db(args: argparse.Namespace) -> int:
    from app.migrate import describe_current, downgrade, upgrade

    url = get_settings().direct_url  # not through a transaction pooler
    if args.action == "backup":
        from app.backup import BackupRefused, backup_sqlite

        if not args.revision:
            print("error: give the file to write: hotline db backup PATH", file=sys.stderr)
            return 1
        try:
            size = backup_sqlite(url, Path(args.revision))
        except BackupRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"backed up to {args.revision} ({size} bytes)")
        return 0
    if args.action == "upgrade":
        upgrade(url, args.revision or "head")
    else:
        downgrade(url, args.revision or "-1")
    print(f"database {args.action}d; now at {describe_current(url)}")
    return 0


def _sync(_args: argparse.Namespace) -> int:
    from app.catalog.source import ReferenceDataError
    from app.setup import sync_reference

    try:
        report = asyncio.run(sync_reference(get_settings()))
    except ReferenceDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"reference data synced: {report}")
    return 0


async def _in_transaction(work):  # type: ignore[no-untyped-def]
    from app.catalog.loader import load_catalog
    from app.db import make_engine, make_session_factory, transaction

    settings = get_settings()
    engine = make_engine(settings.direct_url, pool_size=1)
    try:
        async with transaction(make_session_factory(engine)) as session:
            return await work(session, load_catalog(settings.rules_dir))
    finally:
        await engine.dispose()


def _run_admin(work) -> int:  # type: ignore[no-untyped-def]
    """Run an admin command in one transaction: print its result, or its error and exit 1."""
    from app.errors import AppError

    try:
        print(asyncio.run(_in_transaction(work)))
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    return 0


def _users(args: argparse.Namespace) -> int:
    from app.db import utcnow
    from app.users import service

    async def work(session, catalog):  # type: ignore[no-untyped-def]
        if args.action == "create":
            user = await service.create_user(
                session,
                username=args.username,
                password=args.password,
                role=args.role,
                units=args.unit or [],
                full_name=args.full_name,
                known_units=set(catalog.units),
                now=utcnow(),
            )
            return f"created {user.username} ({user.role})"
        if args.action in ("disable", "enable"):
            user = await service.set_active(
                session, username=args.username, active=args.action == "enable"
            )
            return f"{user.username}: {'active' if user.active else 'disabled'}"
        rows = await service.list_users(session)
        return "\n".join(
            f"{u.username:20} {u.role:12} {'active' if u.active else 'DISABLED':9} {','.join(units)}"
            for u, units in rows
        )

    return _run_admin(work)


def _apikeys(args: argparse.Namespace) -> int:
    from app.db import utcnow
    from app.users import service

    async def work(session, catalog):  # type: ignore[no-untyped-def]
        if args.action == "create":
            key, full = await service.create_api_key(
                session,
                name=args.name,
                role=args.role,
                units=args.unit or [],
                created_by="cli",
                known_units=set(catalog.units),
                now=utcnow(),
            )
            return (
                f"API key {key.id} for {key.name} ({key.role}); shown once, store it now:\n{full}"
            )
        if args.action == "revoke":
            key = await service.revoke_api_key(session, key_id=args.id, now=utcnow())
            return f"revoked API key {key.id} ({key.name})"
        keys = await service.list_api_keys(session)
        return "\n".join(
            f"{k.id:4} hk_{k.prefix}_…  {k.name:24} {k.role:12} "
            f"{'revoked' if k.revoked_at else 'active':8} last used {k.last_used_at or '-'}"
            for k in keys
        )

    return _run_admin(work)


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


def _sla(args: argparse.Namespace) -> int:
    from app.catalog.loader import load_catalog
    from app.db import make_engine, make_session_factory, utcnow
    from app.tickets.sla import run_scan

    settings = get_settings()

    async def scan() -> str:
        engine = make_engine(settings.direct_url, pool_size=2)
        try:
            report = await run_scan(
                make_session_factory(engine), catalog=load_catalog(settings.rules_dir), now=utcnow()
            )
        finally:
            await engine.dispose()
        return f"SLA scan: {report}"

    print(asyncio.run(scan()))
    return 0


def _demo(args: argparse.Namespace) -> int:
    """demo generate: a realistic months-long history through the ticket service."""
    from app.catalog.loader import load_catalog
    from app.cli_support import CommandError
    from app.db import make_engine, make_session_factory, utcnow
    from app.reports.demo import count_tickets, generate
    from app.routing.live import LiveRuleset
    from app.setup import prepare
    from app.sla import load_sla

    settings = get_settings()
    if settings.env == "production":
        raise CommandError("demo data is never generated with HOTLINE_ENV=production")
    prepare(settings)  # idempotent: migrate and load the reference data first
    existing = asyncio.run(count_tickets(settings.database_url))
    if existing and not args.force:
        raise CommandError(
            f"the database holds {existing} tickets already; add --force to add demo tickets to them"
        )
    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    now = utcnow()
    rules = LiveRuleset(settings.rules_dir, catalog, now, sla_policies=sla.policy_ids)

    def progress(done: int) -> None:
        if done % 100 == 0 or done == args.tickets:
            print(f"  {done}/{args.tickets} tickets", file=sys.stderr)

    async def run() -> str:
        engine = make_engine(settings.direct_url, pool_size=2)
        try:
            report = await generate(
                make_session_factory(engine),
                catalog=catalog,
                sla=sla,
                router=rules.route,
                tickets=args.tickets,
                months=args.months,
                seed=args.seed,
                now=now,
                reference_prefix=settings.reference_prefix,
                progress=progress,
            )
        finally:
            await engine.dispose()
        return f"demo history: {report}"

    print(asyncio.run(run()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="hotline", description="Hotline 1022 ticketing backend")
    parser.add_argument("--version", action="version", version=f"hotline {version('hotline1022')}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser(
        "serve",
        help="migrate, load reference data and serve the API",
        description="Migrate the database, load routing_rules/ and serve the API. Settings "
        "come from HOTLINE_* environment variables (see README).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8000, help="TCP port to listen on")
    serve.add_argument("--workers", type=int, default=1, help="processes, each with its own socket")
    serve.add_argument(
        "--no-setup", action="store_true", help="skip migrations and the reference data sync"
    )
    serve.set_defaults(func=_serve)

    db = sub.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "backup"])
    db.add_argument(
        "revision",
        nargs="?",
        help="default: head (upgrade) or -1 (downgrade); backup: the new SQLite file to write",
    )
    db.set_defaults(func=_db)

    sync = sub.add_parser("sync", help="load routing_rules/ reference data into the database")
    sync.set_defaults(func=_sync)

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

    sla = sub.add_parser("sla", help="SLA tools").add_subparsers(dest="action", required=True)
    sla.add_parser("scan", help="write due SLA warning and breach events now").set_defaults(
        func=_sla
    )

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

    demo = sub.add_parser("demo", help="demo data").add_subparsers(dest="action", required=True)
    generate = demo.add_parser(
        "generate", help="create a realistic months-long history through the ticket service"
    )
    generate.add_argument("--tickets", type=int, default=1000, help="how many (default 1000)")
    generate.add_argument("--months", type=float, default=6, help="history length (default 6)")
    generate.add_argument("--seed", type=int, default=1022, help="random seed (reproducible)")
    generate.add_argument(
        "--force", action="store_true", help="add to a database that holds tickets already"
    )
    generate.set_defaults(func=_demo)

    users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="action", required=True
    )
    create = users.add_parser("create")
    create.add_argument("username")
    create.add_argument(
        "--role", required=True, choices=["operator", "unit_agent", "supervisor", "admin"]
    )
    create.add_argument("--unit", action="append", help="unit code (repeat for several)")
    create.add_argument("--password", required=True)
    create.add_argument("--full-name")
    users.add_parser("list")
    for verb in ("disable", "enable"):
        users.add_parser(verb).add_argument("username")
    for p in users.choices.values():
        p.set_defaults(func=_users)

    keys = sub.add_parser("apikeys", help="manage integration API keys").add_subparsers(
        dest="action", required=True
    )
    kcreate = keys.add_parser("create")
    kcreate.add_argument("name")
    kcreate.add_argument("--role", required=True, choices=["operator", "unit_agent", "supervisor"])
    kcreate.add_argument("--unit", action="append")
    keys.add_parser("list")
    keys.add_parser("revoke").add_argument("id", type=int)
    for p in keys.choices.values():
        p.set_defaults(func=_apikeys)
    add_privacy_commands(sub)
    add_webhook_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from app.cli_support import DATABASE_COMMANDS, check_sqlite_folder, explain_failure
    from app.logs import configure_logging

    args = build_parser().parse_args(argv)
    if not logging.getLogger().handlers:  # as basicConfig: leave a host's logging alone
        try:
            configure_logging(get_settings())
        except ValueError:  # settings refused; the command reports it when it reads them
            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        if args.command in DATABASE_COMMANDS:
            check_sqlite_folder(get_settings().database_url)
        return args.func(args)
    except Exception as exc:
        try:
            url = get_settings().database_url
        except Exception:
            url = None
        message = explain_failure(exc, url)
        if message is None:
            raise  # a bug: its traceback helps whoever fixes it
        print(message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
