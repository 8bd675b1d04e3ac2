"""`hotline webhooks create|list|disable|test`: subscriptions from the command line
(`hotline webhooks relay` is app.commands.relay: it needs the runtime).

`test` queues a webhook.test message and, unless --queue-only, sends it from this process (so
it works with no server running) and prints the attempt.
"""

import argparse
import asyncio
import json
from typing import Any

from app.config import get_settings


async def _run(args: argparse.Namespace) -> int:
    from app.catalog.loader import load_catalog
    from app.db import make_engine, make_session_factory, transaction, utcnow
    from app.errors import AppError
    from app.outbox import subscriptions as subs
    from app.outbox.relay import Relay
    from app.outbox.ssrf import parse_networks

    settings = get_settings()
    engine = make_engine(settings.database_url, pool_size=2)
    factory = make_session_factory(engine)
    now = utcnow()
    try:
        async with transaction(factory) as session:
            if args.action == "create":
                subs.check_fields(
                    url=args.url,
                    events=args.event,
                    units=args.unit,
                    known_units=set(load_catalog(settings.rules_dir).units),
                    allowed=parse_networks(settings.webhook_allowed_networks),
                )
                e = await subs.create(
                    session,
                    url=args.url,
                    events=args.event or [],
                    units=args.unit,
                    description=args.description,
                    actor="cli",
                    now=now,
                )
                print(json.dumps({"id": e.id, "url": e.url, "secret": e.secret}))
                print("Store the secret now: it is not shown again.")
            elif args.action == "list":
                for e in await subs.list_all(session):
                    state = "enabled" if e.enabled else f"disabled ({e.disabled_reason})"
                    events = ",".join(e.events) or "*"
                    units = ",".join(e.units) if e.units is not None else "*"
                    print(f"{e.id}\t{e.url}\t{events}\t{units}\t{state}")
            elif args.action == "disable":
                endpoint = await subs.get(session, args.id)
                await subs.change(session, endpoint, {"enabled": False}, now)
                print(f"webhook {args.id} disabled")
            else:  # test
                message_id = await subs.queue_test(session, await subs.get(session, args.id), now)
                print(f"queued {message_id}")
        if args.action == "test" and not args.queue_only:
            relay = Relay(factory, settings, lambda *_: None)
            try:
                await relay.send_due()
            finally:
                await relay.close()
            async with transaction(factory) as session:
                endpoint = await subs.get(session, args.id)
                page, _ = await subs.deliveries(session, endpoint, before=None, limit=1)
                attempts: list[Any] = page[0][1] if page else []
                if attempts:
                    a = attempts[0]
                    print(f"attempt: status={a.status} latency_ms={a.latency_ms} error={a.error}")
                    return 0 if a.status is not None and 200 <= a.status < 300 else 1
        return 0
    except AppError as exc:
        print(f"error: {exc.detail} {getattr(exc, 'extra', '') or ''}".rstrip())
        return 2
    finally:
        await engine.dispose()


def add_webhook_commands(sub: Any) -> Any:
    """The `webhooks` group; returns its subparsers (app.commands.relay adds `relay`)."""
    hooks = sub.add_parser("webhooks", help="webhook subscriptions").add_subparsers(
        dest="action", required=True
    )
    create = hooks.add_parser("create", help="subscribe a URL; prints the secret once")
    create.add_argument("url")
    create.add_argument("--event", action="append", help="a message type (repeat; none: all)")
    create.add_argument("--unit", action="append", help="a unit code (repeat; none: all units)")
    create.add_argument("--description")
    hooks.add_parser("list", help="every subscription")
    hooks.add_parser("disable", help="stop sending to a subscription").add_argument("id", type=int)
    test = hooks.add_parser("test", help="send a webhook.test message now")
    test.add_argument("id", type=int)
    test.add_argument("--queue-only", action="store_true", help="leave it to the running relay")
    for p in hooks.choices.values():
        p.set_defaults(func=lambda args: asyncio.run(_run(args)))
    return hooks
