"""console session version: signing out of the console revokes its session cookie

`app_user.console_session_version` is signed into every console session cookie; signing out
adds one to it, so that every cookie signed before (a copied one included) is refused from
then on, on every instance (app.console.session, docs/console.md). Existing users start at 0,
which is what a cookie signed before this revision carries: no one is signed out by it.

Revision ID: c7d2e9f41a06
Revises: c2b7e4a91f05
Create Date: 2026-11-29 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c7d2e9f41a06"
down_revision: str | None = "c2b7e4a91f05"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "console_session_version", sa.Integer(), server_default=sa.text("0"), nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("console_session_version")
