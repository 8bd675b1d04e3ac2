"""Where the app's time goes in one search request: many in-process requests under cProfile.

    HOTLINE_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/search_bench_1m \
      .venv/bin/python bench/profile_search.py --path '/api/v1/tickets?limit=50' --requests 300

Requests go through the ASGI app in this process (httpx.ASGITransport: no sockets, no uvicorn),
as the demo supervisor (HOTLINE_ENV=development creates it), after --warmup requests. Prints the mean wall and CPU time per request
and cProfile's top functions by cumulative and by own time (`--sort`, `--top`). The database's
own time is inside the `await`s: compare with auto_explain (docs/performance.md).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from app.config import Settings
from app.main import create_app
from app.setup import sync_reference


async def main(args: argparse.Namespace) -> None:
    settings = Settings()
    await sync_reference(settings)  # the demo users, in development (idempotent)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            r = await client.post(
                "/api/v1/auth/token", data={"username": args.username, "password": args.password}
            )
            r.raise_for_status()
            client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
            for _ in range(args.warmup):
                (await client.get(args.path)).raise_for_status()
            profiler = cProfile.Profile() if args.top else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            for _ in range(args.requests):
                (await client.get(args.path)).raise_for_status()
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = args.requests
    print(f"{args.path}: {wall / n * 1000:.2f} ms wall, {cpu / n * 1000:.2f} ms CPU per request")
    if profiler:
        stats = pstats.Stats(profiler).strip_dirs()
        for key in args.sort.split(","):
            stats.sort_stats(key).print_stats(args.top)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--path", default="/api/v1/tickets?limit=50")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--username", default="supervisor")
    parser.add_argument("--password", default="supervisor1022")
    parser.add_argument("--sort", default="cumulative,tottime")
    parser.add_argument("--top", type=int, default=40, help="0: time only, no profile")
    asyncio.run(main(parser.parse_args()))
