"""field faults (issue #10): how each ticket's area was read; search text re-folded

Adds ticket.area_resolution (JSON): the area text as typed, how it was read and, while the area
is not settled, its candidate areas. Re-folds the stored search text of tickets holding a
look-alike of đ/Đ (U+00D0, U+00F0, U+0189, U+0256) that the old folding dropped, and the
mirrored sla_warn_at of open tickets (now the earliest warning of their open targets).

Revision ID: 5c0f3e9a1d22
Revises: 9cf06455420f
Create Date: 2026-11-29 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5c0f3e9a1d22"
down_revision: str | None = "9cf06455420f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "area_resolution",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=True,
            )
        )
    # Data: the folding of the running code (app.text.fold), on the rows it changed for.
    from app.tickets.search_text import refold_search_text

    refold_search_text(op.get_bind())
    # The ticket mirrors the earliest warning instant of its open targets (it mirrored the
    # warning of the target due first): recompute it from the open assignment.
    op.execute(
        """
        UPDATE ticket SET sla_warn_at = (
            SELECT CASE
                WHEN a.acknowledged_at IS NULL AND a.acknowledge_warn_at < a.resolve_warn_at
                THEN a.acknowledge_warn_at ELSE a.resolve_warn_at END
            FROM assignment a WHERE a.ticket_id = ticket.id AND a.ended_at IS NULL
        )
        WHERE sla_warn_at IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("area_resolution")
