"""ticket.callback_requested: the caller asked to be told the outcome (issue #16)

Set at intake (API, console; not Open311), corrected by PATCH; the operators' callback queue lists
resolved tickets with it and no `caller_informed` event since the resolution
(app.console.callbacks). A partial index keeps the queue's read to the flagged tickets.

Existing tickets get false: nobody recorded the wish before. Adding a column with a constant
default is a catalogue change on PostgreSQL 11+ (no table rewrite).

Revision ID: c2b7e4a91f05
Revises: b51c0e7d4a93
Create Date: 2026-11-29 14:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c2b7e4a91f05"
down_revision: str | None = "b51c0e7d4a93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "callback_requested",
                sa.Boolean(),
                server_default=sa.text("false"),
                nullable=False,
            )
        )
        batch_op.create_index(
            "ix_ticket_callback_requested_status",
            ["status"],
            unique=False,
            sqlite_where=sa.text("callback_requested"),
            postgresql_where=sa.text("callback_requested"),
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_ticket_callback_requested_status",
            sqlite_where=sa.text("callback_requested"),
            postgresql_where=sa.text("callback_requested"),
        )
        batch_op.drop_column("callback_requested")
