"""Test harness: a fresh database per run, built by the migrations; each test starts empty.

SQLite by default. Set HOTLINE_TEST_DATABASE_URL to a PostgreSQL server URL (e.g.
postgresql+asyncpg://postgres@127.0.0.1:5432/postgres) and a new database is created on that
server for the run and dropped afterwards.
"""

import asyncio
import dataclasses
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.api.deps import get_now, get_router
from app.catalog.loader import load_catalog
from app.config import Settings
from app.db import make_session_factory, transaction
from app.main import create_app
from app.migrate import upgrade
from app.runtime import Runtime
from app.setup import sync_reference
from app.users import security
from app.users.demo import ensure_demo_users
from app.users.models import User

TICKET_TABLES = [
    "webhook_attempt",
    "webhook_delivery",
    "webhook_endpoint",
    "outbox_message",
    "mail_message",
    "data_subject_request",
    "ticket_feedback",
    "lookup_throttle",
    "co_handler",
    "ticket_event",
    "assignment_pause",
    "idempotency_key",
    "assignment",
    "ticket",
    "login_throttle",
    "api_key",
]


def pytest_report_header(config: pytest.Config) -> str:
    server = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if not server:
        return "database: SQLite, a temporary file (set HOTLINE_TEST_DATABASE_URL for PostgreSQL)"
    from app.cli_support import where_database

    return f"database: {where_database(server)}, a fresh database for this run"


def pytest_sessionstart(session: pytest.Session) -> None:
    """An unreachable HOTLINE_TEST_DATABASE_URL stops the run at once, with one line."""
    server = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if not server:
        return
    from app.cli_support import where_database

    error: Exception | None = None
    for _ in range(3):  # a busy server may refuse a connection for a moment
        try:
            asyncio.run(asyncio.wait_for(_admin(server, "SELECT 1"), timeout=10))
            return
        except Exception as exc:
            error = exc
            time.sleep(1)
    pytest.exit(
        f"HOTLINE_TEST_DATABASE_URL: cannot reach {where_database(server)} "
        f"({type(error).__name__}); start it, or unset the variable to test on SQLite",
        returncode=2,
    )


async def _admin(url: str, sql: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(sql))
    await engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    name = f"hotline_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _load_users(settings: Settings) -> dict[str, int]:
    engine = create_async_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        async with transaction(factory) as session:
            catalog = load_catalog(settings.rules_dir)
            await ensure_demo_users(session, known_units=set(catalog.units), now=datetime.now(UTC))
            rows = (await session.execute(select(User.username, User.id))).all()
            return {name: user_id for name, user_id in rows}
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    # No background tasks in tests: they call the scan and reloads themselves, at pinned times.
    s = Settings(
        env="test",
        database_url=database_url,
        rules_poll_seconds=0,
        sla_scan_seconds=0,
        webhook_relay_seconds=0,
        webhook_allowed_networks="127.0.0.0/8",
    )
    upgrade(database_url)
    asyncio.run(sync_reference(s))
    return s


@pytest.fixture(scope="session")
def user_ids(settings: Settings) -> dict[str, int]:
    """The demo users (one per role, agents of tong-dai-1022, Cầu Giấy and Ba Đình), by name."""
    return asyncio.run(_load_users(settings))


@pytest.fixture(scope="session")
def auth(settings: Settings, user_ids: dict[str, int]) -> Callable[..., dict[str, str]]:
    """Headers that sign in as a demo user: auth("agent.caugiay")."""

    def headers(username: str, now: datetime | None = None) -> dict[str, str]:
        token = security.issue_token(
            user_ids[username],
            "access",
            settings.secret_key,
            now or datetime.now(UTC),
            timedelta(hours=1),
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture(scope="session")
def is_postgres(settings: Settings) -> bool:
    return not settings.is_sqlite


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


class Clock:
    """A settable clock for the app under test; None means the real time."""

    def __init__(self) -> None:
        self.now: datetime | None = None

    def __call__(self) -> datetime:
        return self.now or datetime.now(UTC)


@pytest.fixture
async def clock(app: Any) -> AsyncIterator[Clock]:
    c = Clock()
    app.dependency_overrides[get_now] = c
    yield c
    app.dependency_overrides.pop(get_now, None)


@pytest.fixture
async def client(
    app: Any, clock: Clock, auth: Callable[..., dict[str, str]]
) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as the switchboard operator unless a request sends other headers."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://test/api/v1", headers=auth("operator")
    ) as c:
        yield c
    # Each test starts from empty ticket tables (reference data stays).
    async with app.state.runtime.engine.begin() as conn:
        await clear_access_log(conn)
        for table in TICKET_TABLES:
            await conn.execute(text(f"DELETE FROM {table}"))


# The access log refuses DELETE (a trigger): TRUNCATE on PostgreSQL, which row triggers do not
# see; on SQLite the trigger is dropped for the cleanup and made again as the migration does.
_SQLITE_NO_DELETE = (
    "CREATE TRIGGER access_record_no_delete BEFORE DELETE ON access_record "
    "BEGIN SELECT RAISE(ABORT, 'access_record is append-only'); END"
)


async def clear_access_log(conn: Any) -> None:
    if conn.dialect.name == "postgresql":
        await conn.execute(text("TRUNCATE access_record"))
        return
    await conn.execute(text("DROP TRIGGER access_record_no_delete"))
    await conn.execute(text("DELETE FROM access_record"))
    await conn.execute(text(_SQLITE_NO_DELETE))


@contextmanager
def routing_by(app: Any, route: Callable[..., Any]) -> Iterator[None]:
    """Route tickets with `route(facts, excluded_units)` instead of the rules, for a while."""

    async def by_route() -> Callable[..., Any]:
        return route

    app.dependency_overrides[get_router] = by_route
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_router, None)


@contextmanager
def runtime_changed(app: Any, **changes: Any) -> Iterator[Runtime]:
    """The app runs on a copy of its runtime with `changes` (settings=..., rules=...) for a
    while; the runtime it started with comes back afterwards."""
    original: Runtime = app.state.runtime
    app.state.runtime = changed = dataclasses.replace(original, **changes)
    try:
        yield changed
    finally:
        app.state.runtime = original


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "phone",
        "caller": {"name": "Nguyễn Văn An", "phone": "0912 345 678"},
        "description": "Rác thải ùn ứ đầu ngõ 25 Trần Thái Tông mấy ngày nay",
        "topic": "moi-truong.rac-thai",
        "area": "phuong-cau-giay",
        "address": "Ngõ 25 Trần Thái Tông",
    }
    body.update(overrides)
    return body


async def create_ticket(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/tickets", json=ticket_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()
