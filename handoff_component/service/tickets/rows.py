"""The SQL every part of the ticket store shares: the ticket select, row to lifecycle state and
back, and the writes inside a transaction (timeline records, inserts a unique index may refuse).

`StoreBase` holds what the store's parts (routing, queries, the mirror of Rasa's events, the
attendant actions in `store.py`) all need: the database, the live bus and the settings.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import TransitionRecord
from handoff_component.service.db import Database
from handoff_component.service.errors import NotFound
from handoff_component.service.models import attendants, teams, tickets, transitions
from handoff_component.service.notifications import TicketEvent, TicketEventBus
from handoff_component.service.settings import Settings
from handoff_component.service.tickets.model import Ticket
from handoff_component.service.tickets.views import ticket_json

ACTIVE = frozenset(s.value for s in lifecycle.ACTIVE_STATUSES)


def ticket_columns() -> list[Any]:
    return [
        tickets,
        teams.c.name.label("team_name"),
        teams.c.display_name.label("team_display_name"),
        attendants.c.display_name.label("assignee_name"),
    ]


def ticket_select() -> Any:
    return select(*ticket_columns()).select_from(
        tickets.outerjoin(teams, tickets.c.team_id == teams.c.id).outerjoin(
            attendants, tickets.c.assignee_id == attendants.c.id
        )
    )


def event_time(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


class StoreBase:
    """The database, bus and settings, and the helpers every part of the store writes with."""

    def __init__(self, db: Database, bus: TicketEventBus, settings: Settings) -> None:
        self.db = db
        self.bus = bus
        self.settings = settings

    def _insert_ignoring_duplicates(self, table: Any) -> Any:
        dialect = postgresql if self.db.dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    async def _locked(self, conn: AsyncConnection, ticket_id: int) -> Ticket:
        """The ticket, its row locked (on PostgreSQL) until the transaction ends."""
        query = ticket_select().where(tickets.c.id == ticket_id)
        if self.db.locks_rows:
            query = query.with_for_update(of=tickets)
        row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist", field="ticket_id")
        return Ticket.from_row(row)

    async def _ticket(self, conn: AsyncConnection, ticket_id: int) -> Ticket:
        row = (await conn.execute(ticket_select().where(tickets.c.id == ticket_id))).one()
        return Ticket.from_row(row)

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

    async def _insert_unless_conflict(
        self, conn: AsyncConnection, table: Any, values: dict[str, Any]
    ) -> int | None:
        """Insert one row and return its id, or None if a unique constraint refused it."""
        statement = self._insert_ignoring_duplicates(table).values(**values)
        if self.db.dialect == "postgresql":
            return (await conn.execute(statement.returning(table.c.id))).scalar()
        result = await conn.execute(statement)
        return result.lastrowid if result.rowcount == 1 else None

    async def _open_ticket_of(self, conn: AsyncConnection, conversation_id: str) -> int | None:
        return (
            await conn.execute(
                select(tickets.c.id).where(
                    tickets.c.conversation_id == conversation_id, tickets.c.status != "closed"
                )
            )
        ).scalar()

    async def get(self, ticket_id: int) -> Ticket:
        """The ticket as it is now; `NotFound` if there is none of that id."""
        async with self.db.read() as conn:
            row = (await conn.execute(ticket_select().where(tickets.c.id == ticket_id))).first()
        if row is None:
            raise NotFound(f"ticket {ticket_id} does not exist", field="ticket_id")
        return Ticket.from_row(row)

    def _publish(
        self,
        kind: str,
        ticket: Ticket,
        extra: dict[str, Any] | None = None,
        *,
        previous_team_id: int | None = None,
        previous_assignee_id: int | None = None,
    ) -> None:
        """Tell the live streams (after the commit). The bus carries JSON, as it crosses to other
        replicas; each stream shows the ticket with its own viewer's `allowed_actions`."""
        self.bus.publish(
            TicketEvent(
                type=kind,
                ticket_id=ticket.id,
                team_id=ticket.team_id,
                assignee_id=ticket.assignee_id,
                data={"ticket": ticket_json(ticket), **(extra or {})},
                previous_team_id=previous_team_id,
                previous_assignee_id=previous_assignee_id,
            )
        )
