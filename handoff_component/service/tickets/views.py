"""Tickets, messages, notes and timeline records as the API, the live stream and webhooks show
them: the JSON edge of the ticket store, and the way back for the ticket a replica relays.

`allowed_actions` is the answer of `access.allowed_actions` for the viewer the JSON is made for
(the lifecycle's alone when it is made for no one in particular: webhooks, the relay between
replicas); the Inbox enables its buttons from it and decides nothing itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handoff_component.contract import expected_wait_minutes
from handoff_component.core.ticket_lifecycle import Status
from handoff_component.service import access
from handoff_component.service.access import Viewer
from handoff_component.service.tickets.model import (
    AttendantRef,
    Message,
    Note,
    TeamRef,
    Ticket,
    TicketDetail,
    Transition,
)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def ticket_json(ticket: Ticket, viewer: Viewer | None = None) -> dict[str, Any]:
    """A ticket as the API shows it to `viewer`."""
    return {
        "id": ticket.id,
        "conversation_id": ticket.conversation_id,
        "channel": ticket.channel,
        "status": ticket.status.value,
        "priority": ticket.priority,
        "team": (
            {
                "id": ticket.team.id,
                "name": ticket.team.name,
                # What the customer is told ("a colleague from Billing").
                "display_name": ticket.team.display_name or ticket.team.name,
            }
            if ticket.team
            else None
        ),
        "assignee": (
            {"id": ticket.assignee.id, "display_name": ticket.assignee.display_name}
            if ticket.assignee
            else None
        ),
        "rule": ticket.rule,
        "reason": ticket.reason,
        "scores": ticket.scores,
        "summary": ticket.summary,
        "created_at": _iso(ticket.created_at),
        "claimed_at": _iso(ticket.claimed_at),
        "first_response_at": _iso(ticket.first_response_at),
        "awaiting_since": _iso(ticket.awaiting_since),
        "closed_at": _iso(ticket.closed_at),
        "resolution": ticket.resolution,
        "handed_back": ticket.handed_back,
        "reopen_count": ticket.reopen_count,
        "unclaimed_timeout_seconds": ticket.unclaimed_timeout_seconds,
        # What the customer was told to expect (null: unknown, nothing was said); the minutes
        # are the customer's "about N minutes", rounded once (contract.expected_wait_minutes).
        "expected_wait_seconds": ticket.expected_wait_seconds,
        "expected_wait_minutes": (
            expected_wait_minutes(ticket.expected_wait_seconds)
            if ticket.expected_wait_seconds is not None
            else None
        ),
        "expected_wait_at": _iso(ticket.expected_wait_at),
        "wait_update_sent": ticket.wait_update_sent,
        "purged_at": _iso(ticket.purged_at),
        "updated_at": _iso(ticket.updated_at),
        "allowed_actions": access.allowed_actions(viewer, ticket),
    }


def _own_name(display_name: str | None, name: str) -> str | None:
    return display_name if display_name and display_name != name else None


def ticket_from_json(data: dict[str, Any]) -> Ticket:
    """The ticket `ticket_json` made (what a live event carries), for the stream to show it to
    each of its viewers with their own `allowed_actions`."""
    team, assignee = data["team"], data["assignee"]
    created_at = _when(data["created_at"])
    assert created_at is not None
    return Ticket(
        id=data["id"],
        conversation_id=data["conversation_id"],
        channel=data["channel"],
        status=Status(data["status"]),
        priority=data["priority"],
        # The display name the JSON shows (the name when the team has none of its own).
        team=(
            TeamRef(team["id"], team["name"], _own_name(team.get("display_name"), team["name"]))
            if team
            else None
        ),
        assignee=AttendantRef(assignee["id"], assignee["display_name"]) if assignee else None,
        rule=data["rule"],
        reason=data["reason"],
        scores=data["scores"],
        summary=data["summary"],
        created_at=created_at,
        claimed_at=_when(data["claimed_at"]),
        first_response_at=_when(data["first_response_at"]),
        awaiting_since=_when(data["awaiting_since"]),
        closed_at=_when(data["closed_at"]),
        resolution=data["resolution"],
        handed_back=data["handed_back"],
        reopen_count=data["reopen_count"],
        unclaimed_timeout_seconds=data["unclaimed_timeout_seconds"],
        purged_at=_when(data["purged_at"]),
        updated_at=_when(data["updated_at"]),
        expected_wait_seconds=data.get("expected_wait_seconds"),
        expected_wait_at=_when(data.get("expected_wait_at")),
        wait_update_sent=bool(data.get("wait_update_sent")),
    )


def message_json(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,
        "event_id": message.event_id,
        "author": message.author,
        "attendant_id": message.attendant_id,
        "text": message.text,
        "attachments": message.attachments,
        "sent_at": _iso(message.sent_at),
        "scores": message.scores,
        "delivery": message.delivery,
        "delivery_error": message.delivery_error,
        "delivery_attempts": message.delivery_attempts,
    }


def note_json(note: Note) -> dict[str, Any]:
    return {
        "id": note.id,
        "ticket_id": note.ticket_id,
        "attendant_id": note.attendant_id,
        "text": note.text,
        "created_at": _iso(note.created_at),
    }


def transition_json(record: Transition) -> dict[str, Any]:
    return {
        "id": record.id,
        "action": record.action,
        "from_status": record.from_status,
        "to_status": record.to_status,
        "actor": {"kind": record.actor_kind, "id": record.actor_id},
        "at": _iso(record.at),
        "detail": record.detail,
    }


def detail_json(detail: TicketDetail, viewer: Viewer | None = None) -> dict[str, Any]:
    """The ticket page: the ticket with its thread, notes and timeline."""
    return {
        **ticket_json(detail.ticket, viewer),
        "messages": [message_json(m) for m in detail.messages],
        "notes": [note_json(n) for n in detail.notes],
        "timeline": [transition_json(t) for t in detail.timeline],
    }
