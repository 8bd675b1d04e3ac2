"""Console dashboard benchmark: server time of each panel, default view and year view.

    .venv/bin/python bench/seed.py --assignments 1000000          # once: the data
    .venv/bin/python bench/dashboard.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_reports [--runs 5]

Drives the real app in-process (ASGI, no network): signs in to the console as a supervisor
(a demo supervisor is created in the bench database if missing), then times GET
/console/dashboard and every GET /console/dashboard/panel/{name}: the report queries, the
shaping and the HTML. Median of --runs after one warm-up, per panel, for the default view
(the last 30 days) and the last 365 days. The browser loads the panels in parallel, so the
page is complete after about the slowest panel; the sum is the one-at-a-time bound.
Yardstick beside: the SLA report by unit for the same periods through ReportService alone.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from app.config import Settings
from app.db import make_session_factory, transaction
from app.main import create_app
from app.reports.parameters import ReportFilters
from app.reports.service import ReportService
from app.timefmt import LOCAL_TZ
from app.users.demo import ensure_demo_users
from app.users.principal import Principal

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_reports"
PANELS = ("ontime", "backlog", "volume", "matrix", "worst")


async def _timed(client: httpx.AsyncClient, url: str) -> float:
    started = time.perf_counter()
    response = await client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    settings = Settings(env="test", database_url=args.url, rules_poll_seconds=0, sla_scan_seconds=0)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with transaction(app.state.runtime.session_factory) as session:
            await ensure_demo_users(
                session, known_units=set(app.state.runtime.catalog.units), now=datetime.now(UTC)
            )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            form = (await client.get("/console/login")).text
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form).group(1)
            signed = await client.post(
                "/console/login",
                data={"username": "supervisor", "password": "supervisor1022", "csrf_token": token},
            )
            assert signed.status_code == 303, signed.text
            today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
            views = {
                "default (last 30 days)": (today - timedelta(days=29), today),
                "year (last 365 days)": (today - timedelta(days=364), today),
            }
            for name, (first, last) in views.items():
                query = f"from={first}&to={last}"
                print(
                    f"\n{name}: {first} .. {last}, median of {args.runs} runs after a warm-up; "
                    f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
                )
                medians = {}
                for page in (
                    "/console/dashboard",
                    *(f"/console/dashboard/panel/{p}" for p in PANELS),
                ):
                    timings = [
                        await _timed(client, f"{page}?{query}") for _ in range(args.runs + 1)
                    ]
                    medians[page] = statistics.median(timings[1:])
                    print(
                        f"  {page:40s} {medians[page] * 1000:7.0f} ms "
                        f"(min {min(timings[1:]) * 1000:.0f}, max {max(timings[1:]) * 1000:.0f})"
                    )
                panels = [v for k, v in medians.items() if "/panel/" in k]
                print(
                    f"  page shell + slowest panel: {(medians['/console/dashboard'] + max(panels)) * 1000:.0f} ms;"
                    f" all panels one at a time: {sum(panels) * 1000:.0f} ms"
                )
                # Yardstick: the SLA report by unit alone, same period.
                factory = make_session_factory(app.state.runtime.engine)
                timings = []
                for run in range(args.runs + 1):
                    async with factory() as session:
                        service = ReportService(
                            session=session,
                            catalog=app.state.runtime.catalog,
                            sla=app.state.runtime.sla,
                            now=datetime.now(UTC),
                            principal=Principal(username="bench", role="supervisor"),
                        )
                        scope = service.scope(first, last, ReportFilters())
                        started = time.perf_counter()
                        await service.sla_report(
                            (first, last), scope, service.grouping(["unit"], None, None)
                        )
                        if run:
                            timings.append(time.perf_counter() - started)
                print(
                    f"  yardstick: SLA report by unit alone {statistics.median(timings) * 1000:.0f} ms"
                    f"; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
                )


if __name__ == "__main__":
    asyncio.run(main())
