"""Attendants' sessions are rows, so a sign-out, a password change or a deactivation ends them.

Before, a session token was only a signature with an expiry: it kept working for its 12 hours
after its attendant signed out, had their password changed or was deactivated (and again after a
reactivation). Each token now names a row here; the row is deleted to revoke it, and looked up on
every request.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("attendant_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attendant_id"],
            ["attendants.id"],
            name="fk_sessions_attendant_id_attendants",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_attendant", "sessions", ["attendant_id"])
    op.create_index("ix_sessions_expires", "sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_sessions_expires", table_name="sessions")
    op.drop_index("ix_sessions_attendant", table_name="sessions")
    op.drop_table("sessions")
