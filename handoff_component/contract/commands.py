"""Commands the service posts to Rasa's HandoffConnector, under `/webhooks/handoff/`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from handoff_component.contract.attachments import Attachment, read_attachments
from handoff_component.contract.errors import ContractError
from handoff_component.contract.limits import MAX_ID_LENGTH, MAX_TEXT_LENGTH
from handoff_component.contract.reader import Reader

# Served by Rasa's HandoffConnector input channel (mounted at `/webhooks/handoff/`), called by the
# service. The service joins them to its configured base URL.
CONNECTOR_BASE_PATH = "/webhooks/handoff"
CONNECTOR_REPLY_PATH = "reply"
CONNECTOR_TYPING_PATH = "typing"
CONNECTOR_PAUSE_PATH = "pause"
CONNECTOR_RESUME_PATH = "resume"
CONNECTOR_WAIT_PATH = "wait"


@dataclass(frozen=True)
class ReplyCommand:
    """`POST {connector}/reply`: an attendant's message, sent through the customer's channel."""

    conversation_id: str
    channel: str
    ticket_id: int
    message_id: int
    text: str
    attendant_name: str
    attachments: list[Attachment] = field(default_factory=list)

    @classmethod
    def from_dict(cls, data: Any) -> ReplyCommand:
        reader = Reader(data)
        command = cls(
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            ticket_id=reader.integer("ticket_id", minimum=1),
            message_id=reader.integer("message_id", minimum=1),
            text=reader.string("text", max_length=MAX_TEXT_LENGTH, allow_empty=True),
            attendant_name=reader.string("attendant_name"),
            attachments=read_attachments(reader),
        )
        reader.done()
        if not command.text.strip() and not command.attachments:
            raise ContractError("text", "a reply needs text or an attachment")
        return command

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["attachments"] = [a.to_dict() for a in self.attachments]
        return data


@dataclass(frozen=True)
class TypingCommand:
    """`POST {connector}/typing`: show or hide the typing indicator to the customer."""

    conversation_id: str
    channel: str
    ticket_id: int
    typing: bool

    @classmethod
    def from_dict(cls, data: Any) -> TypingCommand:
        reader = Reader(data)
        command = cls(
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            ticket_id=reader.integer("ticket_id", minimum=1),
            typing=reader.boolean("typing"),
        )
        reader.done()
        return command

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TypingAnswer:
    """The connector's answer to a TypingCommand: whether the customer's channel showed the
    indicator, and if not, why (Twilio and Slack have none; a platform may refuse it). The
    attendant learns it from the service's answer, instead of typing to a channel that shows
    nothing."""

    delivered: bool
    reason: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> TypingAnswer:
        reader = Reader(data)
        answer = cls(
            delivered=reader.boolean("delivered"),
            reason=reader.string("reason", required=False, max_length=2000),
        )
        reader.done()
        return answer

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PAUSE_REASONS = ("takeover", "reopen")
RESUME_REASONS = ("resume_bot", "closed", "inactivity", "unclaimed")


@dataclass(frozen=True)
class PauseCommand:
    """`POST {connector}/pause`: pause the bot (supervisor takeover, reopen after hand-back).

    A takeover pauses before its ticket exists, so `ticket_id` is then null.
    """

    conversation_id: str
    channel: str
    ticket_id: int | None
    reason: str

    @classmethod
    def from_dict(cls, data: Any) -> PauseCommand:
        reader = Reader(data)
        command = cls(
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            ticket_id=reader.integer("ticket_id", required=False, minimum=1),
            reason=reader.string("reason", choices=PAUSE_REASONS),
        )
        reader.done()
        return command

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ResumeCommand:
    """`POST {connector}/resume`: hand the conversation back to the bot.

    `reason` says why: the attendant pressed "resume bot", or a closed ticket's reopen window
    ended (`closed`, `inactivity`), or nobody claimed the ticket in the channel's safety-net
    time (`unclaimed`), after which the bot answers the customer again.
    """

    conversation_id: str
    channel: str
    ticket_id: int
    reason: str

    @classmethod
    def from_dict(cls, data: Any) -> ResumeCommand:
        reader = Reader(data)
        command = cls(
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            ticket_id=reader.integer("ticket_id", minimum=1),
            reason=reader.string("reason", choices=RESUME_REASONS),
        )
        reader.done()
        return command

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A wait longer than a week is no estimate anyone should hear.
MAX_EXPECTED_WAIT_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True)
class WaitUpdateCommand:
    """`POST {connector}/wait`: tell a customer still waiting for a claim that the expected
    wait has grown a lot since they were told (`service/expected_wait.py`), once per ticket.

    The connector says `utter_handoff_wait_update` with `{wait}` filled from
    `expected_wait_seconds` (`contract.wait_phrase`); a domain without that response sends
    nothing.
    """

    conversation_id: str
    channel: str
    ticket_id: int
    expected_wait_seconds: float

    @classmethod
    def from_dict(cls, data: Any) -> WaitUpdateCommand:
        reader = Reader(data)
        command = cls(
            conversation_id=reader.string("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.string("channel", max_length=100),
            ticket_id=reader.integer("ticket_id", minimum=1),
            expected_wait_seconds=reader.number("expected_wait_seconds"),
        )
        reader.done()
        if not 0 <= command.expected_wait_seconds <= MAX_EXPECTED_WAIT_SECONDS:
            raise ContractError(
                "expected_wait_seconds",
                f"must be between 0 and {MAX_EXPECTED_WAIT_SECONDS:g} (a week)",
            )
        return command

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


Command = ReplyCommand | TypingCommand | PauseCommand | ResumeCommand | WaitUpdateCommand

CONNECTOR_COMMANDS: dict[str, type[Command]] = {
    CONNECTOR_REPLY_PATH: ReplyCommand,
    CONNECTOR_TYPING_PATH: TypingCommand,
    CONNECTOR_PAUSE_PATH: PauseCommand,
    CONNECTOR_RESUME_PATH: ResumeCommand,
    CONNECTOR_WAIT_PATH: WaitUpdateCommand,
}
