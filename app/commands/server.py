"""`hotline serve`, `hotline db upgrade|downgrade|backup` and `hotline sync`: the install itself."""

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

from app.config import get_settings


def _serve(args: argparse.Namespace) -> int:
    from app.cli_support import CommandError, port_taken
    from app.logs import logging_config
    from app.metrics import prepare_multiprocess_dir
    from app.setup import prepare
    from app.shutdown import REQUESTS_SECONDS
    from app.uvicorn_runner import serve

    settings = get_settings()
    if port_taken(args.host, args.port):
        raise CommandError(f"port {args.port} on {args.host} is taken; choose another with --port")
    if not args.no_setup:
        prepare(settings)
    # Before any worker starts: they inherit the directory they share their metrics through.
    metrics_dir = prepare_multiprocess_dir()
    # uvloop + httptools: with plain asyncio one of two workers takes nearly every keep-alive
    # connection; uvicorn's standard extras spread them (and app.uvicorn_runner spreads bursts).
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
        # On SIGTERM, in-flight requests get this long before uvicorn cancels them; the rest of
        # the stop is bounded in app.shutdown (which says why these numbers).
        timeout_graceful_shutdown=REQUESTS_SECONDS,
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


def add_commands(sub: Any) -> None:
    """Register serve, db and sync on the `hotline` parser."""
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
