"""The ticket store: every read and write of tickets, their thread, notes and timeline.

Each change runs in one transaction: read the ticket row (locked on PostgreSQL), let the pure state
machine (`core.ticket_lifecycle`) decide, write the new row, its timeline record, the message or
note, and any webhook in the outbox; publish the live notification only after the commit. Uniqueness
(idempotency key, one open ticket per conversation, an event once per ticket) is left to the
database's constraints, so two replicas racing each other cannot break it.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import (
    REPLY_METADATA_KEY,
    Attachment,
    BrokerEvent,
    EventBatch,
    HandoffRequest,
    TranscriptMessage,
)
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor, Status, TicketState, TransitionRecord
from handoff_component.service import access, conversations
from handoff_component.service.access import Viewer
from handoff_component.service.db import Database
from handoff_component.service.errors import BadRequest, Conflict, NotFound
from handoff_component.service.models import (
    PRIORITY_NAME,
    PRIORITY_RANK,
    attendants,
    messages,
    notes,
    teams,
    tickets,
    transitions,
    webhook_deliveries,
)
from handoff_component.service.notifications import TicketEvent, TicketEventBus
from handoff_component.service.settings import Settings

MAX_PAGE_SIZE = 200
# A team renamed, added or given a webhook is seen by new handoffs within this many seconds.
ROUTE_CACHE_SECONDS = 5.0
ACTIVE = frozenset(s.value for s in lifecycle.ACTIVE_STATUSES)


@dataclass(frozen=True)
class Route:
    team_id: int | None
    team_name: str | None
    note: str
    has_webhook: bool


@dataclass
class NewReply:
    """An attendant's message before it is stored; `delivery` is its first delivery state."""

    text: str
    attachments: list[Attachment]
    attendant_id: int
    delivery: str


@dataclass
class ActionOutcome:
    ticket: dict[str, Any]
    record: TransitionRecord
    message: dict[str, Any] | None = None
    note: dict[str, Any] | None = None


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


def _ticket_columns() -> list[Any]:
    return [
        tickets,
        teams.c.name.label("team_name"),
        attendants.c.display_name.label("assignee_name"),
    ]


def _ticket_select() -> Any:
    return select(*_ticket_columns()).select_from(
        tickets.outerjoin(teams, tickets.c.team_id == teams.c.id).outerjoin(
            attendants, tickets.c.assignee_id == attendants.c.id
        )
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def state_of(row: Any) -> TicketState:
    """The lifecycle's view of a ticket row (teams and attendants by id, as strings)."""
    return TicketState(
        status=Status(row.status),
        created_at=row.created_at,
        team=str(row.team_id) if row.team_id is not None else None,
        assignee=str(row.assignee_id) if row.assignee_id is not None else None,
        claimed_at=row.claimed_at,
        first_response_at=row.first_response_at,
        awaiting_since=row.awaiting_since,
        closed_at=row.closed_at,
        resolution=lifecycle.Resolution(row.resolution) if row.resolution else None,
        handed_back=bool(row.handed_back),
        reopen_count=row.reopen_count,
    )


@dataclass(frozen=True)
class RowTicket:
    """A ticket row as the access rules read it (`access.Held`)."""

    row: Any

    @property
    def team_id(self) -> int | None:
        return self.row.team_id

    @property
    def assignee_id(self) -> int | None:
        return self.row.assignee_id

    @property
    def state(self) -> TicketState:
        return state_of(self.row)


def _columns_of(state: TicketState, now: datetime) -> dict[str, Any]:
    return {
        "status": state.status.value,
        "team_id": int(state.team) if state.team is not None else None,
        "assignee_id": int(state.assignee) if state.assignee is not None else None,
        "claimed_at": state.claimed_at,
        "first_response_at": state.first_response_at,
        "awaiting_since": state.awaiting_since,
        "closed_at": state.closed_at,
        "resolution": state.resolution.value if state.resolution else None,
        "handed_back": state.handed_back,
        "reopen_count": state.reopen_count,
        "updated_at": now,
    }


def ticket_view(row: Any) -> dict[str, Any]:
    """A ticket as the API shows it."""
    state = state_of(row)
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "channel": row.channel,
        "status": row.status,
        "priority": PRIORITY_NAME[row.priority],
        "team": {"id": row.team_id, "name": row.team_name} if row.team_id is not None else None,
        "assignee": (
            {"id": row.assignee_id, "display_name": row.assignee_name}
            if row.assignee_id is not None
            else None
        ),
        "rule": row.rule,
        "reason": row.reason,
        "scores": row.scores,
        "summary": row.summary,
        "created_at": _iso(row.created_at),
        "claimed_at": _iso(row.claimed_at),
        "first_response_at": _iso(row.first_response_at),
        "awaiting_since": _iso(row.awaiting_since),
        "closed_at": _iso(row.closed_at),
        "resolution": row.resolution,
        "handed_back": bool(row.handed_back),
        "reopen_count": row.reopen_count,
        "unclaimed_timeout_seconds": getattr(row, "unclaimed_timeout_seconds", None),
        "purged_at": _iso(getattr(row, "purged_at", None)),
        "updated_at": _iso(row.updated_at),
        "allowed_actions": lifecycle.allowed_actions(state),
    }


