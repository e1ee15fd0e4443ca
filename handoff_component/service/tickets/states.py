"""A ticket row as the pure lifecycle sees it, and the columns a new lifecycle state writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Status, TicketState


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


def columns_of(state: TicketState, now: datetime) -> dict[str, Any]:
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
