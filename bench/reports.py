"""SLA report benchmark: the report grouped by unit, for one month and one year, on PostgreSQL.

    .venv/bin/python bench/seed.py --assignments 1000000      # once: the data
    .venv/bin/python bench/reports.py [--runs 7] [--plan]

Times `ReportService.sla_report` (the grouped query and the totals query, plus naming the rows)
as a supervisor sees it: the median of --runs runs after one warm-up, for the last full month
and the last twelve full months before today. Then prints EXPLAIN (ANALYZE, BUFFERS) of each
grouped query: the indexes its plan uses, and with --plan the whole plan. Target: under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql

from app.catalog.loader import load_catalog
from app.config import Settings
from app.db import make_engine, make_session_factory
from app.reports import percentiles_pg
from app.reports import repository as repo
from app.reports.parameters import ReportFilters
from app.reports.service import ReportService
from app.sla import load_sla
from app.timefmt import LOCAL_TZ
from app.users.principal import Principal

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_reports"
INDEX_LINE = re.compile(
    r"(Index Only Scan|Index Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)"
)


def periods(today: date) -> dict[str, tuple[date, date]]:
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - timedelta(days=1)
    year_start = first_of_month.replace(year=first_of_month.year - 1)
    return {
        "month": (last_month_end.replace(day=1), last_month_end),
        "year": (year_start, last_month_end),
    }


async def explain(session, stmt) -> list[str]:  # type: ignore[no-untyped-def]
    """EXPLAIN (ANALYZE, BUFFERS) of a statement, run on the session's own connection."""
    connection = await session.connection()
    compiled = stmt.compile(
        dialect=postgresql.asyncpg.dialect(), compile_kwargs={"render_postcompile": True}
    )
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup]
    raw = (await connection.get_raw_connection()).driver_connection
    rows = await raw.fetch("EXPLAIN (ANALYZE, BUFFERS) " + str(compiled), *args)
    return [r[0] for r in rows]


async def _not_combined(*args: object) -> bool:
    return False


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--group-by", default="unit")
    parser.add_argument("--plan", action="store_true", help="print the whole query plans")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="also time the percentiles as separate statements per grouping (the SQLite "
        "path, as before app/reports/percentiles_pg.py), in alternation with the combined one",
    )
    args = parser.parse_args()
    settings = Settings(env="test", database_url=args.url)
    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    engine = make_engine(args.url, pool_size=2)
    factory = make_session_factory(engine)
    now = datetime.now(UTC)
    supervisor = Principal(username="bench", role="supervisor")
    async with factory() as session:
        count = (await session.execute(select(func.count()).select_from(repo.A))).scalar()
        print(f"{count:,} assignments in {engine.url.database}")
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        for name, (first, last) in periods(now.astimezone(LOCAL_TZ).date()).items():
            service = ReportService(
                session=session, catalog=catalog, sla=sla, now=now, principal=supervisor
            )
            grouping = service.grouping([args.group_by], None, None)
            scope = service.scope(first, last, ReportFilters())
            timings, separate = [], []
            for run in range(args.runs + 1):
                started = time.perf_counter()
                report = await service.sla_report((first, last), scope, grouping)
                if run:  # the first run warms the caches
                    timings.append(time.perf_counter() - started)
                if args.compare:
                    combined = percentiles_pg.fill_percentiles
                    percentiles_pg.fill_percentiles = _not_combined  # type: ignore[assignment]
                    try:
                        started = time.perf_counter()
                        before = await service.sla_report((first, last), scope, grouping)
                        if run:
                            separate.append(time.perf_counter() - started)
                    finally:
                        percentiles_pg.fill_percentiles = combined  # type: ignore[assignment]
                    assert before == report, "the two percentile paths disagree"
            if separate:
                print(
                    f"\n{name}: percentiles as separate statements: median "
                    f"{statistics.median(separate) * 1000:.0f} ms (same answer)"
                )
            totals = report.totals
            print(
                f"\n{name}: {first} .. {last}, group_by={args.group_by}: "
                f"{totals.assignments:,} assignments, {len(report.rows)} rows; "
                f"median {statistics.median(timings) * 1000:.0f} ms "
                f"(min {min(timings) * 1000:.0f}, max {max(timings) * 1000:.0f}, {args.runs} runs)"
            )
            print(
                f"  on time: acknowledge {totals.acknowledge_on_time_rate}, resolve "
                f"{totals.resolve_on_time_rate}; median minutes to acknowledge "
                f"{totals.acknowledge_median_minutes}, to resolve {totals.resolve_median_minutes}"
            )
            statements = [("counters", repo.counters_statement(scope, grouping, "postgresql"))]
            for target in repo.TARGETS:
                for label, stmt_grouping in (("by group", grouping), ("total", repo.Grouping())):
                    statements.append(
                        (
                            f"{target} percentiles {label}",
                            repo.percentiles_statement(scope, stmt_grouping, target, "postgresql"),
                        )
                    )
            for label, stmt in statements:
                # The report sets work_mem for its own transaction; EXPLAIN gets the same.
                await session.execute(text("SET LOCAL work_mem = '64MB'"))
                plan = await explain(session, stmt)
                indexes = sorted({m.group(2) for line in plan if (m := INDEX_LINE.search(line))})
                execution = next((line for line in plan if line.startswith("Execution Time")), "")
                print(
                    f"  {label:32} {execution.strip().removeprefix('Execution Time: '):>12}  "
                    f"indexes: {', '.join(indexes) or 'none (sequential scan)'}"
                )
                if args.plan:
                    print("\n".join("    " + line for line in plan))
            await session.rollback()
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
