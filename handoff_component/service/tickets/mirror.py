"""The mirror of Rasa's events: customer and bot messages copied into their conversation's ticket,
each exactly once, a customer message waking (or reopening) the ticket, an attendant's reply echoed
back by Rasa confirming its delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import REPLY_METADATA_KEY, BrokerEvent, EventBatch
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor, Status
from handoff_component.service import conversations
from handoff_component.service.models import messages, tickets
from handoff_component.service.tickets.model import Message, Ticket
from handoff_component.service.tickets.rows import StoreBase, event_time, ticket_select
from handoff_component.service.tickets.states import columns_of
from handoff_component.service.tickets.views import message_json


@dataclass
class EventOutcome:
    """What `POST /api/events` did with a batch; each event counts in exactly one bucket."""

    appended: int = 0
    duplicates: int = 0
    ignored: int = 0
    reopened: int = 0
    confirmed: int = 0

    @property
    def touched_tickets(self) -> bool:
        return bool(self.appended or self.reopened or self.confirmed)

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


# A live event to send once the transaction commits: its type, the ticket, the message.
Published = tuple[str, Ticket, dict[str, Any]]


class EventMirror(StoreBase):
    """`POST /api/events`: Rasa's tracker events into tickets."""

    async def append_events(self, batch: EventBatch) -> EventOutcome:
        """Mirror customer and bot messages into their conversation's ticket, each exactly once."""
        reopen_window = self.settings.reopen_window

        async def work(
            conn: AsyncConnection,
        ) -> tuple[EventOutcome, list[Published]]:
            outcome = EventOutcome()
            published: list[Published] = []
            await self._lock_conversations(conn, {e.sender_id for e in batch.events})
            for event in batch.events:
                if event.event == "user":
                    await self._customer_event(conn, event, reopen_window, outcome, published)
                elif event.event == "bot":
                    await self._bot_event(conn, event, outcome, published)
                else:
                    outcome.ignored += 1
            # Every customer message, ticket or not, keeps its conversation in the live list.
            await conversations.record(conn, self.db.dialect, batch.events)
            if self.db.dialect == "postgresql" and not outcome.touched_tickets:
                # Only the live-conversation list changed (an ordinary turn, no ticket): a view
                # rebuilt by the next message, not worth a WAL flush that Rasa's own tracker
                # commits on the same server would queue behind. Ticket data stays synchronous.
                await conn.execute(text("SET LOCAL synchronous_commit TO OFF"))
            return outcome, published

        outcome, published = await self.db.transaction(work)
        for kind, ticket, extra in published:
            self._publish(kind, ticket, extra)
        return outcome

    async def _lock_conversations(self, conn: AsyncConnection, conversation_ids: set[str]) -> None:
        """Lock every ticket of these conversations up front, in one fixed order.

        Batches from two replicas that touch the same conversations in different orders would
        otherwise each hold one ticket and wait for the other's (a deadlock PostgreSQL breaks by
        failing one of them). SQLite's write transaction is exclusive already.
        """
        if not self.db.locks_rows or not conversation_ids:
            return
        await conn.execute(
            select(tickets.c.id)
            .where(tickets.c.conversation_id.in_(sorted(conversation_ids)))
            .order_by(tickets.c.conversation_id, tickets.c.id)
            .with_for_update()
        )

    async def _ticket_for_customer(
        self, conn: AsyncConnection, conversation_id: str
    ) -> Ticket | None:
        """The open ticket, or the latest closed one (which the message may reopen)."""
        query = (
            ticket_select()
            .where(tickets.c.conversation_id == conversation_id)
            .order_by(
                tickets.c.status == "closed", tickets.c.created_at.desc(), tickets.c.id.desc()
            )
            .limit(1)
        )
        if self.db.locks_rows:
            query = query.with_for_update(of=tickets)
        row = (await conn.execute(query)).first()
        return Ticket.from_row(row) if row is not None else None

    async def _customer_event(
        self,
        conn: AsyncConnection,
        event: BrokerEvent,
        reopen_window: timedelta,
        outcome: EventOutcome,
        published: list[Published],
    ) -> None:
        ticket = await self._ticket_for_customer(conn, event.sender_id)
        if ticket is None:
            outcome.ignored += 1
            return
        now = self.settings.clock()
        try:
            state, record = lifecycle.apply(
                ticket.state, lifecycle.CustomerMessage(reopen_window), Actor.customer(), now
            )
        except lifecycle.InvalidTransition:
            outcome.ignored += 1  # closed and handed back, or past the window: the bot answers
            return
        if record.changed_status and await self._has_event(conn, ticket.id, event):
            outcome.duplicates += 1  # replayed: it reopened (or woke) the ticket the first time
            return
        if record.changed_status:
            columns = columns_of(state, now)
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        update(tickets).where(tickets.c.id == ticket.id).values(**columns)
                    )
            except IntegrityError:
                # A new handoff opened another ticket of this conversation while this message
                # came to reopen the closed one: the open ticket is the conversation's now, and
                # the message goes there.
                open_row = await self._ticket_for_customer(conn, event.sender_id)
                if open_row is None or open_row.is_closed:
                    raise
                return await self._customer_event(conn, event, reopen_window, outcome, published)
            await self._record(conn, ticket.id, record)
            if record.from_status == Status.CLOSED:
                outcome.reopened += 1
            ticket = ticket.moved_to(state, now)
        inserted = await self._insert_event_message(conn, ticket.id, event, "customer")
        if inserted is None:
            outcome.duplicates += 1
            return
        outcome.appended += 1
        if record.changed_status:
            published.append(("ticket.updated", ticket, {"action": record.action}))
        published.append(("message.created", ticket, {"message": message_json(inserted)}))

    async def _has_event(self, conn: AsyncConnection, ticket_id: int, event: BrokerEvent) -> bool:
        found = await conn.execute(
            select(messages.c.id).where(
                messages.c.ticket_id == ticket_id, messages.c.event_id == event.identity
            )
        )
        return found.first() is not None

    async def _insert_event_message(
        self, conn: AsyncConnection, ticket_id: int, event: BrokerEvent, author: str
    ) -> Message | None:
        """Append one Rasa message unless this ticket has it already; the message, or None."""
        values = {
            "ticket_id": ticket_id,
            "event_id": event.identity,
            "author": author,
            "attendant_id": None,
            "text": event.text or "",
            "attachments": [a.to_dict() for a in event.attachments()],
            "sent_at": event_time(event.timestamp),
            "scores": event.scores() if author == "customer" else None,
            "delivery": None,
            "delivery_error": None,
            "delivery_attempts": 0,
        }
        message_id = await self._insert_unless_conflict(conn, messages, values)
        if message_id is None:
            return None
        return Message.from_row({"id": message_id, **values})

    async def _bot_event(
        self,
        conn: AsyncConnection,
        event: BrokerEvent,
        outcome: EventOutcome,
        published: list[Published],
    ) -> None:
        echoed = event.metadata.get(REPLY_METADATA_KEY)
        if echoed is not None:
            # The attendant's own reply, coming back through Rasa's tracker: confirm, don't copy.
            result = await conn.execute(
                update(messages)
                .where(messages.c.id == _as_int(echoed), messages.c.author == "attendant")
                .values(delivery="delivered", delivery_error=None)
            )
            if result.rowcount:
                outcome.confirmed += 1
            else:
                outcome.ignored += 1
            return
        ticket_id = await self._open_ticket_of(conn, event.sender_id)
        if ticket_id is None:
            outcome.ignored += 1
            return
        inserted = await self._insert_event_message(conn, ticket_id, event, "bot")
        if inserted is None:
            outcome.duplicates += 1
            return
        outcome.appended += 1
        published.append(
            (
                "message.created",
                await self._ticket(conn, ticket_id),
                {"message": message_json(inserted)},
            )
        )


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
