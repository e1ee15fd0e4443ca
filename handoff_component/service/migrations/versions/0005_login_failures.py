"""Failed sign-ins are counted in the database, so the throttle holds across replicas.

One row per failed attempt and key (`user:<name>` and `ip:<address>`); rows older than the
throttle window are deleted as new failures arrive. Kept in memory before, each replica counted
its own and a guesser spread over N replicas got N times the limit.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(300), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_key_time", "login_failures", ["key", "failed_at"])
    op.create_index("ix_login_failures_time", "login_failures", ["failed_at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_time", table_name="login_failures")
    op.drop_index("ix_login_failures_key_time", table_name="login_failures")
    op.drop_table("login_failures")
