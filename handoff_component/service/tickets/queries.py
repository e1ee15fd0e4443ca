"""Reading tickets: one ticket, its detail page, the Inbox's keyset-paginated list, the counts, and
the tickets automation must act on."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, or_, select, text

from handoff_component.core.ticket_lifecycle import Status
from handoff_component.service import access
from handoff_component.service.access import Viewer
from handoff_component.service.errors import BadRequest, NotFound
from handoff_component.service.models import PRIORITY_NAME, messages, notes, tickets, transitions
from handoff_component.service.tickets.model import Message, Note, Ticket, TicketDetail, Transition
from handoff_component.service.tickets.rows import ACTIVE, StoreBase, ticket_select

MAX_PAGE_SIZE = 200


@dataclass
class TicketFilter:
    statuses: list[str] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    assignee_id: int | None = None
    unassigned: bool = False
    conversation_id: str | None = None
    rule: str | None = None
    limit: int = 50
    cursor: str | None = None


def encode_cursor(row: Any) -> str:
    raw = json.dumps([row.priority, row.created_at.isoformat(), row.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


MAX_CURSOR_LENGTH = 200


def decode_cursor(cursor: str) -> tuple[int, datetime, int]:
    """The keyset a cursor names; `BadRequest` for anything this service could not have issued.

    A cursor comes from the client, so every part is checked before it reaches a query: a
    priority of the column's range, an aware timestamp, an id of the column's range.
    """
    refused = BadRequest("cursor is not one this service issued", field="cursor")
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise refused
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        priority, created_at, ticket_id = json.loads(base64.urlsafe_b64decode(padded))
        moment = datetime.fromisoformat(created_at)
        moment.astimezone(timezone.utc)  # an aware time that exists in UTC
    except (ValueError, TypeError, OverflowError, RecursionError) as error:
        raise refused from error
    valid = (
        all(type(n) is int for n in (priority, ticket_id))
        and priority in PRIORITY_NAME
        and 0 < ticket_id <= 2**31 - 1
        and moment.tzinfo is not None
    )
    if not valid:
        raise refused
    return priority, moment, ticket_id


@dataclass(frozen=True)
class TicketPage:
    """One page of the Inbox's list, and the cursor of the next (None on the last)."""

    tickets: list[Ticket]
    next_cursor: str | None


