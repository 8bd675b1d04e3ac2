"""Background work of one app process: the SLA scan, purges and database gauges only in the
periodic-work leader (app.leader); process metrics in every process (rules and sla.yaml
polling: app.main, every process).

Each loop survives its own failures (a database restart, a bad file) and logs them as one
line, through the same logging set-up as requests (JSON in production).
"""

import asyncio
import logging
import time
from collections.abc import Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from app import metrics
from app.db import transaction, utcnow
from app.db_errors import database_unavailable
from app.leader import Leadership
from app.logs import redacted_traceback
from app.open311.feedback import close_unanswered
from app.outbox import backlog
from app.search import lexemes
from app.tickets.assignment_clock import run_scan
from app.tickets.idempotency_keys import purge_idempotency_keys
from app.tickets.open_work import open_assignment_counts

if TYPE_CHECKING:
    from app.runtime import Runtime

log = logging.getLogger("hotline.periodic")


def log_failure(what: str, exc: BaseException) -> None:
    """One line for a lost database, else a traceback, never exception messages: a failed
    statement's message carries ticket rows, callers included."""
    if database_unavailable(exc):
        log.warning("%s: database unavailable (%s)", what, type(exc).__name__)
    else:
        log.error("%s failed\n%s", what, redacted_traceback(exc))


async def _wait_to_lead(leadership: Leadership, interval: float) -> None:
    """Sleep `interval`; while not leading, until this process leads."""
    await asyncio.sleep(interval)
    while not leadership.is_leader:
        leadership.changed.clear()
        await leadership.changed.wait()


async def maintain(
    runtime: "Runtime", leadership: Leadership, interval: float, idempotency_ttl: timedelta
) -> None:
    """Every `interval` seconds in the leader: the SLA scan (each warning and breach written
    exactly once, by row locks, whoever runs it), forgetting expired idempotency keys, moving
    the search words' watermark (PostgreSQL, app.search.lexemes), and closing resolved tickets
    left without feedback (SKIP LOCKED, safe anywhere)."""
    while True:
        await _wait_to_lead(leadership, interval)
        try:
            now = utcnow()
            report = await run_scan(runtime.session_factory, catalog=runtime.catalog, now=now)
            metrics.SLA_EVENTS.labels("warning").inc(report.warnings)
            metrics.SLA_EVENTS.labels("breach").inc(report.breaches)
            metrics.SLA_SCAN_COMPLETED.set(time.time())
            if report.warnings or report.breaches:
                log.info("SLA scan: %s", report)
            async with transaction(runtime.session_factory) as session:
                purged = await purge_idempotency_keys(session, before=now - idempotency_ttl)
            if purged:
                log.info("forgot %d expired idempotency keys", purged)
            if not runtime.settings.is_sqlite:
                # New tickets' words for prefix search (app.search.lexemes): off the intake path.
                async with transaction(runtime.session_factory) as session:
                    await lexemes.refresh(session)
            # Resolutions nobody answered close by themselves (docs/open311.md, follow-up).
            after = timedelta(days=runtime.settings.feedback_close_days)
            async with transaction(runtime.session_factory) as session:
                if closed := await close_unanswered(session, now=now, after=after):
                    log.info("closed %d resolved tickets without feedback", closed)
        except Exception as exc:  # keep going after a transient database error
            log_failure("periodic maintenance", exc)


async def count_open_work(runtime: "Runtime", leadership: Leadership, interval: float) -> None:
    """Every `interval` seconds in the leader: the hotline_open_assignments gauge, every
    (unit kind, SLA state) pair written, zeros included, so that the newest values win; and
    the outbox gauges (app.outbox.backlog), read in the same transaction."""
    kinds = sorted({unit.kind for unit in runtime.catalog.units.values()})
    while True:
        await _wait_to_lead(leadership, interval)
        try:
            await _finish_on_cancel(_count_once(runtime, kinds), FINISH_SECONDS)
        except Exception as exc:
            log_failure("counting open assignments and the outbox", exc)


# How long a stop lets a count under way finish (two indexed reads: milliseconds when the
# database answers). Within app.shutdown.BACKGROUND_SECONDS, the lifespan's wait for the loops.
FINISH_SECONDS = 3.0


async def _finish_on_cancel(work: Coroutine[Any, Any, None], seconds: float) -> None:
    """Run `work`; if cancelled meanwhile (a shutdown), let it end its transaction for up to
    `seconds` rather than leave a connection inside it (on SQLite, holding the write lock),
    then re-raise the cancellation. A plain shield would wait for nobody: the lifespan would
    close the pool under it, and a hung connection would keep it running unbounded."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        _, pending = await asyncio.wait({task}, timeout=seconds)
        if pending:
            log.warning(
                "a count under way did not end within %.0f s of the stop; cancelled", seconds
            )
            task.cancel()
        elif not task.cancelled() and (exc := task.exception()) is not None:
            log_failure("counting open assignments and the outbox", exc)
        raise


async def _count_once(runtime: "Runtime", kinds: list[str]) -> None:
    async with transaction(runtime.session_factory) as session:
        counts = await open_assignment_counts(session, now=utcnow())
        found = await backlog.measure(session, now=utcnow())
    totals = {(kind, st): 0 for kind in kinds for st in metrics.SLA_STATES}
    for (unit_code, st), n in counts.items():
        unit = runtime.catalog.units.get(unit_code)
        key = (unit.kind if unit else "unknown", st)
        totals[key] = totals.get(key, 0) + n
    for (kind, st), n in totals.items():
        metrics.OPEN_ASSIGNMENTS.labels(kind, st).set(n)
    metrics.OPEN_ASSIGNMENTS_COUNTED.set(time.time())
    record_outbox(found)


def record_outbox(found: backlog.Backlog) -> None:
    """Set the outbox gauges (pending and lateness by stage, disabled endpoints) from one
    measurement."""
    for stage in backlog.STAGES:
        metrics.OUTBOX_PENDING.labels(stage).set(found.pending[stage])
        metrics.OUTBOX_OLDEST_AGE.labels(stage).set(found.age[stage])
    metrics.WEBHOOK_ENDPOINTS_DISABLED.set(found.disabled_endpoints)
    metrics.OUTBOX_COUNTED.set(time.time())


def sample_pools(runtime: "Runtime") -> None:
    """Set hotline_db_pool_connections_in_use for this process's pools."""
    primary, read = runtime.databases.primary, runtime.databases.read
    metrics.DB_POOL_IN_USE.labels("primary").set(primary.sync_engine.pool.checkedout())
    if read is not primary:
        metrics.DB_POOL_IN_USE.labels("read").set(read.sync_engine.pool.checkedout())


async def watch_process(runtime: "Runtime", interval: float = 5.0) -> None:
    """Every few seconds: this process's pool gauges and ruleset version; dead workers'
    live gauges dropped."""
    ruleset = metrics.RulesetGauge()
    refusals = 0
    while True:
        try:
            ruleset.serving(runtime.rules.current.version)
            # Never negative: a runtime swapped for another (tests) may have refused fewer.
            metrics.RULES_RELOAD_FAILURES.inc(max(0, runtime.rules.refusals - refusals))
            refusals = runtime.rules.refusals
            sample_pools(runtime)
            metrics.forget_dead_workers()
        except Exception as exc:
            log_failure("sampling process metrics", exc)
        await asyncio.sleep(interval)
