"""The initial schema: teams, attendants, tickets and their thread, notes, timeline, outbox.

Written out rather than imported from models.py, so that later changes to the models need a new
revision; tests/service/test_schema.py checks that migrating gives exactly the models' schema.

Revision ID: 0001
Revises:
Create Date: 2024-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("webhook_url", sa.String(2000)),
        sa.Column("webhook_secret", sa.String(200)),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
    )
    op.create_table(
        "attendants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_attendants"),
        sa.UniqueConstraint("username", name="uq_attendants_username"),
        sa.CheckConstraint("role IN ('attendant', 'supervisor')", name="ck_attendants_role"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("attendant_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team_id", "attendant_id", name="pk_team_members"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_team_members_team_id_teams", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["attendant_id"],
            ["attendants.id"],
            name="fk_team_members_attendant_id_attendants",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("team_id", sa.Integer()),
        sa.Column("assignee_id", sa.Integer()),
        sa.Column("rule", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON()),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("claimed_at", _when()),
        sa.Column("first_response_at", _when()),
        sa.Column("awaiting_since", _when()),
        sa.Column("closed_at", _when()),
        sa.Column("resolution", sa.String(20)),
        sa.Column("handed_back", sa.Boolean(), nullable=False),
        sa.Column("reopen_count", sa.Integer(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.UniqueConstraint("idempotency_key", name="uq_tickets_idempotency_key"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_tickets_team_id_teams"),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["attendants.id"], name="fk_tickets_assignee_id_attendants"
        ),
        sa.CheckConstraint(
            "status IN ('open', 'in_progress', 'awaiting_response', 'closed')",
            name="ck_tickets_status",
        ),
        sa.CheckConstraint("priority BETWEEN 0 AND 3", name="ck_tickets_priority"),
    )
    op.create_index(
        "uq_tickets_open_conversation",
        "tickets",
        ["conversation_id"],
        unique=True,
        sqlite_where=sa.text("status != 'closed'"),
        postgresql_where=sa.text("status != 'closed'"),
    )
    op.create_index("ix_tickets_conversation", "tickets", ["conversation_id", "created_at"])
    op.create_index("ix_tickets_inbox", "tickets", ["status", "team_id", "priority", "created_at"])
    op.create_index("ix_tickets_assignee", "tickets", ["assignee_id", "status", "created_at"])
    op.create_index("ix_tickets_listing", "tickets", ["priority", "created_at"])

    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("author", sa.String(20), nullable=False),
        sa.Column("attendant_id", sa.Integer()),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("attachments", sa.JSON(), nullable=False),
        sa.Column("sent_at", _when(), nullable=False),
        sa.Column("delivery", sa.String(20)),
        sa.Column("delivery_error", sa.Text()),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_messages_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["attendant_id"], ["attendants.id"], name="fk_messages_attendant_id_attendants"
        ),
        sa.UniqueConstraint("ticket_id", "event_id", name="uq_messages_ticket_event"),
        sa.CheckConstraint("author IN ('customer', 'bot', 'attendant')", name="ck_messages_author"),
    )
    op.create_index("ix_messages_thread", "messages", ["ticket_id", "sent_at", "id"])

    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("attendant_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notes"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_notes_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["attendant_id"], ["attendants.id"], name="fk_notes_attendant_id_attendants"
        ),
    )
    op.create_index("ix_notes_ticket", "notes", ["ticket_id", "id"])

    op.create_table(
        "transitions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=False),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("actor_kind", sa.String(20), nullable=False),
        sa.Column("actor_id", sa.String(100)),
        sa.Column("at", _when(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transitions"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_transitions_ticket_id_tickets",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_transitions_ticket", "transitions", ["ticket_id", "id"])

    op.create_table(
        "canned_replies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Integer()),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canned_replies"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_canned_replies_team_id_teams", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["attendants.id"], name="fk_canned_replies_created_by_attendants"
        ),
        sa.UniqueConstraint("team_id", "title", name="uq_canned_replies_team_title"),
    )

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _when(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("delivered_at", _when()),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name="fk_webhook_deliveries_team_id_teams",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )


def downgrade() -> None:
    for table in (
        "webhook_deliveries",
        "canned_replies",
        "transitions",
        "notes",
        "messages",
        "tickets",
        "team_members",
        "attendants",
        "teams",
    ):
        op.drop_table(table)