class TicketQueries(StoreBase):
    """The store's reads."""

    async def detail(self, ticket_id: int) -> TicketDetail:
        """The ticket with its thread, notes and timeline, as the Inbox's ticket page shows it."""
        async with self.db.read() as conn:
            row = (await conn.execute(ticket_select().where(tickets.c.id == ticket_id))).first()
            if row is None:
                raise NotFound(f"ticket {ticket_id} does not exist", field="ticket_id")
            thread = await conn.execute(
                select(messages)
                .where(messages.c.ticket_id == ticket_id)
                .order_by(messages.c.sent_at, messages.c.id)
            )
            ticket_notes = await conn.execute(
                select(notes).where(notes.c.ticket_id == ticket_id).order_by(notes.c.id)
            )
            timeline = await conn.execute(
                select(transitions)
                .where(transitions.c.ticket_id == ticket_id)
                .order_by(transitions.c.id)
            )
            return TicketDetail(
                ticket=Ticket.from_row(row),
                messages=[Message.from_row(m) for m in thread],
                notes=[Note.from_row(n) for n in ticket_notes],
                timeline=[Transition.from_row(t) for t in timeline],
            )

    async def list(self, viewer: Viewer, filters: TicketFilter) -> TicketPage:
        """One page of the inbox, most urgent first, then oldest first; keyset-paginated."""
        query = ticket_select()
        conditions = []
        statuses = set(filters.statuses)
        if statuses == ACTIVE:
            # Written as a literal, not a bound parameter: only then do SQLite and PostgreSQL
            # (with its generic plans for prepared statements) match the partial index.
            conditions.append(text("tickets.status != 'closed'"))
        elif len(statuses) == 1:
            conditions.append(tickets.c.status == statuses.pop())
        elif statuses:
            conditions.append(tickets.c.status.in_(sorted(statuses)))
        if filters.team_ids:
            conditions.append(tickets.c.team_id.in_(filters.team_ids))
        if filters.assignee_id is not None:
            conditions.append(tickets.c.assignee_id == filters.assignee_id)
        if filters.unassigned:
            conditions.append(tickets.c.assignee_id.is_(None))
        if filters.conversation_id:
            conditions.append(tickets.c.conversation_id == filters.conversation_id)
        if filters.rule:
            conditions.append(tickets.c.rule == filters.rule)
        visible = access.visibility_clause(viewer)
        if visible is not None:
            conditions.append(visible)
        if filters.cursor:
            priority, created_at, last_id = decode_cursor(filters.cursor)
            conditions.append(
                or_(
                    tickets.c.priority < priority,
                    and_(
                        tickets.c.priority == priority,
                        or_(
                            tickets.c.created_at > created_at,
                            and_(tickets.c.created_at == created_at, tickets.c.id > last_id),
                        ),
                    ),
                )
            )
        limit = max(1, min(filters.limit, MAX_PAGE_SIZE))
        query = (
            query.where(*conditions)
            .order_by(tickets.c.priority.desc(), tickets.c.created_at, tickets.c.id)
            .limit(limit + 1)
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        page = rows[:limit]
        return TicketPage(
            tickets=[Ticket.from_row(r) for r in page],
            next_cursor=encode_cursor(page[-1]) if len(rows) > limit else None,
        )

    async def count_by_status(self, viewer: Viewer) -> dict[str, int]:
        query = select(tickets.c.status, func.count()).group_by(tickets.c.status)
        visible = access.visibility_clause(viewer)
        if visible is not None:
            query = query.where(visible)
        async with self.db.read() as conn:
            counts = dict((await conn.execute(query)).all())
        return {status.value: int(counts.get(status.value, 0)) for status in Status}

    async def message(self, ticket_id: int, message_id: int) -> Message:
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(messages).where(
                        messages.c.id == message_id, messages.c.ticket_id == ticket_id
                    )
                )
            ).first()
        if row is None:
            raise NotFound(f"message {message_id} of ticket {ticket_id} does not exist")
        return Message.from_row(row)

    async def open_ticket_of(self, conversation_id: str) -> int | None:
        async with self.db.read() as conn:
            return await self._open_ticket_of(conn, conversation_id)

    async def due_for_inactivity(self, now: datetime, limit: timedelta) -> Sequence[int]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(tickets.c.id).where(
                    tickets.c.status == Status.AWAITING_RESPONSE.value,
                    tickets.c.awaiting_since <= now - limit,
                )
            )
            return [r.id for r in rows]

    async def due_for_unclaimed(self, now: datetime) -> Sequence[tuple[int, timedelta]]:
        """Open, never-claimed tickets past their channel's unclaimed timeout, with that limit.

        Few tickets wait unclaimed at once, so the deadline is compared here rather than with
        date arithmetic that SQLite and PostgreSQL spell differently.
        """
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(tickets.c.id, tickets.c.created_at, tickets.c.unclaimed_timeout_seconds)
                .where(
                    tickets.c.status == Status.OPEN.value,
                    tickets.c.assignee_id.is_(None),
                    tickets.c.unclaimed_timeout_seconds.is_not(None),
                )
                .order_by(tickets.c.created_at)
            )
            due = []
            for row in rows:
                limit = timedelta(seconds=row.unclaimed_timeout_seconds)
                if row.created_at + limit <= now:
                    due.append((row.id, limit))
            return due

    async def due_for_hand_back(self, now: datetime, window: timedelta) -> Sequence[int]:
        async with self.db.read() as conn:
            rows = await conn.execute(
                select(tickets.c.id).where(
                    tickets.c.status == Status.CLOSED.value,
                    tickets.c.handed_back.is_(False),
                    tickets.c.closed_at <= now - window,
                )
            )
            return [r.id for r in rows]
