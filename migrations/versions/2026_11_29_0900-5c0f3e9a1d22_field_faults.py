"""field faults (issue #10): how each ticket's area was read

Adds ticket.area_resolution (JSON): the area text as typed, how it was read and, while the area
is not settled, its candidate areas.

Revision ID: 5c0f3e9a1d22
Revises: 1843bdd7f31f
Create Date: 2026-11-29 09:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5c0f3e9a1d22"
down_revision: str | None = "1843bdd7f31f"
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


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("area_resolution")
