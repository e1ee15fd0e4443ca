"""Live bot conversations: every conversation a customer writes in, with or without a ticket.

The event broker sends the service every tracker event; `record` keeps one row per conversation
(channel, last message, when it was seen, how many customer messages), written in the same
transaction as the rest of `POST /api/events`, one upsert per conversation of the batch.
Supervisors list the recent ones that have no open ticket to take one over from the Inbox.

`last_seen_at` is the time of the newest customer event (Rasa's timestamp), and a message counts
only when it is newer than that: a replayed batch, or an event arriving late, changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, case, exists, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import BrokerEvent
from handoff_component.service.db import Database
from handoff_component.service.models import conversations, tickets
from handoff_component.service.settings import Settings

MAX_LAST_TEXT = 500


def _event_time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


async def record(conn: AsyncConnection, dialect_name: str, events: Iterable[BrokerEvent]) -> None:
    """Upsert the conversations of a batch's customer messages: one statement per conversation."""
    by_conversation: dict[str, list[BrokerEvent]] = defaultdict(list)
    for event in events:
        if event.event == "user":
            by_conversation[event.sender_id].append(event)
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table = conversations.c
    # A fixed order, so two replicas writing the same conversations lock them in the same order.
    for conversation_id in sorted(by_conversation):
        batch = by_conversation[conversation_id]
        newest = max(batch, key=lambda e: e.timestamp)
        channel = newest.input_channel or next(
            (e.input_channel for e in reversed(batch) if e.input_channel), None
        )
        statement = dialect.insert(conversations).values(
            conversation_id=conversation_id,
            channel=channel,
            last_seen_at=_event_time(newest.timestamp),
            last_text=(newest.text or "")[:MAX_LAST_TEXT],
            message_count=len(batch),
        )
        new = statement.excluded
        is_newer = new.last_seen_at > table.last_seen_at
        # Only the events newer than the row's last one count (a replay counts nothing).
        newer_events = [
            case(
                (table.last_seen_at < _event_time(e.timestamp), literal_column("1")),
                else_=literal_column("0"),
            )
            for e in batch
        ]
        added: Any = newer_events[0]
        for term in newer_events[1:]:
            added = added + term
        statement = statement.on_conflict_do_update(
            index_elements=[table.conversation_id],
            set_={
                "message_count": table.message_count + added,
                "last_seen_at": case((is_newer, new.last_seen_at), else_=table.last_seen_at),
                "last_text": case((is_newer, new.last_text), else_=table.last_text),
                "channel": case(
                    (is_newer, func.coalesce(new.channel, table.channel)), else_=table.channel
                ),
            },
        )
        await conn.execute(statement)


def conversation_view(row: Any) -> dict[str, Any]:
    return {
        "conversation_id": row.conversation_id,
        "channel": row.channel,
        "last_seen_at": row.last_seen_at.isoformat(),
        "last_text": row.last_text,
        "message_count": row.message_count,
    }


class ConversationStore:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings

    async def live(self, active_minutes: int, limit: int) -> list[dict[str, Any]]:
        """Conversations seen in the last `active_minutes` without an open ticket, newest first."""
        since = self.settings.clock() - timedelta(minutes=active_minutes)
        open_ticket = exists().where(
            and_(
                tickets.c.conversation_id == conversations.c.conversation_id,
                tickets.c.status != "closed",
            )
        )
        query = (
            select(conversations)
            .where(conversations.c.last_seen_at >= since, ~open_ticket)
            .order_by(conversations.c.last_seen_at.desc(), conversations.c.conversation_id)
            .limit(limit)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [conversation_view(row) for row in rows]
