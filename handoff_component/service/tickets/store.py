"""The ticket store: every write of tickets, their thread, notes and timeline.

Each change runs in one transaction: read the ticket row (locked on PostgreSQL), let the pure state
machine (`core.ticket_lifecycle`) decide, write the new row, its timeline record, the message or
note, and any webhook in the outbox; publish the live notification only after the commit. Uniqueness
(idempotency key, one open ticket per conversation, an event once per ticket) is left to the
database's constraints, so two replicas racing each other cannot break it.

`TicketStore` is one object for its callers, made of its parts: routing (`routing.py`), reads
(`queries.py`), the mirror of Rasa's events (`mirror.py`) and, here, opening tickets and the
attendants' actions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import HandoffRequest, TranscriptMessage
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor, TransitionRecord
from handoff_component.service import access
from handoff_component.service.access import Viewer
from handoff_component.service.attachments.store import mark_sent
from handoff_component.service.db import Database
from handoff_component.service.errors import Conflict
from handoff_component.service.escalation import Escalation
from handoff_component.service.models import PRIORITY_RANK, messages, notes, tickets
from handoff_component.service.notifications import TicketEventBus
from handoff_component.service.settings import Settings
from handoff_component.service.tickets.mirror import EventMirror
from handoff_component.service.tickets.model import Message, Note, Ticket
from handoff_component.service.tickets.queries import TicketQueries
from handoff_component.service.tickets.queue import TeamQueue
from handoff_component.service.tickets.routing import Route, Routing
from handoff_component.service.tickets.rows import event_time
from handoff_component.service.tickets.states import columns_of
from handoff_component.service.tickets.triggers import LaterTriggers
from handoff_component.service.tickets.views import message_json, note_json


@dataclass
class NewReply:
    """An attendant's message before it is stored; `delivery` is its first delivery state.

    `attachments` are as the message keeps them: links (`Attachment.to_dict`) and references to
    files uploaded to the ticket (`StoredFile.reference`), whose ids are `file_ids`; those files
    become the reply's in its transaction, or the reply is refused (sent meanwhile)."""

    text: str
    attachments: list[dict[str, Any]]
    attendant_id: int
    delivery: str
    file_ids: list[str] = field(default_factory=list)


@dataclass
class ActionOutcome:
    """The ticket after an action, its timeline record, and the reply or note it carried."""

    ticket: Ticket
    record: TransitionRecord
    message: Message | None = None
    note: Note | None = None


