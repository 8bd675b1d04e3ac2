"""Connection killer under intake load: what clients see while PostgreSQL drops the app's
connections, and whether any acknowledged ticket is lost.

    .venv/bin/pip install -e '.[bench]'      # aiohttp
    HOTLINE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_kill \\
        .venv/bin/hotline serve --port 8000 --workers 2 &
    .venv/bin/python bench/connection_kill.py --url http://127.0.0.1:8000 \\
        --db postgresql://postgres@127.0.0.1:5432/hotline_kill --seconds 20

N clients file tickets with an Idempotency-Key each, while a killer runs pg_terminate_backend
on every other connection to the database every --every seconds. Afterwards every key is
sent again: a key first answered 201 must come back as a replay of the same ticket (otherwise
the write was lost), and a key answered 503 must give exactly one ticket. Prints the counts of
201 / 503 / 500 / other and lost writes. Not part of the test suite.
"""

import argparse
import asyncio
import time
import uuid
from collections import Counter

import aiohttp
import asyncpg

BODY = {
    "channel": "phone",
    "caller": {"name": "Nguyễn Văn An", "phone": "0912 345 678"},
    "description": "Đèn đường hỏng trước số 10, tối om cả đoạn",
    "area": "Cầu Giấy",
    "topic": "cay-xanh-chieu-sang",
}


async def _kill(db: str, every: float, stop: asyncio.Event) -> int:
    conn = await asyncpg.connect(db)
    killed = 0
    try:
        while not stop.is_set():
            killed += await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            await asyncio.sleep(every)
    finally:
        await conn.close()
    return killed


async def _client(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str], until: float, out: list
) -> None:
    while time.monotonic() < until:
        key = uuid.uuid4().hex
        try:
            async with session.post(
                f"{url}/api/v1/tickets", json=BODY, headers={**headers, "Idempotency-Key": key}
            ) as r:
                body = await r.json(content_type=None)
                out.append((key, r.status, body.get("id") if r.status == 201 else None))
        except aiohttp.ClientError:
            out.append((key, "dropped", None))


async def _settle(
    session: aiohttp.ClientSession, url: str, headers: dict[str, str]
) -> tuple[int, bool] | None:
    """(ticket id, replayed) for a retried key once the server answers 201; None if it never
    does in five tries (a pooled connection killed earlier may fail the first one)."""
    for _ in range(5):
        try:
            async with session.post(f"{url}/api/v1/tickets", json=BODY, headers=headers) as r:
                body = await r.json(content_type=None)
                if r.status == 201:
                    return body["id"], r.headers.get("Idempotent-Replayed") == "true"
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--db", required=True, help="postgresql://... of the app's database")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--every", type=float, default=0.5, help="seconds between kills")
    args = parser.parse_args()

    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{args.url}/api/v1/auth/token",
            data={"username": "operator", "password": "operator1022"},
        ) as r:
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        stop = asyncio.Event()
        killer = asyncio.create_task(_kill(args.db, args.every, stop))
        results: list = []
        until = time.monotonic() + args.seconds
        await asyncio.gather(
            *(_client(session, args.url, headers, until, results) for _ in range(args.clients))
        )
        stop.set()
        killed = await killer
        await asyncio.sleep(1)

        lost = failed_retries = 0
        for key, status, ticket_id in results:
            again = await _settle(session, args.url, {**headers, "Idempotency-Key": key})
            if again is None:
                failed_retries += 1  # the database did not come back for this retry
            elif status == 201 and (not again[1] or again[0] != ticket_id):
                lost += 1  # acknowledged, yet the retry made a new ticket
    statuses = Counter(status for _, status, _ in results)
    print(
        f"{len(results)} requests in {args.seconds:.0f} s by {args.clients} clients, "
        f"{killed} connections killed: 201 × {statuses.get(201, 0)}, "
        f"503 × {statuses.get(503, 0)}, 500 × {statuses.get(500, 0)}, "
        f"other {dict((k, v) for k, v in statuses.items() if k not in (201, 503, 500))}; "
        f"lost writes {lost}; retries that never succeeded {failed_retries}"
    )


if __name__ == "__main__":
    asyncio.run(main())
