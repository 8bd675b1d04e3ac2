"""The `hotline` command: its parser (one module per group in app.commands) and main()."""

import argparse
import logging
import sys

from app.commands import accounts, relay, rules, server, tickets
from app.config import get_settings
from app.outbox.cli import add_webhook_commands
from app.privacy.cli import add_privacy_commands


def build_parser() -> argparse.ArgumentParser:
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="hotline", description="Hotline 1022 ticketing backend")
    parser.add_argument("--version", action="version", version=f"hotline {version('hotline1022')}")
    sub = parser.add_subparsers(dest="command", required=True)

    for group in (server, rules, tickets, accounts):
        group.add_commands(sub)
    add_privacy_commands(sub)
    relay.add_command(add_webhook_commands(sub))
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
