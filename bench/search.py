"""Search benchmark: N concurrent clients running operators' ticket searches.

    .venv/bin/pip install -e '.[bench]'      # aiohttp
    .venv/bin/python bench/intake.py --url http://127.0.0.1:8022 --requests 10000   # data first
    .venv/bin/python bench/search.py --url http://127.0.0.1:8022 --clients 16 --requests 4000

A mix of what a switchboard asks while a caller is on the line: words of a description
(diacritics or not), a caller's phone in another format, a status and area, the most urgent
by SLA state, and plain newest-first pages. Prints searches/s and latency percentiles.
Not part of the test suite.
"""

import argparse
import asyncio
import random
import statistics
import time

import aiohttp

QUERIES = [
    {"q": "rac thai"},
    {"q": "mất nước"},
    {"q": "đèn đường"},
    {"caller_phone": "0912 345 678"},
    {"status": "assigned", "area": "Cầu Giấy"},
    {"sla_state": ["warning", "breached"], "sort": "due"},
    {"topic": "nuoc-sach"},
    {},
]


def params(query: dict) -> list[tuple[str, str]]:
    out = [("limit", "50")]
    for key, value in query.items():
        out.extend((key, v) for v in (value if isinstance(value, list) else [value]))
    return out


async def client_loop(
    session: aiohttp.ClientSession, count: int, seed: int, latencies: list[float], errors: list[int]
) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        start = time.perf_counter()
        async with session.get("/api/v1/tickets", params=params(rng.choice(QUERIES))) as response:
            await response.read()
        latencies.append(time.perf_counter() - start)
        if response.status != 200:
            errors.append(response.status)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--username", default="operator")
    parser.add_argument("--password", default="operator1022")
    args = parser.parse_args()
    async with (
        aiohttp.ClientSession(args.url) as s,
        s.post(
            "/api/v1/auth/token", data={"username": args.username, "password": args.password}
        ) as r,
    ):
        r.raise_for_status()
        token = (await r.json())["access_token"]
    connector = aiohttp.TCPConnector(limit=args.clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(args.url, connector=connector, headers=headers) as session:
        await asyncio.gather(*(client_loop(session, 20, i, [], []) for i in range(args.clients)))
        latencies: list[float] = []
        errors: list[int] = []
        started = time.perf_counter()
        per_client = args.requests // args.clients
        await asyncio.gather(
            *(
                client_loop(session, per_client, 100 + i, latencies, errors)
                for i in range(args.clients)
            )
        )
        elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    print(
        f"{len(latencies)} searches in {elapsed:.2f}s: {len(latencies) / elapsed:.0f}/s, "
        f"p50 {q[49] * 1000:.1f} ms, p95 {q[94] * 1000:.1f} ms, p99 {q[98] * 1000:.1f} ms, "
        f"errors {len(errors)}"
    )


if __name__ == "__main__":
    asyncio.run(main())
