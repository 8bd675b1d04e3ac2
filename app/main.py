"""create_app(): the API, its middleware and background loops over one runtime (app.runtime)."""

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from app import console, periodic, shutdown
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
from app.api.failsafe import FailsafeMiddleware
from app.api.middleware import BodyLimitMiddleware
from app.api.observe import ObserveMiddleware
from app.api.openapi import install_openapi
from app.api.problems import install_error_handlers
from app.api.security_headers import SecurityHeadersMiddleware
from app.config import Settings, get_settings
from app.db import utcnow
from app.db_errors import database_unavailable
from app.leader import Leadership
from app.logs import redacted_traceback
from app.privacy import retention
from app.privacy.cli import policy_of
from app.runtime import Runtime, build_runtime
from app.shutdown import stop_tasks, within
from app.tickets.sla_reload import reload_sla
from app.users.principal_cache import listen as listen_for_changes

API_PREFIX = "/api/v1"
log = logging.getLogger("hotline")


async def _poll_rules(runtime: Runtime, interval: float) -> None:
    """Pick up a new valid ruleset and sla.yaml without a restart; every instance runs this."""
    while True:
        await asyncio.sleep(interval)
        try:
            runtime.rules.reload(utcnow(), force=False)
            await reload_sla(runtime, utcnow(), force=False)
        except Exception as exc:  # a broken poll must not kill the instance
            log.error("checking routing rules or sla.yaml failed\n%s", redacted_traceback(exc))


def _reload_now(runtime: Runtime, pending: set[asyncio.Task[Any]]) -> None:
    """SIGHUP: reload the rules now, then sla.yaml (re-planning in the background)."""
    runtime.rules.reload(utcnow())
    reloading = asyncio.create_task(reload_sla(runtime, utcnow()), name="sla-reload")
    pending.add(reloading)  # a reference until it ends, or the loop may collect it
    reloading.add_done_callback(pending.discard)


async def _retain(runtime: Runtime, interval: float) -> None:
    """Retention (docs/privacy.md), safe in every instance at once (SKIP LOCKED batches)."""
    settings = runtime.settings
    while True:
        await asyncio.sleep(interval)
        try:
            done = await retention.run(
                runtime.session_factory,
                policy=policy_of(settings),
                keys=runtime.privacy_keys,
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


def _background(runtime: Runtime, leadership: Leadership) -> list[asyncio.Task[Any]]:
    """Start the loops the settings ask for (0 seconds switches one off), each task named
    after its loop (a shutdown that abandons one names it)."""
    settings = runtime.settings
    loops: dict[str, Coroutine[Any, Any, None]] = {
        "process-metrics": periodic.watch_process(runtime)
    }
    if not settings.is_sqlite and settings.principal_cache_seconds > 0:
        loops["principal-feed"] = listen_for_changes(settings.direct_url, runtime.principals)
    if settings.rules_poll_seconds > 0:
        loops["rules-poll"] = _poll_rules(runtime, settings.rules_poll_seconds)
    if settings.sla_scan_seconds > 0:
        ttl = timedelta(hours=settings.idempotency_ttl_hours)
        loops["leadership"] = leadership.run()
        loops["maintenance"] = periodic.maintain(
            runtime, leadership, settings.sla_scan_seconds, ttl
        )
        if settings.metrics_gauge_seconds > 0:
            loops["open-work-count"] = periodic.count_open_work(
                runtime, leadership, settings.metrics_gauge_seconds
            )
    if settings.webhook_relay_seconds > 0:
        loops["outbox-relay"] = runtime.relay.run()
    if settings.retention_run_seconds > 0 and policy_of(settings).enabled:
        loops["retention"] = _retain(runtime, settings.retention_run_seconds)
    return [asyncio.create_task(loop, name=name) for name, loop in loops.items()]


def create_app(settings: Settings | None = None, *, runtime: Runtime | None = None) -> FastAPI:
    """The ASGI app. Its runtime (app.runtime) is `runtime` when given (the caller closes it),
    else built from `settings` (default: the environment's) at start-up and closed at shutdown.
    Request handlers reach it through app.api.deps (get_runtime, get_router, ...)."""
    settings = runtime.settings if runtime is not None else settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        running = build_runtime(settings, utcnow()) if runtime is None else runtime
        app.state.runtime = running
        leadership = Leadership(
            settings.direct_url,
            retry=settings.leader_retry_seconds,
            idle_timeout=settings.leader_idle_timeout_seconds,
        )
        tasks = _background(running, leadership)
        pending: set[asyncio.Task[Any]] = set()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, lambda: _reload_now(running, pending))
        # Start-up built ~150k long-lived objects (catalog, rules, calendars). Moving them out
        # of the collector's sight spares every full collection a ~60 ms pause of all requests.
        gc.freeze()
        try:
            yield
        finally:
            # Each step bounded (app.shutdown): a loop that will not stop, or a database that
            # does not answer, is logged and left behind rather than keeping the worker up.
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
            await stop_tasks([*tasks, *pending], shutdown.BACKGROUND_SECONDS)
            if owned:
                await within(
                    running.close(),
                    shutdown.CLOSE_SECONDS,
                    "closing the relay client and the databases",
                )

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
    # walks nested routers on every request to match it. Requests are matched router by
    # router in this order, so intake's (tickets) comes first, after the one router whose
    # paths it shares (similar: /tickets/similar); no other path fits routes of both groups,
    # so the order changes no answer (it saves intake about 20 µs of matching).
    api_modules = (
        similar,
        tickets,
        auth,
        privacy,
        callers_history,
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
