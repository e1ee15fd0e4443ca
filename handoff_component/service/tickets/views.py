"""Tickets, messages, notes and timeline records as the API, the live stream and webhooks show
them: the JSON edge of the ticket store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.service.models import PRIORITY_NAME
from handoff_component.service.tickets.states import state_of


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


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
