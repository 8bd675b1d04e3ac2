"""`hotline sla scan` and `hotline demo generate`: work on the tickets, on the runtime every
other entry point uses (app.runtime), on the direct database URL."""

import argparse
import asyncio
import sys
from typing import Any

from app.config import get_settings


def _sla(_args: argparse.Namespace) -> int:
    from app.db import utcnow
    from app.runtime import build_runtime
    from app.tickets.assignment_clock import run_scan

    settings = get_settings()

    async def scan() -> str:
        runtime = build_runtime(settings, utcnow(), command=True)
        try:
            report = await run_scan(runtime.session_factory, catalog=runtime.catalog, now=utcnow())
        finally:
            await runtime.close()
        return f"SLA scan: {report}"

    print(asyncio.run(scan()))
    return 0


def _demo(args: argparse.Namespace) -> int:
    """demo generate: a realistic months-long history through the ticket service."""
    from app.cli_support import CommandError
    from app.db import utcnow
    from app.reports.demo import count_tickets, generate
    from app.runtime import build_runtime
    from app.setup import prepare

    settings = get_settings()
    if settings.env == "production":
        raise CommandError("demo data is never generated with HOTLINE_ENV=production")
    prepare(settings)  # idempotent: migrate and load the reference data first
    existing = asyncio.run(count_tickets(settings.database_url))
    if existing and not args.force:
        raise CommandError(
            f"the database holds {existing} tickets already; add --force to add demo tickets to them"
        )
    now = utcnow()

    def progress(done: int) -> None:
        if done % 100 == 0 or done == args.tickets:
            print(f"  {done}/{args.tickets} tickets", file=sys.stderr)

    async def run() -> str:
        runtime = build_runtime(settings, now, command=True)
        try:
            report = await generate(
                runtime,
                tickets=args.tickets,
                months=args.months,
                seed=args.seed,
                now=now,
                progress=progress,
            )
        finally:
            await runtime.close()
        return f"demo history: {report}"

    print(asyncio.run(run()))
    return 0


def add_commands(sub: Any) -> None:
    """Register sla and demo on the `hotline` parser."""
    sla = sub.add_parser("sla", help="SLA tools").add_subparsers(dest="action", required=True)
    sla.add_parser("scan", help="write due SLA warning and breach events now").set_defaults(
        func=_sla
    )

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
