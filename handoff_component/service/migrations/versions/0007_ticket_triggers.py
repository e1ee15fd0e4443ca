"""Later triggers of a conversation whose ticket is open are recorded once each.

On a channel whose safety net does not pause the bot, a rule can fire again while the ticket is
open (a legal threat after a billing complaint). That firing is recorded on the ticket's timeline
and may raise its priority or move it; this table holds each such request's idempotency key, so a
retried or raced request does it once.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_triggers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_ticket_triggers_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_triggers"),
        sa.UniqueConstraint("idempotency_key", name="uq_ticket_triggers_idempotency_key"),
    )
    op.create_index("ix_ticket_triggers_ticket", "ticket_triggers", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_ticket_triggers_ticket", table_name="ticket_triggers")
    op.drop_table("ticket_triggers")
