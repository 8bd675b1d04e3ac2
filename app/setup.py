"""First-start and deploy steps: migrate the schema, then load the reference data."""

import asyncio
import logging

from app.config import Settings
from app.db import make_engine, make_session_factory, transaction
from app.migrate import upgrade
from app.reference.loader import load_catalog
from app.reference.sync import SyncReport, sync_catalog

log = logging.getLogger("hotline.setup")


async def sync_reference(settings: Settings) -> SyncReport:
    """Copy routing_rules/ reference data into the database."""
    catalog = load_catalog(settings.rules_dir)
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        async with transaction(make_session_factory(engine)) as session:
            return await sync_catalog(session, catalog)
    finally:
        await engine.dispose()


def prepare(settings: Settings) -> None:
    """Idempotent: safe on every start, and from several processes in sequence."""
    upgrade(settings.database_url)
    report = asyncio.run(sync_reference(settings))
    log.info("reference data: %s", report)
