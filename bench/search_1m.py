"""Search at a million tickets: load realistic tickets with COPY, then time searches over HTTP.

    .venv/bin/python bench/search_1m.py load --tickets 250000   # routed and timed, ~8 min
    .venv/bin/python bench/search_1m.py clone --copies 3        # x4 in SQL: 1,000,000
    .venv/bin/hotline serve ...  (HOTLINE_DATABASE_URL pointing at the bench database)
    .venv/bin/python bench/search_1m.py run --url http://127.0.0.1:8000 --repeat 40

(Named search_1m.py so that it sits beside bench/search.py, the small searches/s probe.)

What `load` adds to bench/seed.py's SLA history (its routing, clocks and outcomes are reused):
- descriptions: the topic's name, one of several Vietnamese phrasings of the problem, the
  ward's name, now and then a detail (a rare word such as "karaoke" in about 1 ticket in 20,000);
- repeat callers: 45% of calls come from a pool of 60,000 numbers, a few of them very often;
  the rest from numbers seen once; 8% anonymous, 4% confidential;
- coordinates for 40% of tickets (web, app, Zalo locations), inside Hanoi;
- the real history: created, assigned, acknowledged, the outcome of each assignment
  (resolved, rejected, transferred...), reopened, closed.
- search_text built by the app's own function (app.search.text.ticket_search_text).
`run` signs in as the demo supervisor and times each search `--repeat` times (after a warm-up)
and prints p50/p95 in ms and the load average (`--json FILE` keeps them). The plans the running
app uses are captured with auto_explain (docs/performance.md, "Search at a million tickets").
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine

from app.catalog.loader import load_catalog
from app.config import Settings
from app.db import make_session_factory, transaction
from app.migrate import upgrade
from app.routing import load_ruleset
from app.search import lexemes
from app.search.text import ticket_search_text
from app.setup import sync_reference
from app.sla import load_sla
from app.tickets.models import Assignment, AssignmentPause, Ticket
from bench.seed import GIVEN, MIDDLE, SURNAMES, Seeder, _columns, _ensure_database, _records

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/hotline_bench_search"
PHRASES = [
    "kéo dài nhiều ngày chưa được xử lý",
    "người dân phản ánh nhiều lần",
    "ảnh hưởng sinh hoạt của các hộ dân",
    "đề nghị cơ quan chức năng kiểm tra",
    "tình trạng này diễn ra vào buổi tối",
    "gây mất an toàn cho người đi đường",
    "đầu ngõ gần chợ",
    "khu tập thể phía sau trường học",
    "",
]
DETAILS = ["", "", "", "cạnh trạm biến áp", "sau mưa lớn", "gần cổng bệnh viện", "ven sông"]
RARE = ["karaoke", "xe cẩu", "bãi đỗ trái phép", "hố ga bốc mùi", "cột điện nghiêng"]
REPEAT_POOL = 60_000


class SearchSeeder(Seeder):
    """seed.py's SLA history with what search needs: words, repeat callers, coordinates."""

    def __post_init__(self) -> None:
        super().__post_init__()
        rng = self.rng
        self.pool = [f"+849{rng.randrange(10**8):08d}" for _ in range(REPEAT_POOL)]
        self.pool_names = [
            f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}" for _ in self.pool
        ]

    def ticket(self, received: datetime, day: Any) -> Any:
        ticket, assignments, pauses = super().ticket(received, day)
        rng = self.rng
        topic = self.catalog.topics.get(ticket["topic_code"])
        area = self.catalog.areas.get(ticket["area_code"])
        parts = [topic.name if topic else "Phản ánh", rng.choice(PHRASES)]
        if area is not None:
            parts.append(f"tại {area.name}")
        parts.append(rng.choice(DETAILS))
        if rng.random() < 0.00005 * len(RARE):
            parts.append(rng.choice(RARE))
        ticket["description"] = " ".join(p for p in parts if p)
        if not ticket["anonymous"] and rng.random() < 0.45:
            # Zipf-like: a few numbers call very often, most of the pool a few times.
            i = min(int(rng.paretovariate(1.1)) - 1, REPEAT_POOL - 1)
            i = i if rng.random() < 0.3 else rng.randrange(REPEAT_POOL)
            ticket["caller_phone"], ticket["caller_name"] = self.pool[i], self.pool_names[i]
        if rng.random() < 0.4:
            ticket["latitude"] = 21.0285 + rng.uniform(-0.12, 0.12)
            ticket["longitude"] = 105.8542 + rng.uniform(-0.15, 0.15)
        ticket["search_text"] = ticket_search_text(_Row(ticket))
        return ticket, assignments, pauses