class TicketStore(EventMirror, TicketQueries, LaterTriggers, TeamQueue, Routing):
    def __init__(self, db: Database, bus: TicketEventBus, settings: Settings) -> None:
        super().__init__(db, bus, settings)
        self._routes: dict[str | None, tuple[float, Route]] = {}

    # --- opening tickets ----------------------------------------------------------------------

    async def open_handoff(self, request: HandoffRequest) -> tuple[Ticket, bool]:
        """The ticket of a handoff: new (True), or the one this key or conversation already has.

        A second handoff of a conversation that already has an open ticket joins that ticket (its
        transcript is merged, each message once): the bot is already paused for it, and a
        second ticket would split the attendants' work. This is the hot path of the service, so
        it costs a handful of statements: one look-up, the insert (which lets the unique indexes
        decide any race with another replica), its timeline record and the transcript, and
        the three small reads of the team's queue that the expected wait is made of.
        """
        now = self.settings.clock()

        escalated: list[Escalation] = []

        async def work(conn: AsyncConnection) -> tuple[Ticket, bool]:
            escalated.clear()  # retried whole on a deadlock
            existing = await self._existing_ticket(conn, request)
            ticket = None if existing is not None else await self._create_ticket(conn, request, now)
            if ticket is None:
                # The key or the conversation has a ticket: found by the look-up, or inserted by
                # another replica since then (the unique indexes refused ours), found again.
                ticket_id = (
                    existing if existing is not None else await self._existing_ticket(conn, request)
                )
                if ticket_id is None:
                    raise Conflict("the ticket could not be created; retry", field=None)
                await self._append_messages(conn, ticket_id, request.transcript)
                # Another trigger of a conversation whose ticket is open (the bot kept talking).
                raised = await self._record_trigger(conn, ticket_id, request, now)
                if raised is not None:
                    escalated.append(raised)
                    # Raised or moved: its place in the queue, and so its wait, changed.
                    await self._estimate_again(conn, await self._ticket(conn, ticket_id), now)
                return await self._ticket(conn, ticket_id), False
            return ticket, True

        # Retried whole if PostgreSQL breaks a deadlock with a customer message reopening a
        # closed ticket of the same conversation at the same moment.
        ticket, created = await self.db.transaction(work)
        if created:
            self._publish("ticket.created", ticket)
        for raised in escalated:
            self._publish(
                "ticket.updated",
                ticket,
                {"action": raised.record.action},
                previous_team_id=raised.previous_team_id,
                previous_assignee_id=raised.previous_assignee_id,
            )
        return ticket, created

    async def _create_ticket(
        self, conn: AsyncConnection, request: HandoffRequest, now: datetime
    ) -> Ticket | None:
        """Insert a new handoff's ticket with its timeline record, transcript and webhook; the
        ticket, or None when the unique indexes refused it (another replica was first)."""
        route = await self._route(conn, request.team)
        priority = PRIORITY_RANK[request.priority]
        # What the customer is told to expect: behind every open ticket of the team now.
        wait = await self._estimate(conn, route.team_id, priority, now, None, now)
        state, record = lifecycle.open_ticket(
            now,
            team=str(route.team_id) if route.team_id else None,
            actor=Actor("rasa", request.rule),
        )
        values = {
            "idempotency_key": request.idempotency_key,
            "conversation_id": request.conversation_id,
            "channel": request.channel,
            "priority": priority,
            "rule": request.rule,
            "reason": request.reason,
            "scores": [dict(s) for s in request.scores],
            "summary": request.summary.to_dict() if request.summary else None,
            "unclaimed_timeout_seconds": request.unclaimed_timeout_seconds,
            "expected_wait_seconds": wait,
            "expected_wait_at": now if wait is not None else None,
            "wait_update_sent": False,
            "created_at": now,
            **columns_of(state, now),
        }
        ticket_id = await self._insert_unless_conflict(conn, tickets, values)
        if ticket_id is None:
            return None
        if route.note:
            record = TransitionRecord(
                record.action,
                record.actor,
                record.at,
                record.from_status,
                record.to_status,
                {**record.detail, "routing": route.note},
            )
        await self._record(conn, ticket_id, record)
        await self._append_messages(conn, ticket_id, request.transcript)
        ticket = Ticket.from_row(
            {
                **values,
                "id": ticket_id,
                "team_name": route.team_name,
                "team_display_name": route.team_display_name,
                "assignee_name": None,
            }
        )
        if route.has_webhook:
            await self._queue_webhook(conn, route.team_id, "ticket.created", ticket)
        return ticket

    async def _existing_ticket(self, conn: AsyncConnection, request: HandoffRequest) -> int | None:
        """The ticket of this idempotency key, else the conversation's open ticket."""
        rows = (
            await conn.execute(
                select(tickets.c.id, tickets.c.idempotency_key).where(
                    or_(
                        tickets.c.idempotency_key == request.idempotency_key,
                        and_(
                            tickets.c.conversation_id == request.conversation_id,
                            tickets.c.status != "closed",
                        ),
                    )
                )
            )
        ).all()
        for row in rows:
            if row.idempotency_key == request.idempotency_key:
                return row.id
        return rows[0].id if rows else None

    async def _append_messages(
        self, conn: AsyncConnection, ticket_id: int, transcript: Iterable[TranscriptMessage]
    ) -> None:
        rows = [
            {
                "ticket_id": ticket_id,
                "event_id": message.event_id,
                "author": message.sender,
                "attendant_id": None,
                "text": message.text,
                "attachments": [a.to_dict() for a in message.attachments],
                "sent_at": event_time(message.timestamp),
                "scores": message.scores,
                "delivery": None,
                "delivery_attempts": 0,
            }
            for message in transcript
        ]
        if rows:
            await conn.execute(self._insert_ignoring_duplicates(messages), rows)

    async def open_takeover(
        self,
        *,
        conversation_id: str,
        channel: str,
        team_id: int | None,
        reason: str,
        supervisor_id: int,
        priority: str = "normal",
    ) -> Ticket:
        """A ticket a supervisor opened on a live conversation, already claimed by them."""
        now = self.settings.clock()
        actor = Actor.attendant(supervisor_id)
        async with self.db.write() as conn:
            if await self._open_ticket_of(conn, conversation_id) is not None:
                raise Conflict(
                    f"conversation {conversation_id!r} already has an open ticket",
                    field="conversation_id",
                )
            state, created = lifecycle.open_ticket(
                now, team=str(team_id) if team_id else None, actor=actor
            )
            state, claimed = lifecycle.apply(state, lifecycle.Claim(str(supervisor_id)), actor, now)
            try:
                async with conn.begin_nested():
                    result = await conn.execute(
                        insert(tickets).values(
                            idempotency_key=f"takeover-{uuid.uuid4().hex}",
                            conversation_id=conversation_id,
                            channel=channel,
                            priority=PRIORITY_RANK[priority],
                            rule="manual_takeover",
                            reason=reason,
                            scores=[],
                            summary=None,
                            created_at=now,
                            **columns_of(state, now),
                        )
                    )
            except IntegrityError:
                raise Conflict(
                    f"conversation {conversation_id!r} already has an open ticket",
                    field="conversation_id",
                ) from None
            ticket_id = result.inserted_primary_key[0]
            await self._record(conn, ticket_id, created)
            await self._record(conn, ticket_id, claimed)
            ticket = await self._ticket(conn, ticket_id)
            await self._queue_webhook(conn, team_id, "ticket.created", ticket)
        self._publish("ticket.created", ticket)
        return ticket

    # --- attendant actions --------------------------------------------------------------------

    async def act(
        self,
        ticket_id: int,
        action: lifecycle.Action,
        actor: Actor,
        *,
        reply: NewReply | None = None,
        note: str | None = None,
        viewer: Viewer | None = None,
    ) -> ActionOutcome:
        """Apply one lifecycle action, with the reply or note it carries, in one transaction.

        `viewer` (None: the service itself) must be allowed the action on the ticket as it is
        now, under its lock, not as a route saw it a moment earlier: a claim or a reply racing
        a transfer is judged against the ticket the transfer left.
        """
        now = self.settings.clock()
        message: Message | None = None
        note_row: Note | None = None
        async with self.db.write() as conn:
            ticket = await self._locked(conn, ticket_id)
            access.require(viewer, action.name, ticket)
            before = ticket.state
            state, record = lifecycle.apply(before, action, actor, now)
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        update(tickets)
                        .where(tickets.c.id == ticket_id)
                        .values(**columns_of(state, now))
                    )
            except IntegrityError:
                # Reopening while the conversation already has another open ticket.
                raise Conflict(
                    f"conversation {ticket.conversation_id!r} already has an open ticket",
                    field="ticket_id",
                ) from None
            await self._record(conn, ticket_id, record)
            if reply is not None:
                result = await conn.execute(
                    insert(messages).values(
                        ticket_id=ticket_id,
                        event_id=f"attendant-{uuid.uuid4().hex}",
                        author="attendant",
                        attendant_id=reply.attendant_id,
                        text=reply.text,
                        attachments=reply.attachments,
                        sent_at=now,
                        delivery=reply.delivery,
                        delivery_attempts=0,
                    )
                )
                message_id = result.inserted_primary_key[0]
                await mark_sent(conn, reply.file_ids, ticket_id, message_id)
                message = Message.from_row(
                    (await conn.execute(select(messages).where(messages.c.id == message_id))).one()
                )
            if note is not None:
                result = await conn.execute(
                    insert(notes).values(
                        ticket_id=ticket_id,
                        attendant_id=int(actor.id or 0),
                        text=note,
                        created_at=now,
                    )
                )
                note_row = Note.from_row(
                    (
                        await conn.execute(
                            select(notes).where(notes.c.id == result.inserted_primary_key[0])
                        )
                    ).one()
                )
            after = await self._ticket(conn, ticket_id)
            transferred = isinstance(
                action, lifecycle.TransferToTeam | lifecycle.TransferToAttendant
            )
            if transferred and after.team_id is not None:
                await self._queue_webhook(conn, after.team_id, "ticket.transferred", after)
        previous_team = int(before.team) if before.team else None
        previous_assignee = int(before.assignee) if before.assignee else None
        self._publish(
            "ticket.updated",
            after,
            {"action": record.action},
            previous_team_id=previous_team,
            previous_assignee_id=previous_assignee,
        )
        if message is not None:
            self._publish("message.created", after, {"message": message_json(message)})
        if note_row is not None:
            self._publish("note.created", after, {"note": note_json(note_row)})
        return ActionOutcome(ticket=after, record=record, message=message, note=note_row)

    async def check(
        self,
        ticket_id: int,
        action: lifecycle.Action,
        actor: Actor,
        viewer: Viewer | None = None,
    ) -> None:
        """Raise `Forbidden` or `InvalidTransition` if `action` is not allowed now; changes
        nothing.

        Used before a side effect on Rasa's side (resume, pause), so an action that would be
        refused anyway does not touch the conversation; `act` checks again when it writes.
        """
        ticket = await self.get(ticket_id)
        access.require(viewer, action.name, ticket)
        lifecycle.apply(ticket.state, action, actor, self.settings.clock())

    async def authorized(self, ticket_id: int, viewer: Viewer, action: str) -> Ticket:
        """The ticket as it is now, if `viewer` may do `action` (typing, retry) to it."""
        ticket = await self.get(ticket_id)
        access.require(viewer, action, ticket)
        return ticket

    async def set_delivery(
        self, message_id: int, delivery: str, error: str | None, attempts: int
    ) -> Message:
        async with self.db.write() as conn:
            await conn.execute(
                update(messages)
                .where(messages.c.id == message_id)
                .values(
                    delivery=delivery,
                    delivery_error=error,
                    delivery_attempts=messages.c.delivery_attempts + attempts,
                )
            )
            row = (await conn.execute(select(messages).where(messages.c.id == message_id))).one()
            ticket = await self._ticket(conn, row.ticket_id)
        message = Message.from_row(row)
        self._publish("message.delivery", ticket, {"message": message_json(message)})
        return message
