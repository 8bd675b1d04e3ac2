"""search: a pg_trgm GIN index on ticket.search_text (PostgreSQL); area + received_at; reports_count

`q` matches every word as a word prefix (app.search.repository), on PostgreSQL as the regular
expression `(^| )word`, which a pg_trgm GIN index serves; measured against a tsvector index in
docs/search.md. The index uses a PostgreSQL-only operator class and lives only here
(app.migrate.MIGRATION_ONLY_INDEXES); SQLite scans (docs/search.md, limits).

Revision ID: 5e4c1a7b9d20
Revises: 698f61b61a02
Create Date: 2026-11-29 09:50:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e4c1a7b9d20"
down_revision: str | None = "698f61b61a02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "Reported N times": 1 + the duplicates linked to a ticket (app.search.reporters).
    op.add_column(
        "ticket", sa.Column("reports_count", sa.Integer(), nullable=False, server_default="1")
    )
    op.create_index("ix_ticket_reports_count_id", "ticket", ["reports_count", "id"], unique=False)
    op.create_index(
        "ix_ticket_duplicate_of_id",
        "ticket",
        ["duplicate_of_id"],
        unique=False,
        sqlite_where=sa.text("duplicate_of_id IS NOT NULL"),
        postgresql_where=sa.text("duplicate_of_id IS NOT NULL"),
    )
    # Duplicate suggestions read an area's newest tickets (app.search.similar).
    op.create_index(
        "ix_ticket_area_code_received_at", "ticket", ["area_code", "received_at"], unique=False
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_ticket_search_trgm ON ticket USING gin (search_text gin_trgm_ops)")
    op.execute("ANALYZE ticket")


def downgrade() -> None:
    op.drop_index("ix_ticket_duplicate_of_id", table_name="ticket")
    op.drop_index("ix_ticket_reports_count_id", table_name="ticket")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("reports_count")
    op.drop_index("ix_ticket_area_code_received_at", table_name="ticket")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_ticket_search_trgm")
