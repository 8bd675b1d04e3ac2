"""The dashboard reads through the read URL (HOTLINE_READ_DATABASE_URL) like the reports API.

The read URL is a read-only role (PostgreSQL) or the same file opened read-only (SQLite), as
in tests/ops/test_read_url.py: statements counted on each engine show where each panel read.
"""

from typing import Any

import httpx
from sqlalchemy import event

from tests.conftest import ticket_body
from tests.console.conftest import PASSWORDS, csrf_of
from tests.ops.test_read_url import read_url, replica_app  # noqa: F401 (fixtures)


def _statements(engine: Any) -> list[str]:
    seen: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


async def test_dashboard_panels_read_the_read_url(replica_app, auth):  # noqa: F811
    dbs = replica_app.state.runtime.databases
    assert dbs.read is not dbs.primary
    transport = httpx.ASGITransport(app=replica_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        created = await c.post("/api/v1/tickets", json=ticket_body(), headers=auth("operator"))
        assert created.status_code == 201, created.text
        form = await c.get("/console/login")
        signed = await c.post(
            "/console/login",
            data={
                "username": "supervisor",
                "password": PASSWORDS["supervisor"],
                "csrf_token": csrf_of(form.text),
            },
        )
        assert signed.status_code == 303, signed.text
        on_read, on_primary = _statements(dbs.read), _statements(dbs.primary)
        for panel in ("ontime", "backlog", "volume", "matrix", "worst"):
            before_read, before_primary = len(on_read), len(on_primary)
            page = await c.get(f"/console/dashboard/panel/{panel}")
            assert page.status_code == 200, page.text
            report_sql = [
                s for s in on_read[before_read:] if "FROM assignment" in s or "FROM ticket" in s
            ]
            assert report_sql, f"panel {panel} did not read the read URL"
            assert not [
                s
                for s in on_primary[before_primary:]
                if "FROM assignment" in s or "FROM ticket" in s
            ]
        csv = await c.get("/console/dashboard/csv/ontime")
        assert csv.status_code == 200
        assert "TOTAL" in csv.text
