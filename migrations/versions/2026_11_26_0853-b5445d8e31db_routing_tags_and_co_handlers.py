"""routing tags and co-handlers

Revision ID: b5445d8e31db
Revises: f5f4a5507576
Create Date: 2026-11-26 08:53:30.627008+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b5445d8e31db"
down_revision: str | None = "f5f4a5507576"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "co_handler",
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=80), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
            name=op.f("fk_co_handler_assignment_id_assignment"),
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["ticket.id"], name=op.f("fk_co_handler_ticket_id_ticket")
        ),
        sa.ForeignKeyConstraint(
            ["unit_code"], ["unit.code"], name=op.f("fk_co_handler_unit_code_unit")
        ),
        sa.PrimaryKeyConstraint("assignment_id", "unit_code", name=op.f("pk_co_handler")),
    )
    with op.batch_alter_table("co_handler", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_co_handler_ticket_id"), ["ticket_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_co_handler_unit_code"), ["unit_code"], unique=False)

    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "tags",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                nullable=False,
                # Existing tickets get no tags.
                server_default=sa.text("'[]'"),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("tags")

    with op.batch_alter_table("co_handler", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_co_handler_unit_code"))
        batch_op.drop_index(batch_op.f("ix_co_handler_ticket_id"))

    op.drop_table("co_handler")
