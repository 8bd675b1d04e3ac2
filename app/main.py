"""create_app(): settings, databases, reference catalog, SLA config and rules, wired once per process."""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from app import console, periodic
from app.api import (
    admin,
    auth,
    callers_history,
    followup,
    health,
    open311,
    privacy,
    reference,
    replay,
    reports,
    routing,
    similar,
    tickets,
    webhooks,
)
from app.api import metrics as metrics_api
from app.api.docs import OPENAPI_URL, install_docs
from app.api.failsafe import FailsafeMiddleware, redacted_traceback
from app.api.middleware import BodyLimitMiddleware
from app.api.observe import ObserveMiddleware
from app.api.openapi import install_openapi
from app.api.problems import install_error_handlers
from app.api.security_headers import SecurityHeadersMiddleware
from app.catalog.loader import load_catalog
from app.config import Settings, get_settings
from app.databases import open_databases
from app.db import utcnow
from app.db_errors import database_unavailable
from app.leader import Leadership
from app.open311.attributes import load_definitions
from app.outbox.setup import relay_of
from app.privacy import retention
from app.privacy.cli import policy_of
from app.routing.live import LiveRuleset
from app.sla import load_sla
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
        except Exception as exc:  # a broken poll must not kill the instance
            log.error("checking routing rules or sla.yaml failed\n%s", redacted_traceback(exc))


def _reload_now(app: FastAPI) -> None:
    """SIGHUP: reload the rules now, then sla.yaml (re-planning in the background)."""
    app.state.rules.reload(utcnow())
    app.state.sla_reloading = asyncio.ensure_future(reload_sla(app.state, utcnow()))


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
        except Exception as exc:  # keep going after a transient database error
            if database_unavailable(exc):
                log.warning("retention: database unavailable (%s)", type(exc).__name__)
            else:
                log.error("retention failed\n%s", redacted_traceback(exc))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        databases = open_databases(settings)
        catalog = load_catalog(settings.rules_dir)
        sla = load_sla(settings.rules_dir, catalog)
        live = LiveRuleset(settings.rules_dir, catalog, utcnow(), sla_policies=sla.policy_ids)
        state = app.state
        state.settings = settings
        state.privacy_keys = settings.privacy_keys
        state.databases = databases
        state.engine = databases.primary
        state.session_factory = databases.sessions
        state.read_session_factory = databases.read_sessions
        state.catalog = catalog
        state.open311_extras = load_definitions(settings.rules_dir)
        state.sla_live = sla_live = LiveSla(settings.rules_dir, catalog, sla)
        state.sla = sla
        state.sla_keeper = sla_live.keeper
        state.rules = live
        state.router = live.route
        state.principals = principals = PrincipalCache(settings.principal_cache_seconds)
        state.leadership = leadership = Leadership(
            settings.direct_url,
            retry=settings.leader_retry_seconds,
            idle_timeout=settings.leader_idle_timeout_seconds,
        )
        tasks = [asyncio.create_task(periodic.watch_process(state))]
        if not settings.is_sqlite and settings.principal_cache_seconds > 0:
            tasks.append(asyncio.create_task(listen_for_changes(settings.direct_url, principals)))
        if settings.rules_poll_seconds > 0:
            tasks.append(asyncio.create_task(_poll_rules(app, settings.rules_poll_seconds)))
        if settings.sla_scan_seconds > 0:
            ttl = timedelta(hours=settings.idempotency_ttl_hours)
            tasks.append(asyncio.create_task(leadership.run()))
            tasks.append(
                asyncio.create_task(
                    periodic.maintain(state, leadership, settings.sla_scan_seconds, ttl)
                )
            )
            if settings.metrics_gauge_seconds > 0:
                tasks.append(
                    asyncio.create_task(
                        periodic.count_open_work(state, leadership, settings.metrics_gauge_seconds)
                    )
                )
        state.relay = relay_of(app)
        if settings.webhook_relay_seconds > 0:
            tasks.append(asyncio.create_task(state.relay.run()))
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
            await asyncio.gather(*tasks, return_exceptions=True)
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
            await state.relay.close()
            await databases.dispose()

    app = FastAPI(
        title="Hotline 1022",
        version="0.1.0",
        description=(
            "Ticketing backend for city citizen hotlines. Errors are application/problem+json."
        ),
        lifespan=lifespan,
        # Served by app.api.docs from vendored assets, or not at all (HOTLINE_API_DOCS).
        docs_url=None,
        redoc_url=None,
        openapi_url=OPENAPI_URL if settings.serves_api_docs else None,
    )
    install_error_handlers(app)
    install_openapi(app)
    # Innermost: it answers what no handler took, so the server never sees an exception.
    app.add_middleware(FailsafeMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware, hsts_seconds=settings.hsts_seconds)
    if settings.serves_api_docs:
        install_docs(app)
    # Included straight into the app, not through an /api/v1 router of their own: FastAPI
    # walks nested routers on every request to match it.
    api_modules = (
        auth,
        privacy,
        callers_history,
        similar,
        tickets,
        followup,
        routing,
        replay,
        reference,
        admin,
        reports,
        webhooks,
    )
    for module in api_modules:
        app.include_router(module.router, prefix=API_PREFIX)
    templates = {
        id(route): API_PREFIX + route.path
        for module in api_modules
        for route in module.router.routes
        if hasattr(route, "path")
    }
    # Outermost: times and logs every request, the refused ones included.
    app.add_middleware(ObserveMiddleware, templates=templates)
    app.include_router(health.router)
    app.include_router(metrics_api.router)
    console.install(app)
    app.include_router(open311.router)
    return app
