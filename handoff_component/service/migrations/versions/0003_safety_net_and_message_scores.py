"""Tickets carry their channel's unclaimed timeout; customer messages carry their scores.

Messages get `scores`: HandoffScorer's figures for each customer turn, shown in the Inbox beside
the message (null for bot and attendant messages, and for turns without scores).

`conversations` has one row per conversation a customer wrote in (ticket or not): its channel, last
message and when it was seen, so supervisors can take over a live bot conversation from the Inbox.

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
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(100), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_text", sa.Text(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_conversations"),
    )
    op.create_index("ix_conversations_last_seen", "conversations", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_conversations_last_seen", table_name="conversations")
    op.drop_table("conversations")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("scores")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("unclaimed_timeout_seconds")