class _Row:
    def __init__(self, values: dict[str, Any]):
        self.__dict__.update(values)


OUTCOME_EVENTS = {
    "resolved": "resolved",
    "rejected": "rejected",
    "transferred": "transferred",
    "cancelled": "cancelled",
    "duplicate": "marked_duplicate",
}


def events_of(ticket: dict[str, Any], rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """A plausible history: what the service writes for the same lifecycle."""

    def event(assignment: Any, kind: str, at: datetime, details: dict[str, Any]) -> tuple:
        return (ticket["id"], assignment, kind, at, at, "seed", json.dumps(details))

    out = [event(None, "created", ticket["received_at"], {"channel": ticket["channel"]})]
    for a in rows:
        out.append(event(a["id"], "assigned", a["assigned_at"], {"unit": a["unit_code"]}))
        if a["acknowledged_at"]:
            out.append(event(a["id"], "acknowledged", a["acknowledged_at"], {}))
        if a["outcome"] in OUTCOME_EVENTS and a["ended_at"]:
            out.append(event(a["id"], OUTCOME_EVENTS[a["outcome"]], a["ended_at"], {}))
    for a, b in itertools.pairwise(rows):
        if a["outcome"] == "resolved":
            out.append(event(a["id"], "reopened", b["assigned_at"], {}))
    if ticket["status"] == "closed" and rows and rows[-1]["ended_at"]:
        out.append(event(rows[-1]["id"], "closed", rows[-1]["ended_at"], {}))
    return out


EVENT_COLUMNS = ["ticket_id", "assignment_id", "kind", "occurred_at", "recorded_at", "actor"]


async def load(args: argparse.Namespace, dsn: str) -> None:
    settings = Settings(env="test", database_url=args.url)
    await sync_reference(settings)
    catalog = load_catalog(settings.rules_dir)
    sla = load_sla(settings.rules_dir, catalog)
    ruleset = load_ruleset(settings.rules_dir, catalog, sla_policies=sla.policy_ids)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    start = (now - timedelta(days=round(args.months * 30.44))).replace(minute=0)
    t0 = time.perf_counter()
    seeder = SearchSeeder(catalog, sla, ruleset, start, now, random.Random(args.seed))
    conn = await asyncpg.connect(dsn)
    cols = {m: _columns(m) for m in (Ticket, Assignment, AssignmentPause)}
    try:
        await conn.execute(
            "TRUNCATE co_handler, ticket_event, assignment_pause, idempotency_key, assignment, "
            "ticket RESTART IDENTITY CASCADE"
        )
        # About 1.4 assignments per ticket; calls() stops at the assignment count asked for
        # (1.3 left a 250,000 load at 231,391 tickets).
        calls = seeder.calls(int(args.tickets * 1.6))
        done = 0
        while done < args.tickets:
            tickets, assignments, pauses, events = [], [], [], []
            for received, day in calls:
                ticket, rows, stops = seeder.ticket(received, day)
                tickets.append(ticket)
                assignments += rows
                pauses += stops
                events += events_of(ticket, rows)
                if len(tickets) >= args.chunk or done + len(tickets) >= args.tickets:
                    break
            if not tickets:
                break
            for model, table, rows_ in (
                (Ticket, "ticket", tickets),
                (Assignment, "assignment", assignments),
                (AssignmentPause, "assignment_pause", pauses),
            ):
                if rows_:
                    await conn.copy_records_to_table(
                        table,
                        records=_records(model, rows_),
                        columns=cols[model],
                    )
            await conn.copy_records_to_table(
                "ticket_event", records=events, columns=[*EVENT_COLUMNS, "details"]
            )
            done += len(tickets)
            print(f"  {done:>9,} tickets ({done / (time.perf_counter() - t0):,.0f}/s)", flush=True)
        for table in ("ticket", "assignment", "assignment_pause", "ticket_event"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
        print("VACUUM ANALYZE ...", flush=True)
        for table in ("ticket", "assignment", "assignment_pause", "ticket_event"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        print(f"done in {time.perf_counter() - t0:.0f}s", flush=True)
    finally:
        await conn.close()


async def pick_examples(dsn: str) -> dict[str, Any]:
    """Real values from the loaded data that each search finds something with: a repeat caller,
    a recent ticket, the (status, area) pair with the most open tickets, and tickets near the
    end of the data in many areas (their similar tickets are there: the data may end weeks
    before today, and `POST /tickets/similar` looks back from now, so the bench asks
    `GET /tickets/{id}/similar`, which looks back from the ticket's own time)."""
    conn = await asyncpg.connect(dsn)
    try:
        phone = await conn.fetchval(
            "SELECT caller_phone FROM ticket WHERE caller_phone IS NOT NULL AND NOT confidential "
            "GROUP BY caller_phone ORDER BY count(*) DESC OFFSET 50 LIMIT 1"
        )
        # A recent ticket that has its history (copies made by `clone` have none).
        recent = await conn.fetchrow(
            "SELECT id, area_code, topic_code, received_at FROM ticket t WHERE EXISTS "
            "(SELECT 1 FROM ticket_event e WHERE e.ticket_id = t.id) ORDER BY id DESC LIMIT 1"
        )
        status_area = await conn.fetchrow(
            "SELECT status, area_code FROM ticket WHERE area_code IS NOT NULL AND status IN "
            "('new', 'assigned', 'acknowledged', 'in_progress', 'waiting_citizen') "
            "GROUP BY status, area_code ORDER BY count(*) DESC LIMIT 1"
        )
        # The newest ticket of each area with tickets in the data's last 30 days.
        similar_ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT DISTINCT ON (area_code) id FROM ticket WHERE received_at > $1 "
                "AND area_code IS NOT NULL AND status NOT IN ('duplicate', 'cancelled') "
                "ORDER BY area_code, received_at DESC LIMIT 200",
                recent["received_at"] - timedelta(days=30),
            )
        ]
    finally:
        await conn.close()
    return {
        "phone": phone,
        "status": status_area["status"],
        "status_area": status_area["area_code"],
        "similar_ids": similar_ids,
        **dict(recent),
    }


def searches(ex: dict[str, Any]) -> dict[str, tuple[str, str, Any]]:
    """name -> (method, path, JSON body); path or body may be a function of the repetition."""
    tid, year = ex["id"], ex["received_at"].year
    national = "0" + ex["phone"][3:]
    return {
        "healthz (yardstick)": ("GET", "/healthz", None),
        "newest first": ("GET", "/api/v1/tickets?limit=50", None),
        "every ticket's word (số, 99%)": ("GET", "/api/v1/tickets?q=s%E1%BB%91", None),
        "common word (rác, 2.6%)": ("GET", "/api/v1/tickets?q=r%C3%A1c", None),
        "1% word (karaoke, 1.2%)": ("GET", "/api/v1/tickets?q=karaoke", None),
        "0.2% word (miếu)": ("GET", "/api/v1/tickets?q=mi%E1%BA%BFu", None),
        "rare word (bốc, 0.004%)": ("GET", "/api/v1/tickets?q=b%E1%BB%91c", None),
        "word matching nothing": ("GET", "/api/v1/tickets?q=zyxwvu", None),
        "two words reversed (thải rác)": ("GET", "/api/v1/tickets?q=th%E1%BA%A3i+r%C3%A1c", None),
        "two words seldom together (karaoke nước)": (
            "GET",
            "/api/v1/tickets?q=karaoke+n%C6%B0%E1%BB%9Bc",
            None,
        ),
        "partial reference": ("GET", f"/api/v1/tickets?q={year}-{tid:06d}", None),
        "caller phone": ("GET", f"/api/v1/tickets?caller_phone={national}", None),
        "status + area": (
            "GET",
            f"/api/v1/tickets?status={ex['status']}&area={ex['status_area']}",
            None,
        ),
        "sla_state + sort=due": ("GET", "/api/v1/tickets?sla_state=breached&sort=due", None),
        "q + sort=relevance": ("GET", "/api/v1/tickets?q=mat+nuoc&sort=relevance", None),
        "single ticket": ("GET", f"/api/v1/tickets/{tid}", None),
        "its events": ("GET", f"/api/v1/tickets/{tid}/events", None),
        "caller lookup": ("POST", "/api/v1/callers/lookup", {"phone": national}),
        "tickets/{id}/similar (same ticket)": (
            "GET",
            f"/api/v1/tickets/{ex['similar_ids'][0]}/similar",
            None,
        ),
        "tickets/{id}/similar (another area each time)": (
            "GET",
            lambda i: f"/api/v1/tickets/{ex['similar_ids'][i % len(ex['similar_ids'])]}/similar",
            None,
        ),
    }


async def run(args: argparse.Namespace, dsn: str) -> None:
    import aiohttp

    ex = await pick_examples(dsn)
    async with aiohttp.ClientSession(args.url) as s:
        async with s.post(
            "/api/v1/auth/token", data={"username": args.username, "password": args.password}
        ) as r:
            r.raise_for_status()
            token = (await r.json())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        print(f"load average at start: {os.getloadavg()}")
        print(f"newest ticket of the data: {ex['received_at']:%Y-%m-%d %H:%M} UTC")
        print("| search | p50 ms | p95 ms | status | results |\n|---|---:|---:|---:|---:|")
        results: dict[str, Any] = {"load_start": os.getloadavg()}
        for name, (method, path, body) in searches(ex).items():
            if args.only and args.only not in name:
                continue
            times, status, count = [], 0, 0
            for i in range(args.warmup + args.repeat):
                t = time.perf_counter()
                payload_in = body(i) if callable(body) else body
                url = path(i) if callable(path) else path
                async with s.request(method, url, json=payload_in, headers=headers) as r:
                    payload = await r.read()
                    status = r.status
                if i >= args.warmup:
                    times.append((time.perf_counter() - t) * 1000)
            if status == 200:
                data = json.loads(payload)
                items = data.get("items", data.get("tickets", data.get("candidates")))
                count = len(items) if isinstance(items, list) else 1
            times.sort()
            p95 = times[max(0, int(len(times) * 0.95) - 1)]
            print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} | {status} | {count} |")
            results[name] = {"p50": statistics.median(times), "p95": p95, "n": count}
        results["load_end"] = os.getloadavg()
        print(f"load average at end: {results['load_end']}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))  # noqa: ASYNC240 (after timing)


async def rebuild_lexemes(url: str) -> None:
    """The search words of the tickets written by COPY (intake and the periodic refresh
    would have kept them: app.search.lexemes)."""
    t0 = time.perf_counter()
    engine = create_async_engine(url)
    try:
        async with transaction(make_session_factory(engine)) as session:
            words = await lexemes.rebuild(session)
    finally:
        await engine.dispose()
    print(f"search words: {words:,} in {time.perf_counter() - t0:.0f}s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["load", "clone", "run"])
    parser.add_argument("--db", default=DEFAULT_URL, dest="db_url")
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--months", type=float, default=24)
    parser.add_argument("--chunk", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=1022)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="supervisor")
    parser.add_argument("--password", default="supervisor1022")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=8)
    parser.add_argument("--only", default="")
    parser.add_argument("--json", default="", help="also write the figures to this file")
    parser.add_argument("--copies", type=int, default=3)
    parser.add_argument("--upto", type=int, default=None, help="clone: only tickets id <= this")
    parser.add_argument("--phase", type=int, default=0, help="clone: copies made before")
    args = parser.parse_args()
    args.url_db = args.db_url
    dsn = asyncio.run(_ensure_database(args.db_url))
    if args.command == "load":
        args.url = args.db_url
        upgrade(args.db_url)
        asyncio.run(load(args, dsn))
        asyncio.run(rebuild_lexemes(args.db_url))
    elif args.command == "clone":
        asyncio.run(clone(dsn, args.copies, args.upto, args.phase))
        asyncio.run(rebuild_lexemes(args.db_url))
    else:
        asyncio.run(run(args, dsn))


