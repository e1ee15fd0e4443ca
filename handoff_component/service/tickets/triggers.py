"""Later triggers of a conversation whose ticket is open: written once each, as
`service.escalation` decides (timeline record, priority never lowered, a move when the rule
says so)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import HandoffRequest
from handoff_component.service import escalation
from handoff_component.service.models import ticket_triggers, tickets
from handoff_component.service.tickets.model import Ticket
from handoff_component.service.tickets.routing import Routing
from handoff_component.service.tickets.rows import ticket_select
from handoff_component.service.tickets.states import columns_of


class LaterTriggers(Routing):
    async def _record_trigger(
        self, conn: AsyncConnection, ticket_id: int, request: HandoffRequest, now: datetime
    ) -> escalation.Escalation | None:
        """A later trigger joined the open ticket `ticket_id`: lock it, count the request once
        (its key is unique in `ticket_triggers`), write what `escalation` decides. None for the
        ticket's own handoff (a retry) or a request counted already."""
        query = ticket_select().where(tickets.c.id == ticket_id)
        if self.db.locks_rows:
            query = query.with_for_update(of=tickets)
        row = (await conn.execute(query)).one()
        if row.idempotency_key == request.idempotency_key or row.status == "closed":
            return None
        counted = {"idempotency_key": request.idempotency_key, "rule": request.rule, "at": now}
        inserted = await self._insert_unless_conflict(
            conn, ticket_triggers, {"ticket_id": ticket_id, **counted}
        )
        if inserted is None:
            return None
        route = await self._route(conn, request.team) if request.move_open_ticket else None
        raised = escalation.escalate(
            Ticket.from_row(row).state,
            row.priority,
            request,
            now,
            move_to_team=route.team_id if route else None,
            routing_note=route.note if route else "",
        )
        await conn.execute(
            update(tickets)
            .where(tickets.c.id == ticket_id)
            .values(priority=raised.priority, **columns_of(raised.state, now))
        )
        await self._record(conn, ticket_id, raised.record)
        if raised.moved:
            moved = await self._ticket(conn, ticket_id)
            await self._queue_webhook(conn, moved.team_id, "ticket.transferred", moved)
        return raised
