"""`hotline users ...` and `hotline apikeys ...`: accounts, each command one transaction."""

import argparse
import asyncio
import sys
from typing import Any

from app.config import get_settings


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


def add_commands(sub: Any) -> None:
    """Register users and apikeys on the `hotline` parser."""
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
