"""The service's tickets as typed objects: what the store reads from its rows and hands to the
routes, automation and the live stream. JSON is made of them only at the edges (`views.py`).

A `Ticket` is what `access` judges (`access.Held`: its team, its holder, its lifecycle state), so
the rules and the store read the same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from handoff_component.core.ticket_lifecycle import Status, TicketState
from handoff_component.service.models import PRIORITY_NAME
from handoff_component.service.tickets.states import state_of


@dataclass(frozen=True)
class TeamRef:
    id: int
    name: str
    # What the customer is told ("a colleague from Billing"); None: the name.
    display_name: str | None = None


@dataclass(frozen=True)
class AttendantRef:
    id: int
    display_name: str


@dataclass(frozen=True)
class Ticket:
    """One ticket as its row says, with the names of its team and holder."""

    id: int
    conversation_id: str
    channel: str
    status: Status
    priority: str
    team: TeamRef | None
    assignee: AttendantRef | None
    rule: str
    reason: str
    scores: list[Any]
    summary: dict[str, Any] | None
    created_at: datetime
    claimed_at: datetime | None
    first_response_at: datetime | None
    awaiting_since: datetime | None
    closed_at: datetime | None
    resolution: str | None
    handed_back: bool
    reopen_count: int
    unclaimed_timeout_seconds: float | None
    purged_at: datetime | None
    updated_at: datetime | None
    # The expected wait for a claim the customer was told, and when it was estimated (None:
    # unknown, as the customer was told nothing); `expected_wait.py` says how.
    expected_wait_seconds: float | None = None
    expected_wait_at: datetime | None = None
    wait_update_sent: bool = False

    @classmethod
    def from_row(cls, row: Any) -> Ticket:
        """From a row of the ticket select (`rows.ticket_select`), or a mapping of its columns."""
        values: Mapping[str, Any] = row if isinstance(row, Mapping) else row._mapping
        team_id, assignee_id = values["team_id"], values["assignee_id"]
        return cls(
            id=values["id"],
            conversation_id=values["conversation_id"],
            channel=values["channel"],
            status=Status(values["status"]),
            priority=PRIORITY_NAME[values["priority"]],
            team=(
                TeamRef(team_id, values["team_name"], values.get("team_display_name"))
                if team_id is not None
                else None
            ),
            assignee=(
                AttendantRef(assignee_id, values["assignee_name"])
                if assignee_id is not None
                else None
            ),
            rule=values["rule"],
            reason=values["reason"],
            scores=values["scores"],
            summary=values["summary"],
            created_at=values["created_at"],
            claimed_at=values["claimed_at"],
            first_response_at=values["first_response_at"],
            awaiting_since=values["awaiting_since"],
            closed_at=values["closed_at"],
            resolution=values["resolution"],
            handed_back=bool(values["handed_back"]),
            reopen_count=values["reopen_count"],
            unclaimed_timeout_seconds=values.get("unclaimed_timeout_seconds"),
            purged_at=values.get("purged_at"),
            updated_at=values.get("updated_at"),
            expected_wait_seconds=values.get("expected_wait_seconds"),
            expected_wait_at=values.get("expected_wait_at"),
            wait_update_sent=bool(values.get("wait_update_sent")),
        )

    @property
    def team_id(self) -> int | None:
        return self.team.id if self.team is not None else None

    @property
    def assignee_id(self) -> int | None:
        return self.assignee.id if self.assignee is not None else None

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    @property
    def state(self) -> TicketState:
        """The lifecycle's view, read by `state_of` as it reads a ticket row (same column names)."""
        return state_of(self)

    def moved_to(self, state: TicketState, now: datetime) -> Ticket:
        """This ticket after a change that kept its team and holder (a customer's message)."""
        if (state.team, state.assignee) != (self.state.team, self.state.assignee):
            raise ValueError("moved_to keeps the team and the holder; re-read the ticket instead")
        return replace(
            self,
            status=state.status,
            claimed_at=state.claimed_at,
            first_response_at=state.first_response_at,
            awaiting_since=state.awaiting_since,
            closed_at=state.closed_at,
            resolution=state.resolution.value if state.resolution else None,
            handed_back=state.handed_back,
            reopen_count=state.reopen_count,
            updated_at=now,
        )


@dataclass(frozen=True)
class Message:
    """One message of a ticket's thread: the customer's, the bot's or an attendant's."""

    id: int
    ticket_id: int
    event_id: str
    author: str
    attendant_id: int | None
    text: str
    attachments: list[dict[str, Any]]
    sent_at: datetime
    scores: dict[str, Any] | None
    delivery: str | None
    delivery_error: str | None
    delivery_attempts: int

    @classmethod
    def from_row(cls, row: Any) -> Message:
        values: Mapping[str, Any] = row if isinstance(row, Mapping) else row._mapping
        return cls(
            id=values["id"],
            ticket_id=values["ticket_id"],
            event_id=values["event_id"],
            author=values["author"],
            attendant_id=values["attendant_id"],
            text=values["text"],
            attachments=values["attachments"],
            sent_at=values["sent_at"],
            scores=values.get("scores"),
            delivery=values["delivery"],
            delivery_error=values.get("delivery_error"),
            delivery_attempts=values["delivery_attempts"],
        )


@dataclass(frozen=True)
class Note:
    """An attendant's internal note on a ticket (never shown to the customer)."""

    id: int
    ticket_id: int
    attendant_id: int
    text: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Note:
        return cls(row.id, row.ticket_id, row.attendant_id, row.text, row.created_at)


@dataclass(frozen=True)
class Transition:
    """One record of a ticket's timeline: who did what, from which status to which, when."""

    id: int
    action: str
    from_status: str
    to_status: str
    actor_kind: str
    actor_id: str | None
    at: datetime
    detail: dict[str, Any]

    @classmethod
    def from_row(cls, row: Any) -> Transition:
        return cls(
            row.id,
            row.action,
            row.from_status,
            row.to_status,
            row.actor_kind,
            row.actor_id,
            row.at,
            row.detail,
        )


@dataclass(frozen=True)
class TicketDetail:
    """A ticket with its thread, notes and timeline, as its page in the Inbox shows it."""

    ticket: Ticket
    messages: list[Message]
    notes: list[Note]
    timeline: list[Transition]
