"""Replay speed: the most recent 100,000 tickets through a proposal, on PostgreSQL.

Data from bench/seed.py (tickets routed by the real rules, assignments planned by the real SLA
policies); then, each run in a fresh transaction, through `ReplayService` exactly as
`hotline rules replay` and `POST /api/v1/routing/replay` run it:

- **routing replay**: every ticket of the period streamed from the database and routed by the
  current and the proposed ruleset (drinking-water outages moved to the drainage company, a
  one-rule change), the matrix, rule counts and explained samples built;
- **read only**: the same stream with nothing done per ticket (what reading costs);
- **routing + SLA what-if**: the same, plus every assignment of the period re-planned under a
  proposed sla.yaml (ward committees acknowledge in 4h instead of 8h);
- **yardstick**: raw routing decisions per second of the shipped ruleset, on the streamed
  facts, in the same process (bench/routing.py measures the same on generated facts; run it
  beside for the figure in docs/routing.md).

    .venv/bin/python bench/seed.py --url postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_replay \\
        --assignments 160000 --months 6
    .venv/bin/python bench/replay.py --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from app.catalog.loader import load_catalog  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import make_engine, make_session_factory, transaction, utcnow  # noqa: E402
from app.replay import repository as repo  # noqa: E402
from app.replay.service import ReplayService  # noqa: E402
from app.reports.period import utc_bounds  # noqa: E402
from app.routing import load_ruleset  # noqa: E402
from app.sla import load_sla  # noqa: E402
from app.tickets.models import Ticket  # noqa: E402
from app.timefmt import LOCAL_TZ  # noqa: E402

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_replay"
RULES = ROOT / "routing_rules"
MOVED = (
    (RULES / "rules.yaml")
    .read_text(encoding="utf-8")
    .replace(
        "  - id: nuoc-sach-vo-ong\n",
        "  - id: mat-nuoc-thoat-nuoc\n    when: {topic: nuoc-sach.mat-nuoc}\n"
        "    assign: thoat-nuoc-ha-noi\n\n  - id: nuoc-sach-vo-ong\n",
        1,
    )
)
FOUR_HOURS = (
    (RULES / "sla.yaml")
    .read_text(encoding="utf-8")
    .replace(
        "  - id: ubnd\n    when: {unit_kind: ubnd}\n    acknowledge: 8h\n",
        "  - id: ubnd\n    when: {unit_kind: ubnd}\n    acknowledge: 4h\n",
    )
)


def _median(values: list[float]) -> str:
    runs = ", ".join(f"{v:.2f}" for v in values)
    return f"median {statistics.median(values):.2f} s  ({runs})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-sla", action="store_true", help="skip the SLA what-if runs")
    args = parser.parse_args()

    settings = Settings(env="test", database_url=args.url)
    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    ruleset = load_ruleset(settings.rules_dir, catalog, sla_policies=sla.policy_ids)
    engine = make_engine(args.url, pool_size=2)
    factory = make_session_factory(engine)
    now = utcnow()

    def service(session) -> ReplayService:  # type: ignore[no-untyped-def]
        return ReplayService(
            session=session,
            catalog=catalog,
            ruleset=ruleset,
            sla=sla,
            rules_dir=settings.rules_dir,
            now=now,
            timezone=settings.timezone,
        )

    try:
        async with transaction(factory) as session:
            # The period: from the local date of the N-th most recent ticket to today.
            oldest: datetime | None = await session.scalar(
                select(Ticket.received_at)
                .order_by(Ticket.received_at.desc())
                .offset(args.tickets - 1)
                .limit(1)
            )
            if oldest is None:
                sys.exit(f"fewer than {args.tickets} tickets: run bench/seed.py first")
            s = service(session)
            period = s.period(oldest.astimezone(LOCAL_TZ).date().isoformat(), None)
            moved = s.proposal({"rules.yaml": MOVED}, lambda name, _p: name)
            both = s.proposal({"rules.yaml": MOVED, "sla.yaml": FOUR_HOURS}, lambda n, _p: n)
        print(f"period {period[0]} .. {period[1]}")

        replay_times, read_times, sla_times = [], [], []
        report = None
        for _ in range(args.runs):
            async with transaction(factory) as session:
                t0 = time.perf_counter()
                report = await service(session).replay(moved, period, with_sla=False)
                replay_times.append(time.perf_counter() - t0)
            async with transaction(factory) as session:
                start, end = utc_bounds(*period, settings.timezone)
                t0 = time.perf_counter()
                read = 0
                async for chunk in repo.stream_ticket_facts(session, start=start, end=end):
                    read += len(chunk)
                read_times.append(time.perf_counter() - t0)
        assert report is not None
        r = report.routing
        print(
            f"routing replay of {r.tickets:,} tickets ({r.changed:,} change unit): "
            f"{_median(replay_times)}"
        )
        print(f"  reading the {read:,} tickets' facts alone: {_median(read_times)}")

        # Yardstick: raw decisions per second on the same facts, same process.
        async with transaction(factory) as session:
            start, end = utc_bounds(*period, settings.timezone)
            facts = []
            async for chunk in repo.stream_ticket_facts(session, start=start, end=end):
                facts += [f for _, f in chunk]
        rates = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            for f in facts:
                ruleset.route(f)
            rates.append(len(facts) / (time.perf_counter() - t0))
        print(
            f"yardstick: {statistics.median(rates):,.0f} routing decisions/s "
            f"(shipped ruleset, these {len(facts):,} facts, one ruleset)"
        )

        if not args.no_sla:
            for _ in range(args.runs):
                async with transaction(factory) as session:
                    t0 = time.perf_counter()
                    report = await service(session).replay(both, period, with_sla=True)
                    sla_times.append(time.perf_counter() - t0)
            assert report.sla is not None
            o = report.sla.overall
            print(
                f"routing + SLA what-if ({o.assignments:,} assignments re-planned, "
                f"{o.due_changes:,} due changes, "
                f"{o.acknowledge.breaches_appearing:,} acknowledge breaches appearing): "
                f"{_median(sla_times)}"
            )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
