"""Intake benchmark: N concurrent clients creating tickets against a running server.

    .venv/bin/pip install -e '.[bench]'      # aiohttp
    .venv/bin/python bench/intake.py --url http://127.0.0.1:8000 --clients 32 --requests 6000

The client is aiohttp on keep-alive connections: it spends about 0.3 ms of CPU per request.
httpx spent 2-5 ms, so on a small machine it measured itself rather than the server. On the
same machine as the server, `wrk` with bench/intake.lua costs less still.

Signs in as the demo operator (or sends --api-key, as a telephony integration would).

Each request is a realistic ticket (an area given by name, diacritics or not; a topic; a
Vietnamese phone number; an Idempotency-Key), so the figure covers validation, area lookup,
idempotency and the ticket, assignment and event rows. Prints throughput and latency
percentiles. Not part of the test suite.

On a shared machine tickets/s is noise; CPU per request is not. With --server-pid (the server's
parent process: `hotline serve`, or the bare reference's launcher) it prints the CPU its
workers spent per ticket of the measured run; with --pg-dsn (postgresql://…/the server's
database, on this machine) the CPU the database's backends spent per ticket too:

    .venv/bin/python bench/intake.py --url http://127.0.0.1:8000 --requests 6000 \
        --server-pid "$(pgrep -f 'hotline serve' -o)" --pg-dsn postgresql://postgres@127.0.0.1/db
"""

import argparse
import asyncio
import random
import statistics
import time
import uuid

import aiohttp
from cpu import backends_cpu, backends_delta, cpu_seconds

AREAS = [
    "Cầu Giấy",
    "cau giay",
    "P. Ba Đình",
    "phuong-hoan-kiem",
    "Xã Bát Tràng",
    "Trúc Bạch",
    "Hai Bà Trưng",
]
TOPICS = ["moi-truong.rac-thai", "nuoc-sach.mat-nuoc", "cay-xanh-chieu-sang", "giao-thong", None]
MOBILE_PREFIXES = ["090", "091", "093", "096", "097", "098", "086", "088", "070", "081"]
DESCRIPTIONS = [
    "Rác thải ùn ứ đầu ngõ nhiều ngày chưa được thu gom",
    "Mất nước từ sáng, cả khu tập thể không có nước sinh hoạt",
    "Đèn đường không sáng, đoạn đường tối rất nguy hiểm",
    "Ổ gà lớn giữa đường, xe máy dễ ngã",
]


PATH = "/api/v1/tickets"


def body(rng: random.Random) -> dict:
    return {
        "channel": rng.choice(["phone", "zalo", "web", "app"]),
        "caller": {
            "name": "Nguyễn Văn An",
            "phone": f"{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**7):07d}",
        },
        "description": rng.choice(DESCRIPTIONS),
        "area": rng.choice(AREAS),
        "topic": rng.choice(TOPICS),
        "address": f"Số {rng.randrange(1, 200)} ngõ {rng.randrange(1, 100)}",
    }


async def client_loop(
    session: aiohttp.ClientSession,
    count: int,
    seed: int,
    latencies: list[float],
    errors: list[int],
) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        start = time.perf_counter()
        async with session.post(
            PATH, json=body(rng), headers={"Idempotency-Key": str(uuid.uuid4())}
        ) as response:
            await response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 201:
            errors.append(response.status)


async def sign_in(url: str, username: str, password: str) -> str:
    async with (
        aiohttp.ClientSession(url) as session,
        session.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        ) as response,
    ):
        response.raise_for_status()
        return (await response.json())["access_token"]


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--username", default="operator")
    parser.add_argument("--password", default="operator1022")
    parser.add_argument("--api-key", help="X-API-Key to send instead of signing in")
    parser.add_argument(
        "--server-pid", type=int, help="the server's parent process: count its workers' CPU"
    )
    parser.add_argument(
        "--pg-dsn", help="postgresql:// URL of the server's database: count its backends' CPU"
    )
    parser.add_argument(
        "--suggest-duplicates", action="store_true", help="intake with ?suggest_duplicates=true"
    )
    args = parser.parse_args()
    global PATH
    if args.suggest_duplicates:
        PATH = "/api/v1/tickets?suggest_duplicates=true"
    if args.api_key:
        headers = {"X-API-Key": args.api_key}
    else:
        token = await sign_in(args.url, args.username, args.password)
        headers = {"Authorization": f"Bearer {token}"}
    connector = aiohttp.TCPConnector(limit=args.clients)
    async with aiohttp.ClientSession(args.url, connector=connector, headers=headers) as session:
        await asyncio.gather(
            *(
                client_loop(session, args.warmup // args.clients, i, [], [])
                for i in range(args.clients)
            )
        )
        latencies: list[float] = []
        errors: list[int] = []
        per_client = args.requests // args.clients
        backends_before = await backends_cpu(args.pg_dsn) if args.pg_dsn else {}
        cpu_before = cpu_seconds(args.server_pid)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                client_loop(session, per_client, 1000 + i, latencies, errors)
                for i in range(args.clients)
            )
        )
        elapsed = time.perf_counter() - started
        cpu_after = cpu_seconds(args.server_pid)
        backends_after = await backends_cpu(args.pg_dsn) if args.pg_dsn else {}
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{len(latencies)} tickets in {elapsed:.2f}s: {len(latencies) / elapsed:.0f} tickets/s, "
        f"p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
        f"errors {len(errors)}"
    )
    if args.server_pid:
        print(f"server CPU {(cpu_after - cpu_before) * 1000 / len(latencies):.3f} ms/ticket")
    if args.pg_dsn:
        spent, came, went = backends_delta(backends_before, backends_after)
        print(
            f"PostgreSQL backends CPU {spent * 1000 / len(latencies):.3f} ms/ticket "
            f"({len(backends_after)} backends, {came} came, {went} went during the run)"
        )


if __name__ == "__main__":
    asyncio.run(main())