def message_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket_id": row.ticket_id,
        "event_id": row.event_id,
        "author": row.author,
        "attendant_id": row.attendant_id,
        "text": row.text,
        "attachments": row.attachments,
        "sent_at": _iso(row.sent_at),
        "scores": getattr(row, "scores", None),
        "delivery": row.delivery,
        "delivery_error": row.delivery_error,
        "delivery_attempts": row.delivery_attempts,
    }


def note_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "ticket_id": row.ticket_id,
        "attendant_id": row.attendant_id,
        "text": row.text,
        "created_at": _iso(row.created_at),
    }


def transition_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "action": row.action,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "actor": {"kind": row.actor_kind, "id": row.actor_id},
        "at": _iso(row.at),
        "detail": row.detail,
    }


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


def _event_time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


class TicketStore:
    def __init__(self, db: Database, bus: TicketEventBus, settings: Settings) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings
        self._routes: dict[str | None, tuple[float, Route]] = {}

    # --- helpers inside a transaction -------------------------------------------------------

    def _insert_ignoring_duplicates(self, table: Any) -> Any:
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    async def _locked_row(self, conn: AsyncConnection, ticket_id: int) -> Any:
        query = _ticket_select().where(tickets.c.id == ticket_id)
        if self.db.locks_rows:
            query = query.with_for_update(of=tickets)
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist", field="ticket_id")
        return row

    async def _view(self, conn: AsyncConnection, ticket_id: int) -> dict[str, Any]:
        row = (await conn.execute(_ticket_select().where(tickets.c.id == ticket_id))).one()
        return ticket_view(row)

    async def _record(
        self, conn: AsyncConnection, ticket_id: int, record: TransitionRecord
    ) -> None:
        await conn.execute(
            insert(transitions).values(
                ticket_id=ticket_id,
                action=record.action,
                from_status=record.from_status.value,
                to_status=record.to_status.value,
                actor_kind=record.actor.kind,
                actor_id=record.actor.id,
                at=record.at,
                detail=record.detail,
            )
        )

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
                "sent_at": _event_time(message.timestamp),
                "scores": message.scores,
                "delivery": None,
                "delivery_attempts": 0,
            }
            for message in transcript
        ]
        if rows:
            await conn.execute(self._insert_ignoring_duplicates(messages), rows)

    async def _queue_webhook(
        self, conn: AsyncConnection, team_id: int | None, event: str, ticket: dict[str, Any]
    ) -> None:
        if team_id is None:
            return
        webhook_url = (
            await conn.execute(select(teams.c.webhook_url).where(teams.c.id == team_id))
        ).scalar()
        if not webhook_url:
            return
        now = self.settings.clock()
        await conn.execute(
            insert(webhook_deliveries).values(
                team_id=team_id,
                event=event,
                payload={"event": event, "ticket": ticket, "occurred_at": now.isoformat()},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )

    async def resolve_team(self, conn: AsyncConnection, name: str | None) -> tuple[int | None, str]:
        """The team a handoff goes to; an unknown name falls back to the default team, noted."""
        note = ""
        if name:
            team_id = (await conn.execute(select(teams.c.id).where(teams.c.name == name))).scalar()
            if team_id is not None:
                return team_id, note
            note = f"team {name!r} is unknown"
        fallback = self.settings.default_team
        if fallback:
            team_id = (
                await conn.execute(select(teams.c.id).where(teams.c.name == fallback))
            ).scalar()
            if team_id is not None:
                return team_id, (note + f"; routed to {fallback!r}").lstrip("; ")
        return None, (note + "; left without a team (supervisors see it)").lstrip("; ")

    # --- opening tickets ----------------------------------------------------------------------

    async def open_handoff(self, request: HandoffRequest) -> tuple[dict[str, Any], bool]:
        """The ticket of a handoff: new (True), or the one this key or conversation already has.

        A second handoff of a conversation that already has an open ticket joins that ticket (its
        transcript is merged, each message once): the bot is already paused for it, and a
        second ticket would split the attendants' work. This is the hot path of the service, so
        it costs a handful of statements: one look-up, the insert (which lets the unique indexes
        decide any race with another replica), its timeline record and the transcript.
        """
        now = self.settings.clock()

        async def work(conn: AsyncConnection) -> tuple[dict[str, Any], bool]:
            existing = await self._existing_ticket(conn, request)
            view = None if existing is not None else await self._create_ticket(conn, request, now)
            if view is None:
                # The key or the conversation has a ticket: found by the look-up, or inserted by
                # another replica since then (the unique indexes refused ours), found again.
                ticket_id = (
                    existing if existing is not None else await self._existing_ticket(conn, request)
                )
                if ticket_id is None:
                    raise Conflict("the ticket could not be created; retry", field=None)
                await self._append_messages(conn, ticket_id, request.transcript)
                return await self._view(conn, ticket_id), False
            return view, True

        # Retried whole if PostgreSQL breaks a deadlock with a customer message reopening a
        # closed ticket of the same conversation at the same moment.
        view, created = await self.db.transaction(work)
        if created:
            self._publish("ticket.created", view)
        return view, created

    async def _create_ticket(
        self, conn: AsyncConnection, request: HandoffRequest, now: datetime
    ) -> dict[str, Any] | None:
        """Insert a new handoff's ticket with its timeline record, transcript and webhook; its
        view, or None when the unique indexes refused it (another replica was first)."""
        route = await self._route(conn, request.team)
        state, record = lifecycle.open_ticket(
            now,
            team=str(route.team_id) if route.team_id else None,
            actor=Actor("rasa", request.rule),
        )
        values = {
            "idempotency_key": request.idempotency_key,
            "conversation_id": request.conversation_id,
            "channel": request.channel,
            "priority": PRIORITY_RANK[request.priority],
            "rule": request.rule,
            "reason": request.reason,
            "scores": [dict(s) for s in request.scores],
            "summary": request.summary.to_dict() if request.summary else None,
            "unclaimed_timeout_seconds": request.unclaimed_timeout_seconds,
            "created_at": now,
            **_columns_of(state, now),
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
        view = ticket_view(
            SimpleNamespace(id=ticket_id, team_name=route.team_name, assignee_name=None, **values)
        )
        if route.has_webhook:
            await self._queue_webhook(conn, route.team_id, "ticket.created", view)
        return view

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

    async def _insert_unless_conflict(
        self, conn: AsyncConnection, table: Any, values: dict[str, Any]
    ) -> int | None:
        """Insert one row and return its id, or None if a unique constraint refused it."""
        statement = self._insert_ignoring_duplicates(table).values(**values)
        if self.db.dialect == "postgresql":
            return (await conn.execute(statement.returning(table.c.id))).scalar()
        result = await conn.execute(statement)
        return result.lastrowid if result.rowcount == 1 else None

    async def _route(self, conn: AsyncConnection, name: str | None) -> Route:
        """Where a handoff naming team `name` goes; cached briefly, as teams rarely change."""
        cached = self._routes.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        team_id, note = await self.resolve_team(conn, name)
        team_name = has_webhook = None
        if team_id is not None:
            row = (
                await conn.execute(
                    select(teams.c.name, teams.c.webhook_url).where(teams.c.id == team_id)
                )
            ).one()
            team_name, has_webhook = row.name, bool(row.webhook_url)
        route = Route(team_id, team_name, note, bool(has_webhook))
        self._routes[name] = (time.monotonic() + ROUTE_CACHE_SECONDS, route)
        return route

    async def _open_ticket_of(self, conn: AsyncConnection, conversation_id: str) -> int | None:
        return (
            await conn.execute(
                select(tickets.c.id).where(
                    tickets.c.conversation_id == conversation_id, tickets.c.status != "closed"
                )
            )
        ).scalar()

    async def open_takeover(
        self,
        *,
        conversation_id: str,
        channel: str,
        team_id: int | None,
        reason: str,
        supervisor_id: int,
        priority: str = "normal",
    ) -> dict[str, Any]:
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
                            **_columns_of(state, now),
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
            view = await self._view(conn, ticket_id)
            await self._queue_webhook(conn, team_id, "ticket.created", view)
        self._publish("ticket.created", view)
        return view

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
        message = note_row = None
        async with self.db.write() as conn:
            row = await self._locked_row(conn, ticket_id)
            access.require(viewer, action.name, RowTicket(row))
            before = state_of(row)
            state, record = lifecycle.apply(before, action, actor, now)
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        update(tickets)
                        .where(tickets.c.id == ticket_id)
                        .values(**_columns_of(state, now))
                    )
            except IntegrityError:
                # Reopening while the conversation already has another open ticket.
                raise Conflict(
                    f"conversation {row.conversation_id!r} already has an open ticket",
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
                        attachments=[a.to_dict() for a in reply.attachments],
                        sent_at=now,
                        delivery=reply.delivery,
                        delivery_attempts=0,
                    )
                )
                message_id = result.inserted_primary_key[0]
                message = message_view(
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
                note_row = note_view(
                    (
                        await conn.execute(
                            select(notes).where(notes.c.id == result.inserted_primary_key[0])
                        )
                    ).one()
                )
            view = await self._view(conn, ticket_id)
            transferred = isinstance(
                action, lifecycle.TransferToTeam | lifecycle.TransferToAttendant
            )
            if transferred and view["team"]:
                await self._queue_webhook(conn, view["team"]["id"], "ticket.transferred", view)
        previous_team = int(before.team) if before.team else None
        previous_assignee = int(before.assignee) if before.assignee else None
        self._publish(
            "ticket.updated",
            view,
            {"action": record.action},
            previous_team_id=previous_team,
            previous_assignee_id=previous_assignee,
        )
        if message is not None:
            self._publish("message.created", view, {"message": message})
        if note_row is not None:
            self._publish("note.created", view, {"note": note_row})
        return ActionOutcome(ticket=view, record=record, message=message, note=note_row)

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
        row = await self._current_row(ticket_id)
        access.require(viewer, action.name, RowTicket(row))
        lifecycle.apply(state_of(row), action, actor, self.settings.clock())

    async def authorized(self, ticket_id: int, viewer: Viewer, action: str) -> dict[str, Any]:
        """The ticket as it is now, if `viewer` may do `action` (typing, retry) to it."""
        row = await self._current_row(ticket_id)
        access.require(viewer, action, RowTicket(row))
        return ticket_view(row)

    async def _current_row(self, ticket_id: int) -> Any:
        async with self.db.read() as conn:
            row = (await conn.execute(_ticket_select().where(tickets.c.id == ticket_id))).first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist", field="ticket_id")
        return row

    async def open_ticket_of(self, conversation_id: str) -> int | None:
        async with self.db.read() as conn:
            return await self._open_ticket_of(conn, conversation_id)

    async def set_delivery(
        self, message_id: int, delivery: str, error: str | None, attempts: int
    ) -> dict[str, Any]:
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
            view = await self._view(conn, row.ticket_id)
        message = message_view(row)
        self._publish("message.delivery", view, {"message": message})
        return message

    async def message(self, ticket_id: int, message_id: int) -> dict[str, Any]:
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
        return message_view(row)

    # --- Rasa's events --------------------------------------------------------------------------

    async def append_events(self, batch: EventBatch) -> EventOutcome:
        """Mirror customer and bot messages into their conversation's ticket, each exactly once."""
        reopen_window = self.settings.reopen_window

        async def work(
            conn: AsyncConnection,
        ) -> tuple[EventOutcome, list[tuple[str, dict[str, Any], dict[str, Any]]]]:
            outcome = EventOutcome()
            published: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
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
        for kind, view, extra in published:
            self._publish(kind, view, extra)
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

    async def _ticket_for_customer(self, conn: AsyncConnection, conversation_id: str) -> Any:
        """The open ticket, or the latest closed one (which the message may reopen)."""
        query = (
            _ticket_select()
            .where(tickets.c.conversation_id == conversation_id)
            .order_by(
                tickets.c.status == "closed", tickets.c.created_at.desc(), tickets.c.id.desc()
            )
            .limit(1)
        )
        if self.db.locks_rows:
            query = query.with_for_update(of=tickets)
        return (await conn.execute(query)).first()

    async def _customer_event(
        self,
        conn: AsyncConnection,
        event: BrokerEvent,
        reopen_window: timedelta,
        outcome: EventOutcome,
        published: list[tuple[str, dict[str, Any], dict[str, Any]]],
    ) -> None:
        row = await self._ticket_for_customer(conn, event.sender_id)
        if row is None:
            outcome.ignored += 1
            return
        now = self.settings.clock()
        try:
            state, record = lifecycle.apply(
                state_of(row), lifecycle.CustomerMessage(reopen_window), Actor.customer(), now
            )
        except lifecycle.InvalidTransition:
            outcome.ignored += 1  # closed and handed back, or past the window: the bot answers
            return
        if record.changed_status and await self._has_event(conn, row.id, event):
            outcome.duplicates += 1  # replayed: it reopened (or woke) the ticket the first time
            return
        view_row: Any = row
        if record.changed_status:
            columns = _columns_of(state, now)
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        update(tickets).where(tickets.c.id == row.id).values(**columns)
                    )
            except IntegrityError:
                # A new handoff opened another ticket of this conversation while this message
                # came to reopen the closed one: the open ticket is the conversation's now, and
                # the message goes there.
                open_row = await self._ticket_for_customer(conn, event.sender_id)
                if open_row is None or open_row.status == Status.CLOSED.value:
                    raise
                return await self._customer_event(conn, event, reopen_window, outcome, published)
            await self._record(conn, row.id, record)
            if record.from_status == Status.CLOSED:
                outcome.reopened += 1
            view_row = SimpleNamespace(**{**row._mapping, **columns})
        inserted = await self._insert_event_message(conn, row.id, event, "customer")
        if inserted is None:
            outcome.duplicates += 1
            return
        outcome.appended += 1
        view = ticket_view(view_row)
        if record.changed_status:
            published.append(("ticket.updated", view, {"action": record.action}))
        published.append(("message.created", view, {"message": inserted}))

    async def _has_event(self, conn: AsyncConnection, ticket_id: int, event: BrokerEvent) -> bool:
        found = await conn.execute(
            select(messages.c.id).where(
                messages.c.ticket_id == ticket_id, messages.c.event_id == event.identity
            )
        )
        return found.first() is not None

    async def _insert_event_message(
        self, conn: AsyncConnection, ticket_id: int, event: BrokerEvent, author: str
    ) -> dict[str, Any] | None:
        """Append one Rasa message unless this ticket has it already; its view, or None."""
        values = {
            "ticket_id": ticket_id,
            "event_id": event.identity,
            "author": author,
            "attendant_id": None,
            "text": event.text or "",
            "attachments": [a.to_dict() for a in event.attachments()],
            "sent_at": _event_time(event.timestamp),
            "scores": event.scores() if author == "customer" else None,
            "delivery": None,
            "delivery_error": None,
            "delivery_attempts": 0,
        }
        message_id = await self._insert_unless_conflict(conn, messages, values)
        if message_id is None:
            return None
        return message_view(SimpleNamespace(id=message_id, **values))

    async def _bot_event(
        self,
        conn: AsyncConnection,
        event: BrokerEvent,
        outcome: EventOutcome,
        published: list[tuple[str, dict[str, Any], dict[str, Any]]],
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
            ("message.created", await self._view(conn, ticket_id), {"message": inserted})
        )

    # --- reading --------------------------------------------------------------------------------

    async def get(self, ticket_id: int) -> dict[str, Any]:
        async with self.db.read() as conn:
            row = (await conn.execute(_ticket_select().where(tickets.c.id == ticket_id))).first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist", field="ticket_id")
        return ticket_view(row)

    async def detail(self, ticket_id: int) -> dict[str, Any]:
        """The ticket with its thread, notes and timeline, as the Inbox's ticket page shows it."""
        async with self.db.read() as conn:
            row = (await conn.execute(_ticket_select().where(tickets.c.id == ticket_id))).first()
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
            return {
                **ticket_view(row),
                "messages": [message_view(m) for m in thread],
                "notes": [note_view(n) for n in ticket_notes],
                "timeline": [transition_view(t) for t in timeline],
            }

    async def list(self, viewer: Viewer, filters: TicketFilter) -> dict[str, Any]:
        """One page of the inbox, most urgent first, then oldest first; keyset-paginated."""
        query = _ticket_select()
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
        return {
            "tickets": [ticket_view(r) for r in page],
            "next_cursor": encode_cursor(page[-1]) if len(rows) > limit else None,
        }

    async def count_by_status(self, viewer: Viewer) -> dict[str, int]:
        query = select(tickets.c.status, func.count()).group_by(tickets.c.status)
        visible = access.visibility_clause(viewer)
        if visible is not None:
            query = query.where(visible)
        async with self.db.read() as conn:
            counts = dict((await conn.execute(query)).all())
        return {status.value: int(counts.get(status.value, 0)) for status in Status}

    # --- automation -----------------------------------------------------------------------------

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

    # --- notifications --------------------------------------------------------------------------

    def _publish(
        self,
        kind: str,
        view: dict[str, Any],
        extra: dict[str, Any] | None = None,
        *,
        previous_team_id: int | None = None,
        previous_assignee_id: int | None = None,
    ) -> None:
        self.bus.publish(
            TicketEvent(
                type=kind,
                ticket_id=view["id"],
                team_id=view["team"]["id"] if view["team"] else None,
                assignee_id=view["assignee"]["id"] if view["assignee"] else None,
                data={"ticket": view, **(extra or {})},
                previous_team_id=previous_team_id,
                previous_assignee_id=previous_assignee_id,
            )
        )


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1
