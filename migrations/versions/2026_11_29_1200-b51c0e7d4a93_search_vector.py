"""search vector: a stored tsvector of ticket.search_text with a GIN index (PostgreSQL)

`q` words are looked up in `search_vector` (to_tsvector('simple', search_text), stored, so a
row is checked without re-parsing its text) and its GIN index; its statistics give each word's
share of tickets, so the rarest word leads (app.search.repository, docs/search.md). Replaces
the pg_trgm index of 5e4c1a7b9d20, which nothing reads any more (it made every intake write
about a hundred trigram entries). SQLite: nothing changes (it scans).

Adding a stored generated column rewrites the ticket table under an exclusive lock: at 1M
tickets about a minute here (docs/performance.md); plan it for a quiet hour.

Revision ID: b51c0e7d4a93
Revises: 37ab00ad1bee
Create Date: 2026-11-29 12:00:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "b51c0e7d4a93"
down_revision: str | None = "37ab00ad1bee"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "ALTER TABLE ticket ADD COLUMN search_vector tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED"
    )
    op.execute("CREATE INDEX ix_ticket_search_vector ON ticket USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_ticket_search_trgm")
    op.execute("ANALYZE ticket")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE INDEX ix_ticket_search_trgm ON ticket USING gin (search_text gin_trgm_ops)")
    op.execute("DROP INDEX ix_ticket_search_vector")
    op.execute("ALTER TABLE ticket DROP COLUMN search_vector")
