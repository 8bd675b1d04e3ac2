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


# Indexes that live in migrations only: PostgreSQL-only operator classes (app.search).
MIGRATION_ONLY_INDEXES = frozenset({"ix_ticket_search_trgm"})


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Autogenerate (and the drift test) leave MIGRATION_ONLY_INDEXES alone: not in the models."""
    return not (type_ == "index" and reflected and name in MIGRATION_ONLY_INDEXES)
