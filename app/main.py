"""create_app(): settings, engine, reference catalog, SLA config and rules, wired once per process."""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from app.api import (
    admin,
    auth,
    health,
    privacy,
    reference,
    replay,
    reports,
    routing,
    tickets,
    webhooks,
)
from app.api.middleware import BodyLimitMiddleware
from app.config import Settings, get_settings
from app.db import make_engine, make_session_factory, transaction, utcnow
from app.errors import install_error_handlers
from app.outbox.setup import relay_of
from app.privacy import retention
from app.privacy.cli import policy_of
from app.reference.loader import load_catalog
from app.routing.live import LiveRuleset
from app.sla import load_sla
from app.tickets.repository import purge_idempotency_keys
from app.tickets.sla import run_scan
from app.tickets.sla_reload import LiveSla, reload_sla
from app.users.principal_cache import PrincipalCache
from app.users.principal_cache import listen as listen_for_changes

API_PREFIX = "/api/v1"
log = logging.getLogger("hotline")


async def _poll_rules(app: FastAPI, interval: float) -> None:
    """Pick up a new valid ruleset and sla.yaml without a restart; every instance runs this."""
    while True:
        await asyncio.sleep(interval)
        try:
            app.state.rules.reload(utcnow(), force=False)
            await reload_sla(app.state, utcnow(), force=False)
        except Exception:  # a broken poll must not kill the instance
            log.exception("checking routing rules or sla.yaml failed")


def _reload_now(app: FastAPI) -> None:
    """SIGHUP: reload the rules now, then sla.yaml (re-planning in the background)."""
    app.state.rules.reload(utcnow())
    app.state.sla_reloading = asyncio.ensure_future(reload_sla(app.state, utcnow()))


async def _maintain(app: FastAPI, interval: float, idempotency_ttl: timedelta) -> None:
    """Periodic work, safe in every instance at once: the SLA scan writes each warning and
    breach exactly once; expired idempotency keys are forgotten."""
    while True:
        await asyncio.sleep(interval)
        try:
            now = utcnow()
            report = await run_scan(app.state.session_factory, catalog=app.state.catalog, now=now)
            if report.warnings or report.breaches:
                log.info("SLA scan: %s", report)
            async with transaction(app.state.session_factory) as session:
                await purge_idempotency_keys(session, before=now - idempotency_ttl)
        except Exception:  # keep going after a transient database error
            log.exception("periodic maintenance failed")


async def _retain(app: FastAPI, interval: float) -> None:
    """Retention (docs/privacy.md), safe in every instance at once (SKIP LOCKED batches)."""
    settings = app.state.settings
    while True:
        await asyncio.sleep(interval)
        try:
            done = await retention.run(
                app.state.session_factory,
                policy=policy_of(settings),
                keys=app.state.privacy_keys,
                now=utcnow(),
                batch=settings.retention_batch,
            )
            if any(done.values()):
                log.info("retention: %s", done)
        except Exception:  # keep going after a transient database error
            log.exception("retention failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, echo=settings.db_echo
        )
        catalog = load_catalog(settings.rules_dir)
        sla = load_sla(settings.rules_dir, catalog)
        live = LiveRuleset(settings.rules_dir, catalog, utcnow(), sla_policies=sla.policy_ids)
        app.state.settings = settings
        app.state.privacy_keys = settings.privacy_keys
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        app.state.catalog = catalog
        app.state.sla_live = sla_live = LiveSla(settings.rules_dir, catalog, sla)
        app.state.sla = sla
        app.state.sla_keeper = sla_live.keeper
        app.state.rules = live
        app.state.router = live.route
        app.state.principals = principals = PrincipalCache(settings.principal_cache_seconds)
        tasks = []
        if not settings.is_sqlite and settings.principal_cache_seconds > 0:
            tasks.append(asyncio.create_task(listen_for_changes(settings.database_url, principals)))
        if settings.rules_poll_seconds > 0:
            tasks.append(asyncio.create_task(_poll_rules(app, settings.rules_poll_seconds)))
        if settings.sla_scan_seconds > 0:
            ttl = timedelta(hours=settings.idempotency_ttl_hours)
            tasks.append(asyncio.create_task(_maintain(app, settings.sla_scan_seconds, ttl)))
        app.state.relay = relay_of(app)
        if settings.webhook_relay_seconds > 0:
            tasks.append(asyncio.create_task(app.state.relay.run()))
        if settings.retention_run_seconds > 0 and policy_of(settings).enabled:
            tasks.append(asyncio.create_task(_retain(app, settings.retention_run_seconds)))
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, lambda: _reload_now(app))
        # Start-up built ~150k long-lived objects (catalog, rules, calendars). Moving them out
        # of the collector's sight spares every full collection a ~60 ms pause of all requests.
        gc.freeze()
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
            await app.state.relay.close()
            await engine.dispose()

    app = FastAPI(
        title="Hotline 1022",
        version="0.1.0",
        description=(
            "Ticketing backend for city citizen hotlines. Errors are application/problem+json."
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Included straight into the app, not through an /api/v1 router of their own: FastAPI
    # walks nested routers on every request to match it.
    for module in (auth, privacy, tickets, routing, replay, reference, admin, reports, webhooks):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(health.router)
    return app
