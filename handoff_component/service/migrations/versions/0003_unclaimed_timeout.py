"""Tickets carry their channel's unclaimed timeout (the safety net of `handoff.yml`).

After that many seconds without a claim, the service tells Rasa to take the conversation back
(the customer is told) and closes the ticket as `unclaimed`. Null keeps the old behaviour: a
ticket waits for an attendant as long as it takes.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("unclaimed_timeout_seconds", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("unclaimed_timeout_seconds")
