"""Intake in-process: CPU and Python calls per request, without uvicorn or an HTTP client.

    HOTLINE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/DB \
      .venv/bin/python bench/profile_intake.py --requests 1000 --profile /tmp/intake.prof

Each request is one call of the ASGI app with a hand-made scope (bench/intake.py's bodies, as
aiohttp sends them), in sequence, as the demo operator (HOTLINE_ENV=development creates it),
after --warmup requests; the access log and the metrics run as in `hotline serve` (logging
configured, multiprocess metric files), the webhook relay is off (HOTLINE_WEBHOOK_RELAY_SECONDS
=0 unless set). Python calls per request is the measure that does not move with the machine's
load (docs/performance.md, "Intake since 2026-11-26"); --profile also writes cProfile's stats.
"""

import os
import tempfile

# Before the app is imported: metrics in multiprocess mode, as `hotline serve` runs them.
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="hotline-metrics-"))
os.environ.setdefault("HOTLINE_WEBHOOK_RELAY_SECONDS", "0")

import argparse
import asyncio
import cProfile
import json
import pstats
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from intake import body as ticket_body

from app.config import Settings
from app.logs import configure_logging
from app.main import create_app
from app.setup import sync_reference


async def call(app: Any, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """One POST through the ASGI app: (status, body)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()]
        + [(b"host", b"bench"), (b"content-length", str(len(body)).encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status, chunks = 0, []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client never disconnects
        return {}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def main(args: argparse.Namespace) -> None:
    settings = Settings()
    await sync_reference(settings)  # the demo users, in development (idempotent)
    configure_logging(settings)
    app = create_app(settings)
    rng = random.Random(7)
    async with app.router.lifespan_context(app):
        form = {"content-type": "application/x-www-form-urlencoded"}
        sign_in = f"username={args.username}&password={args.password}".encode()
        status, raw = await call(app, "/api/v1/auth/token", form, sign_in)
        assert status == 200, raw
        token = json.loads(raw)["access_token"]
        requests = [
            (
                {
                    "authorization": f"Bearer {token}",
                    "content-type": "application/json",
                    "idempotency-key": str(uuid.uuid4()),
                },
                # As aiohttp sends it (json.dumps: non-ASCII letters escaped).
                json.dumps(ticket_body(rng)).encode(),
            )
            for _ in range(args.warmup + args.requests)
        ]
        for headers, body in requests[: args.warmup]:
            status, raw = await call(app, "/api/v1/tickets", headers, body)
            assert status == 201, raw
        profiler = cProfile.Profile() if args.profile else None
        wall, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        for headers, body in requests[args.warmup :]:
            status, raw = await call(app, "/api/v1/tickets", headers, body)
            assert status == 201, raw
        if profiler:
            profiler.disable()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = args.requests
    print(f"intake: {wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU per request")
    if profiler:
        stats = pstats.Stats(profiler)
        calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
        print(f"Python calls per request: {calls / n:.0f}")
        stats.dump_stats(args.profile)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--username", default="operator")
    parser.add_argument("--password", default="operator1022")
    parser.add_argument("--profile", help="write cProfile's stats here (and count calls)")
    asyncio.run(main(parser.parse_args()))
