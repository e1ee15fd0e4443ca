"""Tickets keep the expected wait the customer was told.

`expected_wait_seconds` is the service's estimate of the wait for a claim when the ticket opened
(`handoff_component.service.expected_wait`, null when unknown), `expected_wait_at` when it was
made, and `wait_update_sent` whether the one update of a wait that grew a lot was sent to the
waiting customer, so the Inbox shows the figure the customer heard. Two indexes let the estimate
read a team's latest claims and unclaimed hand-backs without scanning its history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (SQLite has them): a batch here would copy the table and lose the DESC
    # of its inbox indexes.
    op.add_column("tickets", sa.Column("expected_wait_seconds", sa.Float(), nullable=True))
    op.add_column(
        "tickets", sa.Column("expected_wait_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "tickets",
        sa.Column("wait_update_sent", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_tickets_team_claimed", "tickets", ["team_id", "claimed_at"])
    op.create_index(
        "ix_tickets_team_unclaimed",
        "tickets",
        ["team_id", "closed_at"],
        sqlite_where=sa.text("resolution = 'unclaimed'"),
        postgresql_where=sa.text("resolution = 'unclaimed'"),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_team_unclaimed", table_name="tickets")
    op.drop_index("ix_tickets_team_claimed", table_name="tickets")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("wait_update_sent")
        batch.drop_column("expected_wait_at")
        batch.drop_column("expected_wait_seconds")
