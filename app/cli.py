"""The `hotline` command: serve, db upgrade/downgrade, sync."""

import argparse
import asyncio
import logging
import sys

from app.config import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.setup import prepare

    settings = get_settings()
    if not args.no_setup:
        prepare(settings)
    # uvloop + httptools: with plain asyncio one of two workers takes nearly every keep-alive
    # connection; uvicorn's standard extras spread them.
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop",
        http="httptools",
        access_log=args.access_log,
        log_level="info",
    )
    return 0


def _db(args: argparse.Namespace) -> int:
    from app.migrate import downgrade, upgrade

    url = get_settings().database_url
    if args.action == "upgrade":
        upgrade(url, args.revision or "head")
    else:
        downgrade(url, args.revision or "-1")
    print(
        f"database {args.action}d to {args.revision or ('head' if args.action == 'upgrade' else '-1')}"
    )
    return 0


def _sync(_args: argparse.Namespace) -> int:
    from app.reference.loader import ReferenceDataError
    from app.setup import sync_reference

    try:
        report = asyncio.run(sync_reference(get_settings()))
    except ReferenceDataError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"reference data synced: {report}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="Hotline 1022 ticketing backend")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, load reference data and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-setup", action="store_true", help="skip migrations and data sync")
    serve.add_argument("--access-log", action="store_true")
    serve.set_defaults(func=_serve)

    db = sub.add_parser("db", help="schema migrations")
    db.add_argument("action", choices=["upgrade", "downgrade"])
    db.add_argument("revision", nargs="?", help="default: head (upgrade) or -1 (downgrade)")
    db.set_defaults(func=_db)

    sync = sub.add_parser("sync", help="load routing_rules/ reference data into the database")
    sync.set_defaults(func=_sync)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
