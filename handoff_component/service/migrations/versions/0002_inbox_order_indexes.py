"""Inbox indexes that end in the listing order, so a page stops after `limit` rows.

The inbox lists most urgent first, oldest first within a priority, then by id. The first indexes
(0001) had the right columns but not that order (priority ascending), so every listing sorted all
matching tickets; with 100,000 tickets that cost tens of milliseconds. These end in
`priority DESC, created_at, id`, and open work gets a partial index of its own.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ORDER = [sa.text("priority DESC"), "created_at", "id"]


def upgrade() -> None:
    op.drop_index("ix_tickets_inbox", table_name="tickets")
    op.drop_index("ix_tickets_assignee", table_name="tickets")
    op.drop_index("ix_tickets_listing", table_name="tickets")
    op.create_index("ix_tickets_order", "tickets", ORDER)
    op.create_index("ix_tickets_status_order", "tickets", ["status", *ORDER])
    op.create_index("ix_tickets_team_status_order", "tickets", ["team_id", "status", *ORDER])
    op.create_index("ix_tickets_assignee_order", "tickets", ["assignee_id", *ORDER])
    op.create_index(
        "ix_tickets_active_order",
        "tickets",
        ORDER,
        sqlite_where=sa.text("status != 'closed'"),
        postgresql_where=sa.text("status != 'closed'"),
    )


def downgrade() -> None:
    for name in (
        "ix_tickets_active_order",
        "ix_tickets_assignee_order",
        "ix_tickets_team_status_order",
        "ix_tickets_status_order",
        "ix_tickets_order",
    ):
        op.drop_index(name, table_name="tickets")
    op.create_index("ix_tickets_inbox", "tickets", ["status", "team_id", "priority", "created_at"])
    op.create_index("ix_tickets_assignee", "tickets", ["assignee_id", "status", "created_at"])
    op.create_index("ix_tickets_listing", "tickets", ["priority", "created_at"])
