"""The service's typed ticket: built from rows, turned into JSON only at the edges, and read back
from the JSON a live event carries (the stream shows it to each viewer with their own actions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from handoff_component.core import ticket_lifecycle as lc
from handoff_component.service.access import Viewer
from handoff_component.service.tickets import (
    AttendantRef,
    TeamRef,
    Ticket,
    ticket_from_json,
    ticket_json,
)

NOW = datetime(2026, 1, 5, 9, 30, tzinfo=timezone.utc)


def _ticket(**changes: object) -> Ticket:
    values: dict[str, object] = {
        "id": 7,
        "conversation_id": "conv-7",
        "channel": "socketio",
        "status": "in_progress",
        "priority": 2,
        "team_id": 3,
        "team_name": "support",
        "assignee_id": 11,
        "assignee_name": "Ana Lima",
        "rule": "angry_sentiment",
        "reason": "The customer is upset",
        "scores": [{"sentiment": -0.7}],
        "summary": {"reason": "upset", "topics": ["order"]},
        "created_at": NOW,
        "claimed_at": NOW + timedelta(minutes=1),
        "first_response_at": NOW + timedelta(minutes=2),
        "awaiting_since": None,
        "closed_at": None,
        "resolution": None,
        "handed_back": False,
        "reopen_count": 1,
        "unclaimed_timeout_seconds": 300.0,
        "purged_at": None,
        "updated_at": NOW + timedelta(minutes=2),
    }
    values.update(changes)
    return Ticket.from_row(values)


def test_a_ticket_is_built_from_its_row_with_its_team_and_holder() -> None:
    ticket = _ticket()

    assert (ticket.status, ticket.priority, ticket.team, ticket.assignee) == (
        lc.Status.IN_PROGRESS,
        "high",
        TeamRef(3, "support"),
        AttendantRef(11, "Ana Lima"),
    )
    assert (ticket.team_id, ticket.assignee_id, ticket.state.assignee) == (3, 11, "11")


def test_the_json_a_live_event_carries_reads_back_as_the_same_ticket() -> None:
    told = {
        "status": "open",
        "assignee_id": None,
        "team_display_name": "Customer support",
        "expected_wait_seconds": 540.0,
        "expected_wait_at": NOW,
        "wait_update_sent": True,
    }
    for ticket in (
        _ticket(),
        _ticket(team_id=None, assignee_id=None, status="open"),
        _ticket(**told),
    ):
        assert ticket_from_json(ticket_json(ticket)) == ticket


def test_the_json_says_what_its_viewer_may_do() -> None:
    ticket = _ticket()
    holder = Viewer(11, "attendant", frozenset({3}))
    team_mate = Viewer(12, "attendant", frozenset({3}))

    assert ticket_json(ticket)["allowed_actions"] == lc.allowed_actions(ticket.state)
    assert ticket_json(ticket, holder)["allowed_actions"] == lc.allowed_actions(ticket.state)
    assert ticket_json(ticket, team_mate)["allowed_actions"] == ["note"]


def test_moving_a_ticket_keeps_its_team_and_holder_or_refuses() -> None:
    ticket = _ticket()
    state, _record = lc.apply(
        ticket.state, lc.CustomerMessage(timedelta(hours=1)), lc.Actor.customer(), NOW
    )

    moved = ticket.moved_to(state, NOW)

    assert (moved.status, moved.team, moved.assignee) == (
        state.status,
        ticket.team,
        ticket.assignee,
    )
    other = lc.TicketState(**{**state.__dict__, "assignee": "99"})
    with pytest.raises(ValueError, match="keeps the team and the holder"):
        ticket.moved_to(other, NOW)
