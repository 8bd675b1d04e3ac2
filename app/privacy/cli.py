"""`hotline retention run [--dry-run]` and `hotline callers export|erase|requests`."""

import argparse
import asyncio
import json
import sys
from typing import Any

from app.config import get_settings


def policy_of(settings: Any) -> Any:
    from app.privacy.retention import RetentionPolicy

    return RetentionPolicy(
        caller_days=settings.retention_caller_days,
        description_days=settings.retention_description_days,
        attachments_days=settings.retention_attachments_days,
    )


async def _with_factory(work: Any) -> Any:
    from app.db import make_engine, make_session_factory

    settings = get_settings()
    engine = make_engine(settings.direct_url, pool_size=2)  # not through a pooler
    try:
        return await work(settings, make_session_factory(engine))
    finally:
        await engine.dispose()


def _retention(args: argparse.Namespace) -> int:
    from app.db import transaction, utcnow
    from app.privacy import retention

    async def work(settings: Any, factory: Any) -> int:
        policy = policy_of(settings)
        if not policy.enabled:
            print(
                "retention is off: set HOTLINE_RETENTION_CALLER_DAYS, "
                "HOTLINE_RETENTION_DESCRIPTION_DAYS or HOTLINE_RETENTION_ATTACHMENTS_DAYS"
            )
            return 0
        now = utcnow()
        if args.dry_run:
            async with transaction(factory) as session:
                plan = await retention.dry_run(session, policy, now)
            for kind, years in plan.items():
                total = sum(n for _, n in years)
                print(f"{kind}: {total} ticket(s) would be anonymised")
                for year, count in years:
                    print(f"  {year}: {count}")
            return 0

        def progress(kind: str, done: int) -> None:
            print(f"  {kind}: {done} ticket(s) anonymised", flush=True)

        done = await retention.run(
            factory,
            policy=policy,
            keys=settings.privacy_keys,
            now=now,
            batch=args.batch or settings.retention_batch,
            route="cli: hotline retention run",
            actor="cli",
            progress=progress,
        )
        print("retention done: " + ", ".join(f"{k} {n}" for k, n in done.items()))
        return 0

    return asyncio.run(_with_factory(work))


def _callers(args: argparse.Namespace) -> int:
    from app.catalog.loader import load_catalog
    from app.db import transaction, utcnow
    from app.errors import AppError
    from app.phone import InvalidPhone, to_e164
    from app.privacy.access_log import AccessLog
    from app.privacy.repository import list_requests
    from app.privacy.rights import Rights, request_out
    from app.sla import load_sla

    async def work(settings: Any, factory: Any) -> int:
        now = utcnow()
        if args.action == "requests":
            async with transaction(factory) as session:
                rows = await list_requests(session)
            print(json.dumps([request_out(r, now) for r in rows], ensure_ascii=False, indent=2))
            return 0
        try:
            phone = to_e164(args.phone) if args.phone else None
        except InvalidPhone as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        email = args.email.strip().lower() if args.email else None
        catalog = load_catalog(settings.rules_dir)
        sla = load_sla(settings.rules_dir, catalog)
        async with transaction(factory) as session:
            rights = Rights(
                session=session,
                log=AccessLog(session, settings.privacy_keys, "cli", "admin", now),
                catalog=catalog,
                calendar=sla.calendars[sla.default_calendar or "office"],
                reference_prefix=settings.reference_prefix,
                route=f"cli: hotline callers {args.action}",
            )
            if args.action == "export":
                result = await rights.export(
                    phone=phone, email=email, request_ref=args.request_ref or "cli"
                )
            else:
                result = await rights.erase(
                    phone=phone, email=email, ground=args.ground, request_ref=args.request_ref
                )
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0

    try:
        return asyncio.run(_with_factory(work))
    except AppError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1


def add_privacy_commands(sub: Any) -> None:
    """Register the retention and callers commands on the `hotline` parser."""
    retention = sub.add_parser("retention", help="anonymise data kept past its period")
    actions = retention.add_subparsers(dest="action", required=True)
    run = actions.add_parser("run", help="anonymise what has expired (docs/privacy.md)")
    run.add_argument(
        "--dry-run", action="store_true", help="print per kind and year, change nothing"
    )
    run.add_argument("--batch", type=int, help="tickets per transaction (default: setting)")
    run.set_defaults(func=_retention)

    callers = sub.add_parser("callers", help="a citizen's data: export, erase, requests")
    verbs = callers.add_subparsers(dest="action", required=True)
    export = verbs.add_parser("export", help="everything held about a phone (any format), JSON")
    export.add_argument("phone")
    export.add_argument("--email")
    export.add_argument("--request-ref", help="the citizen's request reference")
    erase = verbs.add_parser("erase", help="erase a person's identity everywhere (not held)")
    erase.add_argument("phone")
    erase.add_argument("--email")
    erase.add_argument("--ground", required=True, help="the legal ground of the decision")
    erase.add_argument("--request-ref", required=True, help="the citizen's request reference")
    verbs.add_parser("requests", help="data-subject requests with due time and state")
    for p in verbs.choices.values():
        p.set_defaults(func=_callers)
