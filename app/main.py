"""create_app(): settings, engine, reference catalog and routers, wired once per process."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from app.api import admin, auth, health, reference, tickets
from app.api.middleware import BodyLimitMiddleware
from app.config import Settings, get_settings
from app.db import make_engine, make_session_factory
from app.errors import install_error_handlers
from app.reference.loader import load_catalog
from app.tickets.service import triage_router

API_PREFIX = "/api/v1"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, echo=settings.db_echo
        )
        app.state.settings = settings
        app.state.engine = engine
        app.state.session_factory = make_session_factory(engine)
        app.state.catalog = load_catalog(settings.rules_dir)
        app.state.router = triage_router(app.state.catalog)
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Hotline 1022",
        version="0.1.0",
        description="Ticketing backend for city citizen hotlines. Errors are application/problem+json.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(auth.router)
    api.include_router(tickets.router)
    api.include_router(admin.router)
    api.include_router(reference.router)
    app.include_router(api)
    app.include_router(health.router)
    return app
