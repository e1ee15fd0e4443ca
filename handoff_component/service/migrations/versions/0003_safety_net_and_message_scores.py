"""Tickets carry their channel's unclaimed timeout; customer messages carry their scores.

Messages get `scores`: HandoffScorer's figures for each customer turn, shown in the Inbox beside
the message (null for bot and attendant messages, and for turns without scores).

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
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("scores", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("scores")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("unclaimed_timeout_seconds")
