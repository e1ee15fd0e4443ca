"""The database schema, as SQLAlchemy Core tables (the migrations must match it; a test checks).

Constraints that keep the data right live here rather than in code paths: one open ticket per
conversation (a partial unique index), one ticket per idempotency key, each Rasa event appended at
most once per ticket.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator):
    """Timestamps in UTC everywhere: SQLite stores them naive, PostgreSQL as timestamptz."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def _when() -> UtcDateTime:
    return UtcDateTime()


teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("webhook_url", String(2000)),
    Column("webhook_secret", String(200)),
    Column("created_at", _when(), nullable=False),
)

attendants = Table(
    "attendants",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", _when(), nullable=False),
    CheckConstraint("role IN ('attendant', 'supervisor')", name="role"),
)

team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "attendant_id", Integer, ForeignKey("attendants.id", ondelete="CASCADE"), primary_key=True
    ),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("idempotency_key", String(200), nullable=False, unique=True),
    Column("conversation_id", String(200), nullable=False),
    Column("channel", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    # 0 low .. 3 urgent, so the inbox can sort on an index.
    Column("priority", SmallInteger, nullable=False),
    Column("team_id", Integer, ForeignKey("teams.id")),
    Column("assignee_id", Integer, ForeignKey("attendants.id")),
    Column("rule", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("summary", JSON),
    Column("created_at", _when(), nullable=False),
    Column("claimed_at", _when()),
    Column("first_response_at", _when()),
    Column("awaiting_since", _when()),
    Column("closed_at", _when()),
    Column("resolution", String(20)),
    Column("handed_back", Boolean, nullable=False, default=False),
    Column("reopen_count", Integer, nullable=False, default=0),
    # The channel's safety net: seconds an open ticket may wait for a claim (null: forever).
    Column("unclaimed_timeout_seconds", Float),
    # The expected wait for a claim the customer was told (seconds, null: unknown), when it
    # was estimated, and whether the one update of a wait that grew was sent (expected_wait.py).
    Column("expected_wait_seconds", Float),
    Column("expected_wait_at", _when()),
    Column("wait_update_sent", Boolean, nullable=False, default=False),
    # Set when the retention pass deleted the ticket's messages, notes and texts (retention.py).
    Column("purged_at", _when()),
    Column("updated_at", _when(), nullable=False),
    CheckConstraint(
        "status IN ('open', 'in_progress', 'awaiting_response', 'closed')", name="status"
    ),
    CheckConstraint("priority BETWEEN 0 AND 3", name="priority"),
    Index(
        "uq_tickets_open_conversation",
        "conversation_id",
        unique=True,
        sqlite_where=text("status != 'closed'"),
        postgresql_where=text("status != 'closed'"),
    ),
    Index("ix_tickets_conversation", "conversation_id", "created_at"),
)

# The inbox lists most urgent first, oldest first within a priority, then by id (the keyset of its
# pagination). Each index below ends in that order, so a page is read in index order and stops
# after `limit` rows instead of sorting every matching ticket.
_INBOX_ORDER = (tickets.c.priority.desc(), tickets.c.created_at, tickets.c.id)
Index("ix_tickets_order", *_INBOX_ORDER)
Index("ix_tickets_status_order", tickets.c.status, *_INBOX_ORDER)
Index("ix_tickets_team_status_order", tickets.c.team_id, tickets.c.status, *_INBOX_ORDER)
Index("ix_tickets_assignee_order", tickets.c.assignee_id, *_INBOX_ORDER)
# Open work is a small share of all tickets: its own partial index keeps the default view fast.
Index(
    "ix_tickets_active_order",
    *_INBOX_ORDER,
    sqlite_where=text("status != 'closed'"),
    postgresql_where=text("status != 'closed'"),
)

# The expected wait reads a team's latest claims, and its latest tickets handed back unclaimed
# (tickets/queue.py): each a short range of its own index, however long the history.
Index("ix_tickets_team_claimed", tickets.c.team_id, tickets.c.claimed_at)
Index(
    "ix_tickets_team_unclaimed",
    tickets.c.team_id,
    tickets.c.closed_at,
    sqlite_where=text("resolution = 'unclaimed'"),
    postgresql_where=text("resolution = 'unclaimed'"),
)

messages = Table(
    "messages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    # The Rasa event identity for customer and bot messages, a service id for attendants'.
    Column("event_id", String(200), nullable=False),
    Column("author", String(20), nullable=False),
    Column("attendant_id", Integer, ForeignKey("attendants.id")),
    Column("text", Text, nullable=False),
    Column("attachments", JSON, nullable=False),
    Column("sent_at", _when(), nullable=False),
    # Customer messages: HandoffScorer's figures for that turn (null when it had none).
    Column("scores", JSON),
    # Attendant messages only: pending, delivered, failed, not_configured.
    Column("delivery", String(20)),
    Column("delivery_error", Text),
    Column("delivery_attempts", Integer, nullable=False, default=0),
    UniqueConstraint("ticket_id", "event_id", name="uq_messages_ticket_event"),
    CheckConstraint("author IN ('customer', 'bot', 'attendant')", name="author"),
    Index("ix_messages_thread", "ticket_id", "sent_at", "id"),
)

notes = Table(
    "notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("attendant_id", Integer, ForeignKey("attendants.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", _when(), nullable=False),
    Index("ix_notes_ticket", "ticket_id", "id"),
)

transitions = Table(
    "transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("action", String(40), nullable=False),
    Column("from_status", String(20), nullable=False),
    Column("to_status", String(20), nullable=False),
    Column("actor_kind", String(20), nullable=False),
    Column("actor_id", String(100)),
    Column("at", _when(), nullable=False),
    Column("detail", JSON, nullable=False),
    Index("ix_transitions_ticket", "ticket_id", "id"),
)

# Each later handoff (another trigger) that reached a ticket already open, once per idempotency
# key: a retried or raced request is recorded and escalates the ticket only once.
ticket_triggers = Table(
    "ticket_triggers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("idempotency_key", String(200), nullable=False),
    Column("rule", String(200), nullable=False),
    Column("at", _when(), nullable=False),
    UniqueConstraint("idempotency_key", name="uq_ticket_triggers_idempotency_key"),
    Index("ix_ticket_triggers_ticket", "ticket_id"),
)

# Files attendants uploaded to a ticket (attachments/): what the service sniffed and stored. The
# id is random (the unguessable part of every link); `storage` says where the bytes are, so a
# change of HANDOFF_ATTACHMENT_STORAGE keeps the files stored before it. `message_id` is the reply
# that sent the file (null: uploaded, not sent yet). Deleting a ticket's content deletes these.
attachments = Table(
    "attachments",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("ticket_id", Integer, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("uploaded_by", Integer, ForeignKey("attendants.id"), nullable=False),
    Column("message_id", Integer, ForeignKey("messages.id", ondelete="SET NULL")),
    Column("name", String(200), nullable=False),
    Column("mime_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage", String(20), nullable=False),
    Column("created_at", _when(), nullable=False),
    CheckConstraint("storage IN ('directory', 'database')", name="storage"),
    Index("ix_attachments_ticket", "ticket_id"),
)

# The bytes of the attachments stored in the database (PostgreSQL's bytea): one row per file,
# apart from the metadata so that listing a ticket's files never reads them.
attachment_contents = Table(
    "attachment_contents",
    metadata,
    Column(
        "attachment_id",
        String(64),
        ForeignKey("attachments.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("content", LargeBinary, nullable=False),
)

canned_replies = Table(
    "canned_replies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("created_by", Integer, ForeignKey("attendants.id")),
    Column("updated_at", _when(), nullable=False),
    UniqueConstraint("team_id", "title", name="uq_canned_replies_team_title"),
)

# The outbox of team webhooks: written in the same transaction as the ticket change it reports,
# so a crash never loses a notification, and retried with backoff by a background task.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), nullable=False),
    Column("event", String(40), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", _when(), nullable=False),
    Column("last_error", Text),
    Column("created_at", _when(), nullable=False),
    Column("delivered_at", _when()),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
)

# Conversations the bot is having, ticket or not: each customer message seen by the event broker,
# one row per conversation, so supervisors can pick a live one to take over.
conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("channel", String(100)),
    Column("last_seen_at", _when(), nullable=False),
    Column("last_text", Text, nullable=False),
    Column("message_count", Integer, nullable=False, default=0),
    Index("ix_conversations_last_seen", "last_seen_at"),
)

# One row per failed sign-in and key (`user:<name>`, `ip:<address>`): the throttle counts here, not
# in a process's memory, so N replicas do not give a guesser N times the limit (ratelimit.py).
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(300), nullable=False),
    Column("failed_at", _when(), nullable=False),
    Index("ix_login_failures_key_time", "key", "failed_at"),
    Index("ix_login_failures_time", "failed_at"),
)

# One row per signed-in session: a token is valid only while its row exists and has not expired,
# so signing out, changing a password or deactivating an attendant ends sessions at once, on every
# replica (auth.py, attendants.py).
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column(
        "attendant_id", Integer, ForeignKey("attendants.id", ondelete="CASCADE"), nullable=False
    ),
    Column("created_at", _when(), nullable=False),
    Column("expires_at", _when(), nullable=False),
    Index("ix_sessions_attendant", "attendant_id"),
    Index("ix_sessions_expires", "expires_at"),
)

PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
PRIORITY_NAME = {rank: name for name, rank in PRIORITY_RANK.items()}
