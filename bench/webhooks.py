"""Webhook benchmarks (run by hand, never by the tests).

intake: tickets/s against a running server with one webhook subscription active (its relay
fanning out and delivering to a receiver in this process) beside none, alternating runs, medians.

    .venv/bin/pip install -e '.[bench]'
    HOTLINE_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8 hotline serve &    # a PostgreSQL URL
    .venv/bin/python bench/webhooks.py intake --url http://127.0.0.1:8000 --runs 5

dead: tickets/s against a running server with a subscription whose receiver is dead (refuses
connections, or accepts and never answers) and a backlog of --backlog messages queued for it,
beside none, alternating runs, medians. The backlog is written straight into the server's
database (HOTLINE_DATABASE_URL, the server's), due at once.

    HOTLINE_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/webhooks.py dead \
        --url http://127.0.0.1:8000 --runs 3

drain: how fast a backlog of N deliveries drains to a receiver on 127.0.0.1, in-process
relay (fan-out not included: the backlog is queued deliveries), median of --runs.

    HOTLINE_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/webhooks.py drain
"""

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from cpu import cpu_seconds


class Counter:
    def __init__(self) -> None:
        self.count = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        self.count += 1
        return web.Response(status=204)


async def receiver() -> tuple[Counter, web.AppRunner, str]:
    counter = Counter()
    app = web.Application()
    app.router.add_post("/hook", counter.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return counter, runner, f"http://127.0.0.1:{port}/hook"


async def intake_run(args: argparse.Namespace, headers: dict[str, str]) -> float:
    from intake import client_loop

    connector = aiohttp.TCPConnector(limit=args.clients)
    async with aiohttp.ClientSession(args.url, connector=connector, headers=headers) as session:
        per_client = args.requests // args.clients
        latencies: list[float] = []
        errors: list[int] = []
        started = time.perf_counter()
        await asyncio.gather(
            *(client_loop(session, per_client, i, latencies, errors) for i in range(args.clients))
        )
        elapsed = time.perf_counter() - started
    assert not errors, errors[:5]
    return len(latencies) / elapsed


async def intake(args: argparse.Namespace) -> None:
    from intake import sign_in

    counter, runner, url = await receiver()
    operator = {"Authorization": f"Bearer {await sign_in(args.url, 'operator', 'operator1022')}"}
    admin = {"Authorization": f"Bearer {await sign_in(args.url, 'admin', 'admin1022')}"}
    results: dict[str, list[float]] = {"none": [], "one": []}
    cpu: dict[str, list[float]] = {"none": [], "one": []}
    async with aiohttp.ClientSession(args.url, headers=admin) as http:
        await intake_run(args, operator)  # warm-up
        for _ in range(args.runs):
            for mode in ("none", "one"):
                hook_id = None
                if mode == "one":
                    async with http.post("/api/v1/webhooks", json={"url": url}) as r:
                        assert r.status == 201, await r.text()
                        hook_id = (await r.json())["id"]
                counter.count = 0
                cpu_before = cpu_seconds(args.server_pid)
                results[mode].append(await intake_run(args, operator))
                during, caught_up = counter.count, 0.0
                cpu_after = cpu_seconds(args.server_pid)
                if hook_id is not None:
                    # The relay finishes before the next run, so it takes nothing from a run
                    # without a subscription: wait until the receiver has had `settle` quiet
                    # seconds. The server's CPU is counted until the last message came.
                    started, last, last_change = time.perf_counter(), -1, time.perf_counter()
                    while time.perf_counter() - last_change < args.settle:
                        if counter.count != last:
                            last, last_change = counter.count, time.perf_counter()
                            cpu_after = cpu_seconds(args.server_pid)
                        await asyncio.sleep(0.2)
                    caught_up = last_change - started
                else:
                    await asyncio.sleep(2)  # the relay marks the rows fanned out (no body)
                    cpu_after = cpu_seconds(args.server_pid)
                tickets = args.requests // args.clients * args.clients
                per_ticket = (cpu_after - cpu_before) * 1000 / tickets
                cpu[mode].append(per_ticket)
                if hook_id is not None:
                    async with http.delete(f"/api/v1/webhooks/{hook_id}") as r:
                        assert r.status == 204, (r.status, await r.text())
                extra = (
                    f"; receiver got {during} messages during the run, {counter.count - during}"
                    f" after it (caught up {caught_up:.0f} s after the run)"
                    if hook_id is not None
                    else ""
                )
                if args.server_pid:
                    extra += f"; server CPU {per_ticket:.2f} ms/ticket"
                print(f"{mode}: {results[mode][-1]:.0f} tickets/s{extra}", flush=True)
    await runner.cleanup()
    none, one = (statistics.median(results[m]) for m in ("none", "one"))
    print(
        f"median of {args.runs}: no subscription {none:.0f} tickets/s, one subscription "
        f"{one:.0f} tickets/s ({(none - one) / none * 100:+.1f}% cost)"
    )
    if args.server_pid:
        none, one = (statistics.median(cpu[m]) for m in ("none", "one"))
        print(
            f"server CPU per ticket, median of {args.runs}: no subscription {none:.2f} ms, one "
            f"subscription {one:.2f} ms (+{(one - none) / none * 100:.1f}%)"
        )


async def dead_receiver(kind: str) -> tuple[str, asyncio.AbstractServer | None]:
    """A URL nobody answers: a port just closed (connection refused), or a server that
    accepts and never answers (each attempt runs into the relay's timeout)."""
    import socket

    if kind == "refuse":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        return f"http://127.0.0.1:{port}/hook", None
    held: list[asyncio.StreamWriter] = []

    async def never(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # keep the connection open, say nothing

    server = await asyncio.start_server(never, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}/hook", server


async def dead(args: argparse.Namespace) -> None:
    from intake import sign_in
    from sqlalchemy import func, insert, select

    from app.config import get_settings
    from app.db import make_engine, make_session_factory, transaction
    from app.outbox.models import WebhookAttempt, WebhookDelivery

    engine = make_engine(get_settings().database_url, pool_size=2)
    factory = make_session_factory(engine)
    url, server = await dead_receiver(args.receiver)
    operator = {"Authorization": f"Bearer {await sign_in(args.url, 'operator', 'operator1022')}"}
    admin = {"Authorization": f"Bearer {await sign_in(args.url, 'admin', 'admin1022')}"}
    body = '{"type":"ticket.assigned","timestamp":"2026-11-29T10:00:00+07:00","data":' + (
        '{"ticket":{"reference":"HN-2026-000001","description":"' + "x" * 2500 + '"}}}'
    )
    results: dict[str, list[float]] = {"none": [], "dead": []}
    cpu: dict[str, list[float]] = {"none": [], "dead": []}
    async with aiohttp.ClientSession(args.url, headers=admin) as http:
        await intake_run(args, operator)  # warm-up
        for run in range(args.runs):
            for mode in ("none", "dead"):
                hook_id = None
                if mode == "dead":
                    async with http.post("/api/v1/webhooks", json={"url": url}) as r:
                        assert r.status == 201, await r.text()
                        hook_id = (await r.json())["id"]
                    now = datetime.now(UTC)
                    async with transaction(factory) as session:
                        await session.execute(
                            insert(WebhookDelivery),
                            [
                                {
                                    "endpoint_id": hook_id,
                                    "message_id": f"msg_dead_{run}_{i}",
                                    "type": "ticket.assigned",
                                    "body": body,
                                    "created_at": now,
                                    "next_attempt_at": now,
                                    "attempts": 0,
                                }
                                for i in range(args.backlog)
                            ],
                        )
                    await asyncio.sleep(args.settle)  # the relay meets the backlog first
                cpu_before = cpu_seconds(args.server_pid)
                results[mode].append(await intake_run(args, operator))
                tickets = args.requests // args.clients * args.clients
                cpu[mode].append((cpu_seconds(args.server_pid) - cpu_before) * 1000 / tickets)
                extra = f"; server CPU {cpu[mode][-1]:.2f} ms/ticket" if args.server_pid else ""
                if hook_id is not None:
                    async with transaction(factory) as session:
                        attempts = await session.scalar(
                            select(func.count())
                            .select_from(WebhookAttempt)
                            .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
                            .where(WebhookDelivery.endpoint_id == hook_id)
                        )
                    extra += f"; {attempts} attempts at the dead receiver by then"
                    async with http.delete(f"/api/v1/webhooks/{hook_id}") as r:
                        assert r.status == 204, (r.status, await r.text())
                print(f"{mode}: {results[mode][-1]:.0f} tickets/s{extra}", flush=True)
    if server is not None:
        server.close()
    await engine.dispose()
    none, bad = (statistics.median(results[m]) for m in ("none", "dead"))
    print(
        f"median of {args.runs}: no subscription {none:.0f} tickets/s, a dead receiver "
        f"({args.receiver}) with {args.backlog} queued {bad:.0f} tickets/s "
        f"({(none - bad) / none * 100:+.1f}% cost)"
    )
    if args.server_pid:
        none, bad = (statistics.median(cpu[m]) for m in ("none", "dead"))
        print(
            f"server CPU per ticket during the runs, median of {args.runs}: no subscription "
            f"{none:.2f} ms, a dead receiver {bad:.2f} ms (+{(bad - none) / none * 100:.1f}%)"
        )


async def drain(args: argparse.Namespace) -> None:
    from sqlalchemy import delete, insert

    from app.config import get_settings
    from app.db import make_engine, make_session_factory, transaction
    from app.outbox import backlog
    from app.outbox.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
    from app.outbox.relay import Relay
    from app.outbox.signing import new_secret

    settings = get_settings().model_copy(update={"webhook_allowed_networks": "127.0.0.0/8"})
    engine = make_engine(settings.database_url, pool_size=4)
    factory = make_session_factory(engine)
    counter, runner, url = await receiver()
    body = '{"type":"ticket.assigned","timestamp":"2026-11-29T10:00:00+07:00","data":' + (
        '{"ticket":{"reference":"HN-2026-000001","description":"' + "x" * 2500 + '"}}}'
    )
    rates = []
    for _ in range(args.runs):
        now = datetime.now(UTC)
        async with transaction(factory) as session:
            endpoint = WebhookEndpoint(
                url=url, secret=new_secret(), created_by="bench", created_at=now, updated_at=now
            )
            session.add(endpoint)
            await session.flush()
            rows = [
                {
                    "endpoint_id": endpoint.id,
                    "message_id": f"msg_bench_{i}",
                    "type": "ticket.assigned",
                    "body": body,
                    "created_at": now,
                    "next_attempt_at": now,
                    "attempts": 0,
                }
                for i in range(args.messages)
            ]
            await session.execute(insert(WebhookDelivery), rows)
            endpoint_id = endpoint.id
        # What the leader's outbox gauges cost with this backlog waiting (app.outbox.backlog).
        async with transaction(factory) as session:
            measured = time.perf_counter()
            found = await backlog.measure(session, now=datetime.now(UTC))
            measured = time.perf_counter() - measured
        print(f"backlog gauges: {found.pending} counted in {measured * 1000:.1f} ms", flush=True)
        relay = Relay(factory, settings, lambda *_: None, batch=args.batch)
        counter.count = 0
        started = time.perf_counter()
        await relay.run_once()
        elapsed = time.perf_counter() - started
        await relay.close()
        assert counter.count == args.messages, counter.count
        rates.append(args.messages / elapsed)
        print(f"{args.messages} messages in {elapsed:.2f}s: {rates[-1]:.0f}/s", flush=True)
        async with transaction(factory) as session:
            ids = (
                WebhookDelivery.__table__.select()
                .with_only_columns(WebhookDelivery.id)
                .where(WebhookDelivery.endpoint_id == endpoint_id)
            )
            await session.execute(delete(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(ids)))
            await session.execute(
                delete(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
            )
            await session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id))
    await runner.cleanup()
    await engine.dispose()
    print(f"median of {args.runs}: {statistics.median(rates):.0f} messages/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="what", required=True)
    i = sub.add_parser("intake")
    i.add_argument("--url", default="http://127.0.0.1:8000")
    i.add_argument("--clients", type=int, default=16)
    i.add_argument("--requests", type=int, default=2000)
    i.add_argument("--runs", type=int, default=5)
    i.add_argument("--settle", type=float, default=20.0)
    i.add_argument(
        "--server-pid", type=int, help="the server's parent process: count its workers' CPU"
    )
    x = sub.add_parser("dead")
    x.add_argument("--url", default="http://127.0.0.1:8000")
    x.add_argument("--clients", type=int, default=16)
    x.add_argument("--requests", type=int, default=2000)
    x.add_argument("--runs", type=int, default=3)
    x.add_argument("--backlog", type=int, default=30_000)
    x.add_argument("--receiver", choices=("refuse", "silent"), default="refuse")
    x.add_argument("--settle", type=float, default=5.0)
    x.add_argument(
        "--server-pid", type=int, help="the server's parent process: count its workers' CPU"
    )
    d = sub.add_parser("drain")
    d.add_argument("--messages", type=int, default=10_000)
    d.add_argument("--batch", type=int, default=200)
    d.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run({"intake": intake, "dead": dead, "drain": drain}[args.what](args))


if __name__ == "__main__":
    main()
