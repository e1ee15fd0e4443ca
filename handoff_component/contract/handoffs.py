"""`POST /api/handoffs`: what `action_handoff` sends the service to open (or find) a ticket, and
the answer it reads back."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from handoff_component.contract.attachments import Attachment, read_attachments
from handoff_component.contract.errors import ContractError
from handoff_component.contract.limits import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_REASON_LENGTH,
    MAX_TEXT_LENGTH,
    MAX_UNCLAIMED_TIMEOUT_SECONDS,
)
from handoff_component.contract.reader import Reader, read_scores, string_item

# Served by the handoff service, called by Rasa's side (the action, and the event broker for a
# handoff the action could not deliver).
SERVICE_HANDOFFS_PATH = "/api/handoffs"

PRIORITIES = ("low", "normal", "high", "urgent")


TRANSCRIPT_SENDERS = ("customer", "bot")


@dataclass(frozen=True)
class TranscriptMessage:
    """A message of the conversation before the handoff, keyed by its Rasa event identity."""

    event_id: str
    sender: str
    text: str
    timestamp: float
    attachments: list[Attachment] = field(default_factory=list)
    # HandoffScorer's figures for a customer message (sentiment, complexity, ...), if it had any.
    scores: dict[str, float] | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "message") -> TranscriptMessage:
        reader = Reader(data, path)
        scores = reader.value("scores", required=False)
        message = cls(
            event_id=reader.string("event_id", max_length=MAX_ID_LENGTH),
            sender=reader.string("sender", choices=TRANSCRIPT_SENDERS),
            text=reader.string("text", max_length=MAX_TEXT_LENGTH, allow_empty=True),
            timestamp=reader.number("timestamp"),
            attachments=read_attachments(reader),
            scores=read_scores(scores, reader.name("scores")) if scores is not None else None,
        )
        reader.done()
        return message

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["attachments"] = [a.to_dict() for a in self.attachments]
        if self.scores is None:
            del data["scores"]
        return data


@dataclass(frozen=True)
class HandoffSummary:
    """What an attendant reads first: why the bot stepped back and what the customer wants."""

    reason: str
    topics: list[str] = field(default_factory=list)
    last_bot_action: str | None = None
    message_count: int = 0
    recent_scores: list[dict[str, float]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any, path: str = "summary") -> HandoffSummary:
        reader = Reader(data, path)
        summary = cls(
            reason=reader.string("reason", max_length=MAX_REASON_LENGTH),
            topics=reader.list_of("topics", string_item(100), required=False, max_length=50),
            last_bot_action=reader.string("last_bot_action", required=False),
            message_count=reader.integer("message_count", required=False, minimum=0, default=0),
            recent_scores=reader.list_of("recent_scores", read_scores, required=False),
        )
        reader.done()
        return summary

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class HandoffRequest:
    """`POST /api/handoffs`, sent by `action_handoff`: open (or find) the ticket of a handoff.

    `idempotency_key` is derived from the conversation id and the handoff's event id
    (`idempotency_key_for`), so retries and a second Rasa replica find the same ticket.
    """

    idempotency_key: str
    conversation_id: str
    channel: str
    rule: str
    reason: str
    priority: str = "normal"
    team: str | None = None
    scores: list[dict[str, float]] = field(default_factory=list)
    summary: HandoffSummary | None = None
    transcript: list[TranscriptMessage] = field(default_factory=list)
    # The channel's safety net: after this long without a claim the bot takes over again.
    unclaimed_timeout_seconds: float | None = None
    # The rule's `move_open_ticket`: when the conversation already has an open ticket, move it
    # to `team` (otherwise it keeps its team; the firing is recorded and may raise priority).
    move_open_ticket: bool = False

    @classmethod
    def from_dict(cls, data: Any) -> HandoffRequest:
        reader = Reader(data)
        summary = reader.object("summary", required=False)
        request = cls(
            idempotency_key=reader.string("idempotency_key", max_length=MAX_ID_LENGTH),
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            rule=reader.string("rule", max_length=MAX_NAME_LENGTH),
            reason=reader.string("reason", max_length=MAX_REASON_LENGTH),
            priority=reader.string(
                "priority", required=False, choices=PRIORITIES, default="normal"
            ),
            team=reader.string("team", required=False, max_length=100),
            scores=reader.list_of("scores", read_scores, required=False),
            summary=HandoffSummary.from_dict(summary.data, summary.path) if summary else None,
            transcript=reader.list_of("transcript", TranscriptMessage.from_dict, required=False),
            unclaimed_timeout_seconds=reader.number("unclaimed_timeout_seconds", required=False),
            move_open_ticket=reader.boolean("move_open_ticket", required=False, default=False),
        )
        reader.done()
        timeout = request.unclaimed_timeout_seconds
        if timeout is not None and not 0 < timeout <= MAX_UNCLAIMED_TIMEOUT_SECONDS:
            raise ContractError(
                "unclaimed_timeout_seconds",
                f"must be above 0 and at most {MAX_UNCLAIMED_TIMEOUT_SECONDS} (a week)",
            )
        return request

    def to_dict(self) -> dict[str, Any]:
        return {
            "idempotency_key": self.idempotency_key,
            "conversation_id": self.conversation_id,
            "channel": self.channel,
            "rule": self.rule,
            "reason": self.reason,
            "priority": self.priority,
            "team": self.team,
            "scores": [dict(s) for s in self.scores],
            "summary": self.summary.to_dict() if self.summary else None,
            "transcript": [m.to_dict() for m in self.transcript],
            "unclaimed_timeout_seconds": self.unclaimed_timeout_seconds,
            "move_open_ticket": self.move_open_ticket,
        }


@dataclass(frozen=True)
class HandoffAnswer:
    """The service's answer to `POST /api/handoffs` (201 new, 200 found), as `action_handoff`
    reads it: which ticket, whether it is new, how long the customer may wait, the ticket's
    priority now (a later trigger may have raised it) and the display name of the team it went
    to (what the customer is told; None: no team).

    The service sends its whole ticket view under `ticket` (`body()`); Rasa's side reads only
    these fields and tolerates the rest, so the view can grow without breaking older bots.
    """

    ticket_id: int
    created: bool
    expected_wait_seconds: float | None = None
    priority: str | None = None
    team_display_name: str | None = None

    @staticmethod
    def body(ticket: Mapping[str, Any], created: bool) -> dict[str, Any]:
        """The service's side: the answer's JSON object for a ticket view."""
        return {"ticket": dict(ticket), "created": created}

    @classmethod
    def from_dict(cls, data: Any) -> HandoffAnswer:
        reader = Reader(data, allow_unknown=True)
        ticket = Reader(reader.object("ticket").data, "ticket", allow_unknown=True)
        team = ticket.value("team", required=False)
        display_name = None
        if team is not None:
            team_reader = Reader(team, ticket.name("team"), allow_unknown=True)
            display_name = team_reader.string(
                "display_name", required=False, max_length=MAX_NAME_LENGTH
            )
        priority = ticket.value("priority", required=False)
        return cls(
            ticket_id=ticket.integer("id", minimum=1),
            created=reader.boolean("created"),
            expected_wait_seconds=ticket.number("expected_wait_seconds", required=False),
            priority=priority if priority in PRIORITIES else None,
            team_display_name=display_name,
        )


def idempotency_key_for(conversation_id: str, handoff_event_id: str) -> str:
    """The key of one handoff: the same conversation and triggering event give the same key."""
    digest = hashlib.sha256(f"{conversation_id}\x1f{handoff_event_id}".encode()).hexdigest()
    return f"handoff-{digest[:40]}"
