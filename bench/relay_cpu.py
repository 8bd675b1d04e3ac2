"""The relay's own CPU per message, in-process (run by hand, never by the tests).

Files --tickets tickets through the app (ASGI, relay off), with one subscription to every
type whose receiver runs in a child process (its CPU is not counted), then times with
`time.process_time` one `relay.run_once()` delivering their messages (or, with --split, the
fan-out of their outbox rows and the sending of the deliveries, apart); --runs rounds,
medians. --profile prints cProfile's top functions of
the last round. The database (HOTLINE_DATABASE_URL) is migrated and seeded here.

    HOTLINE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/x \
        .venv/bin/python bench/relay_cpu.py --tickets 400 --runs 5
"""

import argparse
import asyncio
import cProfile
import pstats
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

RECEIVER = """
import sys
from aiohttp import web
async def hook(request):
    await request.read()
    return web.Response(status=204)
app = web.Application()
app.router.add_post("/hook", hook)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""


async def main(args: argparse.Namespace) -> None:
    from intake import body

    from app.config import get_settings
    from app.db import transaction
    from app.main import create_app
    from app.outbox.models import WebhookEndpoint
    from app.outbox.signing import new_secret
    from app.setup import sync_reference

    settings = get_settings().model_copy(
        update={
            "webhook_relay_seconds": 0,
            "sla_scan_seconds": 0,
            "rules_poll_seconds": 0,
            "webhook_allowed_networks": "127.0.0.0/8",
        }
    )
    await sync_reference(settings)
    receiver = await asyncio.create_subprocess_exec(sys.executable, "-c", RECEIVER, str(args.port))
    await asyncio.sleep(1.5)
    app = create_app(settings)
    fan: list[float] = []
    send: list[float] = []
    intake: list[float] = []
    rng = random.Random(1)
    try:
        async with app.router.lifespan_context(app):
            runtime = app.state.runtime
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                r = await client.post(
                    "/api/v1/auth/token", data={"username": "operator", "password": "operator1022"}
                )
                client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
                relay = runtime.relay
                await relay.run_once()  # whatever an earlier run left
                now = datetime.now(UTC)
                async with transaction(runtime.session_factory) as session:
                    session.add(
                        WebhookEndpoint(
                            url=f"http://127.0.0.1:{args.port}/hook",
                            secret=new_secret(),
                            created_by="bench",
                            created_at=now,
                            updated_at=now,
                        )
                    )
                for run in range(args.runs + 1):  # the first warms up
                    started = time.process_time()
                    for _ in range(args.tickets):
                        r = await client.post(
                            "/api/v1/tickets",
                            json=body(rng),
                            headers={"Idempotency-Key": str(uuid.uuid4())},
                        )
                        assert r.status_code == 201, r.text
                    took = time.process_time() - started
                    last = args.profile and run == args.runs
                    profiles = [cProfile.Profile(time.process_time) for _ in range(2)]
                    messages = args.tickets * 2  # ticket.created and ticket.assigned
                    if last:
                        profiles[0].enable()
                    started = time.process_time()
                    if args.split:  # fan-out, then sending, timed apart
                        await relay.fan_out_all()
                        fan_cpu = time.process_time() - started
                        if last:
                            profiles[0].disable()
                            profiles[1].enable()
                        started = time.process_time()
                        while await relay.send_due():
                            pass
                        send_cpu = time.process_time() - started
                    else:  # what the relay's rounds do: run_once
                        await relay.run_once()
                        fan_cpu, send_cpu = time.process_time() - started, 0.0
                    if last:
                        profiles[0].disable()
                        profiles[1].disable()
                    if run == 0:
                        continue
                    intake.append(took * 1000 / args.tickets)
                    fan.append(fan_cpu * 1000 / messages)
                    send.append(send_cpu * 1000 / messages)
                    print(
                        f"run {run}: {messages} messages; relay CPU per message "
                        f"{fan[-1] + send[-1]:.3f} ms"
                        + (
                            f" (fan-out {fan[-1]:.3f} ms, send {send[-1]:.3f} ms)"
                            if args.split
                            else ""
                        )
                        + f"; intake (with the in-process client) {intake[-1]:.2f} ms/ticket",
                        flush=True,
                    )
                if args.profile:  # CPU time (process_time), fan-out then send
                    for profile in profiles:
                        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)
                        pstats.Stats(profile).sort_stats("tottime").print_stats(30)
                async with transaction(runtime.session_factory) as session:
                    from sqlalchemy import delete

                    from app.outbox.models import WebhookAttempt, WebhookDelivery

                    await session.execute(delete(WebhookAttempt))
                    await session.execute(delete(WebhookDelivery))
                    await session.execute(delete(WebhookEndpoint))
    finally:
        receiver.terminate()
        await receiver.wait()
    total = statistics.median(f + s for f, s in zip(fan, send, strict=True))
    split = (
        f" (fan-out {statistics.median(fan):.3f} ms, send {statistics.median(send):.3f} ms)"
        if args.split
        else ""
    )
    print(
        f"median of {args.runs}: relay CPU {total:.3f} ms/message{split}; "
        f"intake {statistics.median(intake):.2f} ms/ticket (with the in-process client)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=400)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=19250)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--split", action="store_true", help="fan_out_all, then send_due, timed apart"
    )
    from app.config import get_settings
    from app.migrate import upgrade

    upgrade(get_settings().database_url)
    asyncio.run(main(parser.parse_args()))
