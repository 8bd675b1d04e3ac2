"""HOTLINE_READ_DATABASE_URL: reports and search read there, every write goes to the primary.

The read URL is a role whose transactions are read-only (PostgreSQL: a role with
default_transaction_read_only, as on a hot standby), or the same file opened read-only
(SQLite): a write sent there would fail, so passing requests prove where each one went.
"""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from app.config import Settings
from app.db import transaction
from app.main import create_app
from tests.conftest import _admin, ticket_body


@pytest.fixture(scope="module")
async def read_url(settings: Settings) -> AsyncIterator[str]:
    url = make_url(settings.database_url)
    if settings.is_sqlite:
        yield f"sqlite+aiosqlite:///file:{url.database}?mode=ro&uri=true"
        return
    role = f"hotline_reader_{uuid.uuid4().hex[:8]}"
    await _admin(settings.database_url, f"CREATE ROLE {role} LOGIN")
    await _admin(settings.database_url, f"ALTER ROLE {role} SET default_transaction_read_only = on")
    await _admin(settings.database_url, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        yield url.set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        await _admin(settings.database_url, f"DROP OWNED BY {role}")
        await _admin(settings.database_url, f"DROP ROLE {role}")


@pytest.fixture
async def replica_app(settings: Settings, read_url: str, client: Any) -> AsyncIterator[Any]:
    # `client` empties the ticket tables after the test, through the main app.
    s = settings.model_copy(update={"read_database_url": read_url})
    application = create_app(s)
    async with application.router.lifespan_context(application):
        yield application
        await application.state.runtime.databases.dispose()


def _count_statements(engine: Any) -> list[str]:
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_search_and_reports_read_the_read_url_and_writes_go_to_the_primary(replica_app, auth):
    dbs = replica_app.state.runtime.databases
    assert dbs.read is not dbs.primary
    on_read, on_primary = _count_statements(dbs.read), _count_statements(dbs.primary)
    transport = httpx.ASGITransport(app=replica_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1") as c:
        created = await c.post("/tickets", json=ticket_body(), headers=auth("operator"))
        assert created.status_code == 201, created.text
        assert on_read == []  # intake never touches the read URL
        written = len(on_primary)

        found = await c.get("/tickets", params={"q": "rac thai"}, headers=auth("operator"))
        assert found.status_code == 200, found.text
        assert [t["id"] for t in found.json()["items"]] == [created.json()["id"]]
        assert on_read, "search did not read the read URL"

        # A caller-history lookup reads the replica and writes its access record to the primary.
        writes = len(on_primary)
        history = await c.get(
            "/tickets", params={"caller_phone": "0912345678"}, headers=auth("operator")
        )
        assert history.status_code == 200, history.text
        assert [t["id"] for t in history.json()["items"]] == [created.json()["id"]]
        assert any("access_record" in sql for sql in on_primary[writes:])
        assert not any("access_record" in sql for sql in on_read)

        searched = len(on_read)
        report = await c.get("/reports/sla", headers=auth("supervisor"))
        assert report.status_code == 200, report.text
        assert report.json()["totals"]["assignments"] == 1
        assert len(on_read) > searched

        # Acting on a ticket writes to the primary, even right after a search.
        ack = await c.post(
            f"/tickets/{created.json()['id']}/acknowledge", headers=auth("agent.caugiay")
        )
        assert ack.status_code == 200, ack.text
        assert len(on_primary) > written


async def test_the_read_url_refuses_writes(replica_app):
    with pytest.raises(DBAPIError, match=r"(?i)read-only|readonly"):
        async with transaction(replica_app.state.runtime.read_session_factory) as session:
            await session.execute(text("DELETE FROM idempotency_key"))
