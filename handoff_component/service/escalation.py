"""A later trigger of a conversation whose ticket is still open.

On a channel whose safety net says `auto_pause: false` the bot keeps talking after a handoff, so
a rule can fire again while the ticket waits or is worked: "I want a person" after a billing
complaint, a legal threat after a refund request. That handoff joins the open ticket (one open
ticket per conversation), and here it is made visible instead of vanishing: a `trigger` record on
the ticket's timeline (rule, reason, scores), the ticket's priority raised to the rule's when that
is higher (never lowered), and, when the rule says `move_open_ticket: true`, the ticket moved to
the rule's team (a transfer, as an attendant's would be, recorded too).

Each request counts once: its idempotency key is stored in `ticket_triggers` under a unique
constraint, so a retried request, or the same one from two Rasa replicas, changes nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import HandoffRequest
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor, TransitionRecord
from handoff_component.service import tickets as ticket_rows
from handoff_component.service.models import PRIORITY_NAME, PRIORITY_RANK, ticket_triggers
from handoff_component.service.models import tickets as tickets_table

if TYPE_CHECKING:
    from datetime import datetime

    from handoff_component.service.tickets import TicketStore

TRIGGER_ACTION = "trigger"


@dataclass(frozen=True)
class Escalation:
    """What a later trigger did to the open ticket, for the live notification after commit."""

    record: TransitionRecord
    previous_team_id: int | None
    previous_assignee_id: int | None


async def record_trigger(
    store: TicketStore,
    conn: AsyncConnection,
    ticket_id: int,
    request: HandoffRequest,
    now: datetime,
) -> Escalation | None:
    """Record `request` on the open ticket it joined and escalate the ticket; None when the
    request is the ticket's own (a retry of the first handoff) or was recorded already."""
    row = await store._locked_row(conn, ticket_id)
    if row.idempotency_key == request.idempotency_key or row.status == "closed":
        return None
    inserted = await store._insert_unless_conflict(
        conn,
        ticket_triggers,
        {
            "ticket_id": ticket_id,
            "idempotency_key": request.idempotency_key,
            "rule": request.rule,
            "at": now,
        },
    )
    if inserted is None:
        return None
    actor = Actor("rasa", request.rule)
    state = ticket_rows.state_of(row)
    priority = max(row.priority, PRIORITY_RANK[request.priority])
    moved_record: TransitionRecord | None = None
    route_note = ""
    if request.move_open_ticket and request.team:
        route = await store._route(conn, request.team)
        route_note = route.note
        if route.team_id is not None and route.team_id != row.team_id:
            state, moved_record = lifecycle.apply(
                state, lifecycle.TransferToTeam(str(route.team_id)), actor, now
            )
    await conn.execute(
        update(tickets_table)
        .where(tickets_table.c.id == ticket_id)
        .values(priority=priority, **ticket_rows._columns_of(state, now))
    )
    detail = {
        "rule": request.rule,
        "reason": request.reason,
        "scores": dict(request.scores[-1]) if request.scores else {},
        "team": request.team,
        "priority": {"from": PRIORITY_NAME[row.priority], "to": PRIORITY_NAME[priority]},
        "requested_priority": request.priority,
        "moved": moved_record is not None,
    }
    if route_note:
        detail["routing"] = route_note
    record = TransitionRecord(TRIGGER_ACTION, actor, now, state.status, state.status, detail)
    if moved_record is not None:
        record = TransitionRecord(
            TRIGGER_ACTION,
            actor,
            now,
            moved_record.from_status,
            moved_record.to_status,
            {**detail, **moved_record.detail},
        )
    await store._record(conn, ticket_id, record)
    if moved_record is not None:
        view = await store._view(conn, ticket_id)
        await store._queue_webhook(conn, view["team"]["id"], "ticket.transferred", view)
    return Escalation(record, row.team_id, row.assignee_id)
