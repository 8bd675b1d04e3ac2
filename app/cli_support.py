"""What the `hotline` command says when something expected goes wrong: one line a person can act
on instead of a traceback. Failures not recognised here are bugs and keep their traceback."""

import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from app.catalog.area_errors import area_error
from app.catalog.catalog import Catalog
from app.catalog.resolver import AreaAmbiguous, AreaConflict, AreaNotFound
from app.config import ConfigurationError
from app.db_errors import database_unavailable
from app.errors import AppError


class CommandError(Exception):
    """An expected failure a command found itself; its message is printed as is."""


def where_database(url: str) -> str:
    """'PostgreSQL at 10.0.0.5:5432/hotline' or 'the SQLite file /srv/hotline.db', no password."""
    try:
        parsed = make_url(url)
    except Exception:
        return "the database in HOTLINE_DATABASE_URL"
    if parsed.get_backend_name() == "sqlite":
        return f"the SQLite file {Path(parsed.database or '').resolve()}"
    return f"PostgreSQL at {parsed.host}:{parsed.port or 5432}/{parsed.database}"


def explain_failure(exc: BaseException, database_url: str | None) -> str | None:
    """The message for an expected failure, or None when `exc` is a bug."""
    if isinstance(exc, CommandError):
        return f"error: {exc}"
    if isinstance(exc, ConfigurationError):
        return "configuration refused:\n" + "\n".join(f"  {p}" for p in exc.problems)
    if isinstance(exc, AppError):
        return f"error: {exc.detail}"
    if isinstance(exc, AreaNotFound | AreaConflict):
        return f"error: {area_error(['area'], exc)['msg']}"
    if isinstance(exc, AreaAmbiguous):
        options = ", ".join(a.code for a in exc.candidates[:5])
        return f"error: '{exc.text}' names several areas ({options}); give the code"
    if isinstance(exc, OSError) and exc.filename is not None:
        # A file the command read (routing rules, a CSV): checked before database_unavailable,
        # which takes every OSError for a connection failure. Sockets carry no filename.
        return (
            f"error: cannot read {exc.filename}: {exc.strerror} (routing rules are read from "
            "HOTLINE_RULES_DIR)"
        )
    if database_unavailable(exc):
        where = where_database(database_url or "")
        if where.startswith("the SQLite file"):
            return (
                f"error: cannot open {where}: check that its folder exists and is writable "
                "(HOTLINE_DATABASE_URL)"
            )
        return (
            f"error: cannot reach {where} ({type(exc).__name__}): is the server running and "
            "does the database exist? (HOTLINE_DATABASE_URL)"
        )
    return None


# Commands that open the database (the others read files only).
DATABASE_COMMANDS = {"serve", "db", "sync", "sla", "demo", "users", "apikeys"}


def check_sqlite_folder(url: str) -> None:
    """CommandError when a SQLite file cannot be created or written where the URL says, found
    before the driver tries (it would fail in a thread of its own, after the event loop ended)."""
    if not url.startswith("sqlite"):
        return
    name = make_url(url).database
    if not name or name == ":memory:":
        return
    path = Path(name).resolve()
    target = path if path.exists() else path.parent
    if not target.exists() or not os.access(target, os.W_OK):
        raise CommandError(
            f"cannot open the SQLite file {path}: check that its folder exists and is writable "
            "(HOTLINE_DATABASE_URL)"
        )


def port_taken(host: str, port: int) -> bool:
    """Whether another process listens on host:port (checked before migrating, not after)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "taken"
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def explain_inputs(args: Any, catalog: Catalog) -> tuple[str | None, datetime]:
    """`rules explain`'s area code and instant, its topic, channel and priority checked the way
    the API checks them; CommandError naming the option otherwise."""
    from app.tickets.schemas import Channel, Priority
    from app.timefmt import assume_local

    if args.topic and args.topic not in catalog.topics:
        raise CommandError(f"no topic '{args.topic}' (see routing_rules/topics.yaml)")
    for name, kind in (("channel", Channel), ("priority", Priority)):
        if getattr(args, name) not in {v.value for v in kind}:
            choices = ", ".join(v.value for v in kind)
            raise CommandError(f"--{name} must be one of {choices}")
    area = catalog.resolve_one_area(args.area).code if args.area else None
    if not args.at:
        return area, datetime.now().astimezone()
    try:
        return area, assume_local(datetime.fromisoformat(args.at))
    except ValueError:
        raise CommandError(
            f"--at '{args.at}' is not a date and time like 2026-11-26T23:10"
        ) from None
