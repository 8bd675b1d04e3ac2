"""First-start and deploy steps: migrate the schema, load the reference data, demo users."""

import asyncio
import logging

from app.catalog.loader import load_catalog
from app.config import Settings
from app.db import make_engine, make_session_factory, transaction, utcnow
from app.migrate import upgrade
from app.reference.sync import SyncReport, sync_catalog
from app.users.demo import ensure_demo_users

log = logging.getLogger("hotline.setup")


async def sync_reference(settings: Settings) -> SyncReport:
    """Copy routing_rules/ reference data into the database (and demo users in development)."""
    catalog = load_catalog(settings.rules_dir)
    engine = make_engine(settings.direct_url, pool_size=1)
    try:
        async with transaction(make_session_factory(engine)) as session:
            report = await sync_catalog(session, catalog)
            if settings.create_demo_users:
                created = await ensure_demo_users(
                    session, known_units=set(catalog.units), now=utcnow()
                )
                if created:
                    log.info("created %d demo users (see README)", created)
            return report
    finally:
        await engine.dispose()


def prepare(settings: Settings) -> None:
    """Idempotent: safe on every start. On the direct URL: DDL and its locks need a session."""
    upgrade(settings.direct_url)
    report = asyncio.run(sync_reference(settings))
    log.info("reference data: %s", report)
