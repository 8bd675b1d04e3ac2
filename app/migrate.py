"""Run Alembic from code: `hotline db upgrade`, the first start, and the tests."""

from typing import Any

from alembic import command
from alembic.config import Config

from app.config import REPO_ROOT


def alembic_config(database_url: str | None = None) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.attributes["quiet"] = True
    if database_url:
        cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def describe_current(database_url: str) -> str:
    """'1843bdd7f31f (sla report columns and indexes)', or 'no revision (empty schema)'."""
    import asyncio

    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from app.db import make_engine

    async def current() -> str | None:
        engine = make_engine(database_url, pool_size=1)
        try:
            async with engine.connect() as conn:
                return (
                    await conn.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar()
        finally:
            await engine.dispose()

    revision = asyncio.run(current())
    if revision is None:
        return "no revision (empty schema)"
    script = ScriptDirectory.from_config(alembic_config(database_url)).get_revision(revision)
    return f"{revision} ({script.doc})" if script is not None else revision


# Indexes that live in migrations only: PostgreSQL-only operator classes (app.search).
MIGRATION_ONLY_INDEXES = frozenset({"ix_ticket_search_trgm", "ix_ticket_search_vector"})
# Columns that live in migrations only: ticket.search_vector, a PostgreSQL generated tsvector
# (app.search.repository); the models never read or write it.
MIGRATION_ONLY_COLUMNS = frozenset({"search_vector"})
# Tables that live in migrations only: the PostgreSQL search lexemes (app.search.lexemes), read
# and written in SQL, never through models.
MIGRATION_ONLY_TABLES = frozenset({"search_lexeme", "search_lexeme_mark"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate (and the drift test) leave MIGRATION_ONLY_INDEXES, _COLUMNS and _TABLES
    alone: not in the models."""
    if type_ == "table" and reflected and name in MIGRATION_ONLY_TABLES:
        return False
    if type_ == "column" and reflected and name in MIGRATION_ONLY_COLUMNS:
        return False
    return not (type_ == "index" and reflected and name in MIGRATION_ONLY_INDEXES)
