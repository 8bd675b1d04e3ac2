"""SLA scan at scale: 1,000,000 assignments on PostgreSQL, most long closed, some open.

    .venv/bin/python bench/sla_scan.py --server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

Creates a scratch database, migrates it, seeds rows with generate_series (95% closed; of the
open ones some overdue), then times the scan: the first pass (with work to do) and passes with
nothing due, the steady state of every instance's periodic scan. Prints the plan of the claim
query to show the partial indexes at work. Drops the database at the end.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.catalog.loader import load_catalog
from app.config import REPO_ROOT, Settings
from app.db import make_engine, make_session_factory
from app.migrate import upgrade
from app.setup import sync_reference
from app.tickets.assignment_clock import claim_statement, run_scan

SEED = """
INSERT INTO ticket (id, channel, status, priority, description, search_text, received_at,
    created_at, updated_at, last_event_at, created_by, version, anonymous, confidential,
    attachments, tags, current_unit_code, area_code, topic_code)
SELECT g, 'phone', CASE WHEN g % 20 = 0 THEN 'assigned' ELSE 'closed' END, 'normal',
    'bench', 'bench', now() - make_interval(mins => g), now(), now(), now(), 'bench', 1,
    false, false, '[]', '[]', 'ubnd-phuong-cau-giay', 'phuong-cau-giay', 'moi-truong.rac-thai'
FROM generate_series(1, :n) AS g;

INSERT INTO assignment (ticket_id, unit_code, assigned_at, acknowledged_at, resolved_at,
    ended_at, outcome, sla_policy, acknowledge_due_at, resolve_due_at, acknowledge_warn_at,
    resolve_warn_at)
SELECT t.id, t.current_unit_code, t.received_at,
    CASE WHEN t.status = 'closed' THEN t.received_at + interval '1 hour' END,
    CASE WHEN t.status = 'closed' THEN t.received_at + interval '1 day' END,
    CASE WHEN t.status = 'closed' THEN t.received_at + interval '1 day' END,
    CASE WHEN t.status = 'closed' THEN 'resolved' END,
    'ubnd',
    -- open ones: one in ten already overdue, the rest due over the coming days
    CASE WHEN t.status = 'closed' OR t.id % 200 <> 0 THEN t.received_at + interval '8 hours'
         ELSE now() - interval '1 hour' END,
    t.received_at + interval '5 days',
    CASE WHEN t.status = 'closed' OR t.id % 200 <> 0 THEN t.received_at + interval '6 hours'
         ELSE now() - interval '2 hours' END,
    t.received_at + interval '4 days'
FROM ticket t;

SELECT setval(pg_get_serial_sequence('ticket', 'id'), :n);
ANALYZE ticket;
ANALYZE assignment;
"""


async def admin(server: str, sql: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--assignments", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    name = f"hotline_scan_{uuid.uuid4().hex[:8]}"
    await admin(args.server, f'CREATE DATABASE "{name}"')
    url = make_url(args.server).set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        await sync_reference(Settings(env="test", database_url=url))
        engine = make_engine(url)
        started = time.perf_counter()
        async with engine.begin() as conn:
            for statement in SEED.split(";"):
                if statement.strip():
                    await conn.execute(text(statement), {"n": args.assignments})
        print(f"seeded {args.assignments:,} assignments in {time.perf_counter() - started:.1f}s")
        factory = make_session_factory(engine)
        catalog = load_catalog(REPO_ROOT / "routing_rules")
        now = datetime.now(UTC)
        async with engine.connect() as conn:
            plan = await conn.execute(
                text(
                    "EXPLAIN "
                    + str(
                        claim_statement("acknowledge", "breach", now, 500, "postgresql").compile(
                            dialect=conn.dialect, compile_kwargs={"literal_binds": True}
                        )
                    )
                )
            )
            print("\n".join(row[0] for row in plan))
        started = time.perf_counter()
        first = await run_scan(factory, catalog=catalog, now=now)
        print(f"first scan: {first} in {(time.perf_counter() - started) * 1000:.0f} ms")
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = await run_scan(factory, catalog=catalog, now=datetime.now(UTC))
            timings.append((time.perf_counter() - started) * 1000)
            assert report.breaches == 0
        print(
            f"steady-state scan (nothing due): median {statistics.median(timings):.1f} ms "
            f"over {args.runs} runs ({', '.join(f'{t:.1f}' for t in timings)})"
        )
        await engine.dispose()
    finally:
        await admin(args.server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    asyncio.run(main())
