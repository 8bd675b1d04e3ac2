"""Models and migrations never drift; the schema downgrades to nothing and back."""

import asyncio
import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import metadata
from app.migrate import downgrade, include_object, upgrade


def _diff(sync_conn):
    context = MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "include_object": include_object}
    )
    return compare_metadata(context, metadata)


async def _run(url, fn):
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(fn)
    finally:
        await engine.dispose()


def test_autogenerate_finds_no_drift(settings):
    diff = asyncio.run(_run(settings.database_url, _diff))
    assert diff == [], diff


def test_downgrade_to_base_and_upgrade_again(settings, tmp_path):
    """On a scratch database of the same kind, so that other tests keep theirs."""
    if settings.is_sqlite:
        url = f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
        cleanup = None
    else:
        server = make_url(settings.database_url)
        name = f"hotline_scratch_{uuid.uuid4().hex[:10]}"
        admin = server.set(database="postgres").render_as_string(hide_password=False)

        async def admin_sql(sql):
            engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text(sql))
            await engine.dispose()

        asyncio.run(admin_sql(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)

        def cleanup():
            asyncio.run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    try:
        upgrade(url)
        tables = asyncio.run(_run(url, lambda c: set(inspect(c).get_table_names())))
        assert {"ticket", "assignment", "ticket_event", "area"} <= tables
        downgrade(url, "base")
        left = asyncio.run(_run(url, lambda c: set(inspect(c).get_table_names())))
        assert left <= {"alembic_version"}
        upgrade(url)
        assert asyncio.run(_run(url, _diff)) == []
    finally:
        if cleanup:
            cleanup()
