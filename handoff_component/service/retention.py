"""Data retention: the content of tickets closed long ago is deleted, the ticket rows stay.

With `retention_days` set (`HANDOFF_RETENTION_DAYS`; unset by default, nothing is deleted), each
automation pass purges every ticket closed more than that many days ago: its messages, notes and
attachments (their rows, and their bytes in the database or on disk) are deleted, its free texts
(the handoff reason and summary, written from what the customer said) are blanked, the queued
webhook payloads that copied them are deleted once settled, and the ticket gets `purged_at`. Kept:
the ticket row with its status, team, timestamps, resolution and scores, and its transitions (ids
and enums only), so SLA figures and counts still add up.

A ticket reopened by the customer is not closed, so it is never purged while in use; a purge and a
reopen cannot interleave because both run in one transaction on the ticket's row. Conversations not
seen for the same period lose their row too (it holds the last customer text).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from handoff_component.service.attachments.storage import storages_for
from handoff_component.service.attachments.store import delete_files_of, discard_files
from handoff_component.service.db import Database
from handoff_component.service.models import (
    conversations,
    messages,
    notes,
    tickets,
    webhook_deliveries,
)
from handoff_component.service.settings import Settings

logger = logging.getLogger(__name__)

BATCH = 200


@dataclass
class RetentionPass:
    tickets_purged: int = 0
    messages_deleted: int = 0
    notes_deleted: int = 0
    files_deleted: int = 0
    conversations_deleted: int = 0


async def purge_expired(db: Database, settings: Settings) -> RetentionPass:
    """Purge what the retention period allows; a no-op while `retention_days` is unset."""
    result = RetentionPass()
    if settings.retention_days is None:
        return result
    now = settings.clock()
    cutoff = now - timedelta(days=settings.retention_days)
    storages = storages_for(settings)
    while True:
        deleted_files: dict[str, list[str]] = {}
        async with db.write() as conn:
            due = (
                (
                    await conn.execute(
                        select(tickets.c.id)
                        .where(
                            tickets.c.status == "closed",
                            tickets.c.closed_at < cutoff,
                            tickets.c.purged_at.is_(None),
                        )
                        .order_by(tickets.c.id)
                        .limit(BATCH)
                    )
                )
                .scalars()
                .all()
            )
            if not due:
                break
            # The update comes first: it re-checks the status (a ticket reopened since the query
            # keeps everything) and, on PostgreSQL, locks the rows until the deletes commit.
            await conn.execute(
                update(tickets)
                .where(tickets.c.id.in_(due), tickets.c.status == "closed")
                .values(reason="", summary=None, purged_at=now)
            )
            purged = (
                (
                    await conn.execute(
                        select(tickets.c.id).where(
                            tickets.c.id.in_(due), tickets.c.purged_at == now
                        )
                    )
                )
                .scalars()
                .all()
            )
            result.tickets_purged += len(purged)
            result.messages_deleted += (
                await conn.execute(delete(messages).where(messages.c.ticket_id.in_(purged)))
            ).rowcount
            result.notes_deleted += (
                await conn.execute(delete(notes).where(notes.c.ticket_id.in_(purged)))
            ).rowcount
            deleted_files = await delete_files_of(conn, storages, purged)
        # The files on disk go once their rows are gone for good (a rollback keeps both).
        await discard_files(storages, deleted_files)
        result.files_deleted += sum(len(ids) for ids in deleted_files.values())
        if len(due) < BATCH:
            break
    async with db.write() as conn:
        # Settled webhook payloads carry copies of ticket texts; pending ones are still owed.
        await conn.execute(
            delete(webhook_deliveries).where(
                webhook_deliveries.c.status != "pending", webhook_deliveries.c.created_at < cutoff
            )
        )
        result.conversations_deleted = (
            await conn.execute(delete(conversations).where(conversations.c.last_seen_at < cutoff))
        ).rowcount
    if result.tickets_purged:
        logger.info(
            "retention: purged %d ticket(s) closed before %s", result.tickets_purged, cutoff
        )
    return result
