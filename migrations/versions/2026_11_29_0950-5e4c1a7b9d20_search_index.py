"""search: a GIN index of the words of ticket.search_text (PostgreSQL); area + received_at; reports_count

`q` matches every word as a word prefix (app.search.repository). On PostgreSQL a GIN index on
to_tsvector('simple', search_text) serves it; measured against pg_trgm in docs/search.md.
The index is an expression index and lives only here (autogenerate does not compare expression
indexes); SQLite has no equivalent and scans (docs/search.md, limits).

ANALYZE gathers the word frequencies of the indexed expression, which the planner needs to tell
a rare word (use the index) from a common one (walk the newest-first index).

Revision ID: 5e4c1a7b9d20
Revises: 9cf06455420f
Create Date: 2026-11-29 09:50:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5e4c1a7b9d20"
down_revision: str | None = "9cf06455420f"
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
    op.execute(
        "CREATE INDEX ix_ticket_search_tsv ON ticket "
        "USING gin (to_tsvector('simple'::regconfig, search_text))"
    )
    op.execute("ANALYZE ticket")


def downgrade() -> None:
    op.drop_index("ix_ticket_duplicate_of_id", table_name="ticket")
    op.drop_index("ix_ticket_reports_count_id", table_name="ticket")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("reports_count")
    op.drop_index("ix_ticket_area_code_received_at", table_name="ticket")
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_ticket_search_tsv")