async def clone(dsn: str, copies: int, upto: int | None = None, phase: int = 0) -> None:
    """Multiply the loaded tickets (with their assignments, pauses and events) `copies` times.

    With `upto`: copy only the tickets with id <= upto (the oldest, all closed), without their
    assignments and events, to top a table up to a round size; `phase` then numbers the copy
    after the earlier ones (numbers and times differ from theirs).

    The seeder routes and times every ticket (about 600 tickets/s here); copies are made in SQL.
    Copy k is shifted k*7 minutes earlier and its callers' numbers are changed (repeat callers
    stay repeat callers), so copies are new tickets of the same kinds, not duplicates.
    """
    conn = await asyncpg.connect(dsn)
    try:
        offsets = {
            t: await conn.fetchval(f"SELECT max(id) FROM {t}")
            for t in ("ticket", "assignment", "assignment_pause", "ticket_event")
        }
        refs = {"ticket_id": "ticket", "duplicate_of_id": "ticket", "assignment_id": "assignment"}
        tables = (
            ("ticket",) if upto else ("ticket", "assignment", "assignment_pause", "ticket_event")
        )
        for table in tables:
            columns = await conn.fetch(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position",
                table,
            )
            for n in range(1, copies + 1):
                k = phase + n
                exprs = []
                for c in columns:
                    name, kind = c["column_name"], c["data_type"]
                    if name == "id":
                        exprs.append(f"id + {n * offsets[table]}")
                    elif name in refs:
                        exprs.append(f"{name} + {n * offsets[refs[name]]}")
                    elif kind.startswith("timestamp"):
                        exprs.append(f"{name} - interval '{7 * k} minutes'")
                    elif table == "ticket" and name == "caller_phone":
                        exprs.append(f"{_NEW_PHONE.format(k=k)}")
                    elif table == "ticket" and name == "search_text":
                        new = _NEW_PHONE.format(k=k)
                        exprs.append(
                            "CASE WHEN caller_phone IS NULL THEN search_text ELSE "
                            f"replace(replace(search_text, substr(caller_phone, 2), "
                            f"substr({new}, 2)), '0' || substr(caller_phone, 4), "
                            f"'0' || substr({new}, 4)) END"
                        )
                    else:
                        exprs.append(name)
                names = ", ".join(c["column_name"] for c in columns)
                await conn.execute(
                    f"INSERT INTO {table} ({names}) SELECT {', '.join(exprs)} FROM {table} "
                    f"WHERE id <= {upto or offsets[table]}"
                )
                print(f"  {table} copy {k}", flush=True)
        for table in offsets:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
            )
            await conn.execute(f"VACUUM ANALYZE {table}")
    finally:
        await conn.close()


# A different number for copy k; the pool's numbers map to other pool-like numbers.
_NEW_PHONE = (
    "CASE WHEN caller_phone LIKE '+849%' THEN '+849' || lpad(((substr(caller_phone, 5)::bigint "
    "+ {k} * 7919) % 100000000)::text, 8, '0') ELSE caller_phone END"
)


if __name__ == "__main__":
    main()
