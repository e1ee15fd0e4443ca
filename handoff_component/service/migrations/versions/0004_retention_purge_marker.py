"""Tickets record when the retention pass purged their content.

`purged_at` is set by `handoff_component.service.retention` when a closed ticket's messages, notes
and free texts are deleted after the retention period (`HANDOFF_RETENTION_DAYS`). The ticket row
stays, so SLA figures and counts still add up; null means nothing was purged.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("purged_at")
