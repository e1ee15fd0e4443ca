"""Everything the service holds about one conversation, in one JSON document, on request.

For a customer's request to see (or take away) their data, and for audits: every ticket of the
conversation, oldest first, each with its messages, notes and transitions as the API shows them and
the files attendants uploaded to it (name, type, size, SHA-256 and a signed link that fetches the
bytes until it expires), plus the live-conversation row when there is one. Supervisors only; each
export is logged with who asked, since it gathers customer text in one place.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from handoff_component.service.attachments.store import AttachmentStore
from handoff_component.service.db import Database
from handoff_component.service.errors import NotFound
from handoff_component.service.models import conversations, tickets
from handoff_component.service.tickets import TicketStore, detail_json

logger = logging.getLogger(__name__)


async def export_conversation(
    db: Database,
    store: TicketStore,
    files: AttachmentStore,
    conversation_id: str,
    *,
    requested_by: int,
    now: datetime,
) -> dict[str, Any]:
    """The conversation's data; `NotFound` when the service holds nothing about it."""
    async with db.read() as conn:
        ticket_ids = (
            (
                await conn.execute(
                    select(tickets.c.id)
                    .where(tickets.c.conversation_id == conversation_id)
                    .order_by(tickets.c.created_at, tickets.c.id)
                )
            )
            .scalars()
            .all()
        )
        live = (
            await conn.execute(
                select(conversations).where(conversations.c.conversation_id == conversation_id)
            )
        ).first()
    if not ticket_ids and live is None:
        raise NotFound(
            f"the service holds no data about conversation {conversation_id!r}",
            field="conversation_id",
        )
    logger.info(
        "conversation export: %d ticket(s) of a conversation, requested by attendant %s",
        len(ticket_ids),
        requested_by,
    )
    return {
        "conversation_id": conversation_id,
        "exported_at": now.isoformat(),
        "conversation": (
            {
                "channel": live.channel,
                "last_seen_at": live.last_seen_at.isoformat(),
                "last_text": live.last_text,
                "message_count": live.message_count,
            }
            if live is not None
            else None
        ),
        "tickets": [
            {
                **detail_json(await store.detail(ticket_id)),
                "attachments": [
                    {**stored.to_json(), "url": files.links.url(stored.id, now)[0]}
                    for stored in await files.of_ticket(ticket_id)
                ],
            }
            for ticket_id in ticket_ids
        ],
    }
