"""The one definition of every payload that crosses a process boundary.

Rasa's side (the action server, the event broker, the HandoffConnector) and the handoff service
both import this module, so a field renamed here is renamed everywhere. It is plain Python on
purpose: importing it must never pull in Rasa, Sanic or a database driver.

What is here:
- the HMAC signature of a request (`sign`, `verify`, `signed_headers`) and its header names;
- the paths each side serves;
- the payloads, as dataclasses with a `from_dict` that validates and a `to_dict` for the wire;
- `event_identity`, the stable id of a Rasa tracker event, used to append each message once.

Validation raises `ContractError` naming the offending field (for example `transcript[2].text`), so
the receiving side can answer with a precise 4xx and the sending side can fail its own tests early.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

# --- signing ------------------------------------------------------------------------------------

SIGNATURE_HEADER = "X-Handoff-Signature"
TIMESTAMP_HEADER = "X-Handoff-Timestamp"
SIGNATURE_SCHEME = "sha256"
# A signed request older or newer than this is refused, so a captured request cannot be replayed
# later; five minutes tolerates ordinary clock drift between hosts.
MAX_SIGNATURE_SKEW_SECONDS = 300


class ContractError(ValueError):
    """A payload or signature that does not follow the contract; `field` names what is wrong."""

    def __init__(self, field_name: str | None, message: str) -> None:
        self.field = field_name
        self.message = message
        super().__init__(f"{field_name}: {message}" if field_name else message)


class SignatureError(ContractError):
    """The request is not signed with the shared secret, or the signature is stale."""


def _secret_bytes(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not secret:
        raise SignatureError(None, "the shared secret is empty")
    return secret


def sign(secret: str | bytes, timestamp: str | int, body: bytes) -> str:
    """`sha256=<hex>` over `timestamp.body`: binding the timestamp stops replays of old bodies."""
    message = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(_secret_bytes(secret), message, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_SCHEME}={digest}"


def verify(
    secret: str | bytes,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    *,
    now: float | None = None,
    max_skew: int = MAX_SIGNATURE_SKEW_SECONDS,
) -> None:
    """Raise `SignatureError` unless `signature` signs `timestamp.body` and is fresh."""
    if not timestamp:
        raise SignatureError(TIMESTAMP_HEADER, "missing timestamp header")
    if not signature:
        raise SignatureError(SIGNATURE_HEADER, "missing signature header")
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise SignatureError(TIMESTAMP_HEADER, "timestamp must be integer seconds") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > max_skew:
        raise SignatureError(
            TIMESTAMP_HEADER, f"timestamp is more than {max_skew} s away from the server clock"
        )
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(
        expected.encode("ascii"), signature.strip().encode("ascii", "replace")
    ):
        raise SignatureError(SIGNATURE_HEADER, "signature does not match the body")


def signed_headers(secret: str | bytes, body: bytes, *, now: float | None = None) -> dict[str, str]:
    """Headers for a signed JSON request; both sides' clients use this."""
    timestamp = str(int(time.time() if now is None else now))
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }


# --- paths ----------------------------------------------------------------------------------------

# Served by the handoff service, called by Rasa's side.
SERVICE_HANDOFFS_PATH = "/api/handoffs"
SERVICE_EVENTS_PATH = "/api/events"

# Served by Rasa's HandoffConnector input channel (mounted at `/webhooks/handoff/`), called by the
# service. The service joins them to its configured base URL.
CONNECTOR_BASE_PATH = "/webhooks/handoff"
CONNECTOR_REPLY_PATH = "reply"
CONNECTOR_TYPING_PATH = "typing"
CONNECTOR_PAUSE_PATH = "pause"
CONNECTOR_RESUME_PATH = "resume"

# A bot event that carries an attendant's reply has this key in its metadata, with the service's
# message id as value. The service recognises the echo arriving through the event broker and does
# not append the reply twice (it marks the message as confirmed instead).
REPLY_METADATA_KEY = "handoff_message_id"

# --- limits ---------------------------------------------------------------------------------------

PRIORITIES = ("low", "normal", "high", "urgent")
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 200
MAX_TEXT_LENGTH = 10_000
MAX_REASON_LENGTH = 2_000
MAX_LIST_LENGTH = 500
MAX_SCORE_KEYS = 32
MAX_ATTACHMENTS = 10
MAX_URL_LENGTH = 2_000
MAX_EVENTS_PER_BATCH = 1_000
MAX_UNCLAIMED_TIMEOUT_SECONDS = 7 * 24 * 3600

# --- a small reader that names the failing field ---------------------------------------------


class Reader:
    """Reads one JSON object strictly: known fields only, each of the type it must have.

    Used for every payload of the contract and by the service for its own request bodies, so
    errors read the same everywhere.
    """

    def __init__(self, data: Any, path: str = "", *, allow_unknown: bool = False) -> None:
        if not isinstance(data, Mapping):
            raise ContractError(path or None, "must be a JSON object")
        self.data = data
        self.path = path
        self.allow_unknown = allow_unknown
        self._seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def _get(self, key: str, required: bool) -> Any:
        self._seen.add(key)
        if key not in self.data or self.data[key] is None:
            if required:
                raise ContractError(self.name(key), "is required")
            return None
        return self.data[key]

    def str(
        self,
        key: str,
        *,
        required: bool = True,
        max_length: int = MAX_NAME_LENGTH,
        allow_empty: bool = False,
        choices: Iterable[str] | None = None,
        default: str | None = None,
    ) -> Any:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise ContractError(self.name(key), "must be a string")
        check_storable_text(value, self.name(key))
        if not allow_empty and not value.strip():
            raise ContractError(self.name(key), "must not be empty")
        if len(value) > max_length:
            raise ContractError(self.name(key), f"is longer than {max_length} characters")
        if choices is not None:
            allowed = tuple(choices)
            if value not in allowed:
                raise ContractError(self.name(key), f"must be one of {', '.join(allowed)}")
        return value

    def int(
        self,
        key: str,
        *,
        required: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
    ) -> Any:
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise ContractError(self.name(key), "must be an integer")
        if minimum is not None and value < minimum:
            raise ContractError(self.name(key), f"must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise ContractError(self.name(key), f"must be at most {maximum}")
        return value

    def number(self, key: str, *, required: bool = True, default: float | None = None) -> Any:
        value = self._get(key, required)
        if value is None:
            return default
        return _number(value, self.name(key))

    def bool(self, key: str, *, required: bool = True, default: bool | None = None) -> Any:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise ContractError(self.name(key), "must be true or false")
        return value

    def list(
        self,
        key: str,
        item: Callable[[Any, str], Any],
        *,
        required: bool = True,
        max_length: int = MAX_LIST_LENGTH,
    ) -> list[Any]:
        value = self._get(key, required)
        if value is None:
            return []
        if not isinstance(value, list):
            raise ContractError(self.name(key), "must be a list")
        if len(value) > max_length:
            raise ContractError(self.name(key), f"has more than {max_length} items")
        return [item(element, f"{self.name(key)}[{index}]") for index, element in enumerate(value)]

    def object(self, key: str, *, required: bool = True) -> Reader | None:
        value = self._get(key, required)
        if value is None:
            return None
        return Reader(value, self.name(key), allow_unknown=self.allow_unknown)

    def raw_mapping(self, key: str, *, required: bool = False) -> dict[str, Any]:
        """A free-form object (Rasa metadata, for example): checked to be an object, kept as is."""
        value = self._get(key, required)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise ContractError(self.name(key), "must be a JSON object")
        return dict(value)

    def done(self) -> None:
        """Refuse fields nobody asked for: a typo must not be silently ignored."""
        if self.allow_unknown:
            return
        unknown = sorted(str(key) for key in self.data if key not in self._seen)
        if unknown:
            raise ContractError(self.name(unknown[0]), "is not a known field")


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ContractError(name, "must be a number")
    if not math.isfinite(value):
        raise ContractError(name, "must be a finite number")
    return float(value)


def check_storable_text(value: str, name: str) -> None:
    """Refuse text no database column can hold as sent, naming the field, before anything is stored.

    A JSON body can escape a lone UTF-16 surrogate (`"\\ud800"`): that is no Unicode text and has
    no UTF-8 form, so storing it fails deep in the database driver. PostgreSQL's text type cannot
    hold U+0000 at all, so SQLite and PostgreSQL would disagree on it. Every other code point
    (RTL marks, combining sequences, emoji ZWJ sequences, 4-byte characters) is stored as sent.
    """
    if "\x00" in value:
        raise ContractError(name, "must not contain the NUL character (U+0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ContractError(
            name, "contains a lone UTF-16 surrogate, which is not valid Unicode text"
        ) from None


def _string_item(max_length: int) -> Callable[[Any, str], str]:
    def read(value: Any, name: str) -> str:
        if not isinstance(value, str):
            raise ContractError(name, "must be a string")
        check_storable_text(value, name)
        if len(value) > max_length:
            raise ContractError(name, f"is longer than {max_length} characters")
        return value

    return read


def read_scores(value: Any, name: str) -> dict[str, float]:
    """One turn's scores: a flat object of score name to number (sentiment, complexity, ...)."""
    if not isinstance(value, Mapping):
        raise ContractError(name, "must be a JSON object of score name to number")
    if len(value) > MAX_SCORE_KEYS:
        raise ContractError(name, f"has more than {MAX_SCORE_KEYS} scores")
    scores: dict[str, float] = {}
    for key, score in value.items():
        if not isinstance(key, str) or not key or len(key) > 64:
            raise ContractError(name, "score names must be non-empty strings up to 64 characters")
        scores[key] = _number(score, f"{name}.{key}")
    return scores


# --- payloads -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attachment:
    """A file shown to the customer by reference; the service never stores the bytes."""

    url: str
    mime_type: str | None = None
    name: str | None = None

    @classmethod
    def from_dict(cls, data: Any, path: str = "attachment") -> Attachment:
        reader = Reader(data, path)
        url = reader.str("url", max_length=MAX_URL_LENGTH)
        if not url.startswith(("https://", "http://")):
            raise ContractError(reader.name("url"), "must be an http(s) URL")
        attachment = cls(
            url=url,
            mime_type=reader.str("mime_type", required=False, max_length=100),
            name=reader.str("name", required=False, max_length=MAX_NAME_LENGTH),
        )
        reader.done()
        return attachment

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _read_attachments(reader: Reader) -> list[Attachment]:
    return reader.list(
        "attachments", Attachment.from_dict, required=False, max_length=MAX_ATTACHMENTS
    )


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
        scores = reader._get("scores", required=False)
        message = cls(
            event_id=reader.str("event_id", max_length=MAX_ID_LENGTH),
            sender=reader.str("sender", choices=TRANSCRIPT_SENDERS),
            text=reader.str("text", max_length=MAX_TEXT_LENGTH, allow_empty=True),
            timestamp=reader.number("timestamp"),
            attachments=_read_attachments(reader),
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
            reason=reader.str("reason", max_length=MAX_REASON_LENGTH),
            topics=reader.list("topics", _string_item(100), required=False, max_length=50),
            last_bot_action=reader.str("last_bot_action", required=False),
            message_count=reader.int("message_count", required=False, minimum=0, default=0),
            recent_scores=reader.list("recent_scores", read_scores, required=False),
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

    @classmethod
    def from_dict(cls, data: Any) -> HandoffRequest:
        reader = Reader(data)
        summary = reader.object("summary", required=False)
        request = cls(
            idempotency_key=reader.str("idempotency_key", max_length=MAX_ID_LENGTH),
            conversation_id=reader.str("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.str("channel", max_length=100),
            rule=reader.str("rule", max_length=MAX_NAME_LENGTH),
            reason=reader.str("reason", max_length=MAX_REASON_LENGTH),
            priority=reader.str("priority", required=False, choices=PRIORITIES, default="normal"),
            team=reader.str("team", required=False, max_length=100),
            scores=reader.list("scores", read_scores, required=False),
            summary=HandoffSummary.from_dict(summary.data, summary.path) if summary else None,
            transcript=reader.list("transcript", TranscriptMessage.from_dict, required=False),
            unclaimed_timeout_seconds=reader.number("unclaimed_timeout_seconds", required=False),
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
        }


def idempotency_key_for(conversation_id: str, handoff_event_id: str) -> str:
    """The key of one handoff: the same conversation and triggering event give the same key."""
    digest = hashlib.sha256(f"{conversation_id}\x1f{handoff_event_id}".encode()).hexdigest()
    return f"handoff-{digest[:40]}"


# --- Rasa events ----------------------------------------------------------------------------------

MESSAGE_EVENT_TYPES = ("user", "bot")


def event_identity(sender_id: str, event: Mapping[str, Any]) -> str:
    """A stable id for one Rasa tracker event, equal wherever the event is seen.

    The event broker, the tracker given to the action server and a replay of either all yield
    the same dict for an event, so hashing its sender, type, timestamp and text gives the same
    id on every side. The timestamp is rounded to microseconds to survive JSON float round trips.
    """
    event_type = str(event.get("event", ""))
    timestamp = event.get("timestamp")
    stamp = f"{float(timestamp):.6f}" if isinstance(timestamp, int | float) else ""
    text = event.get("text") or ""
    content = f"{sender_id}\x1f{event_type}\x1f{stamp}\x1f{text}"
    return "ev-" + hashlib.sha256(content.encode("utf-8")).hexdigest()[:40]


@dataclass(frozen=True)
class BrokerEvent:
    """One Rasa tracker event as published by the event broker, with the conversation it is of.

    Only the fields the service uses are read strictly; the rest of Rasa's event dict (parse_data,
    input_channel, ...) is tolerated, since it belongs to Rasa and grows between versions.
    """

    sender_id: str
    event: str
    timestamp: float
    text: str | None
    metadata: dict[str, Any]
    data: dict[str, Any]
    input_channel: str | None
    # Rasa's NLU result for a user event; only HandoffScorer's `handoff` figures are used.
    parse_data: dict[str, Any] = field(default_factory=dict)

    @property
    def identity(self) -> str:
        return event_identity(
            self.sender_id, {"event": self.event, "timestamp": self.timestamp, "text": self.text}
        )

    @classmethod
    def from_dict(cls, value: Any, path: str = "event") -> BrokerEvent:
        reader = Reader(value, path, allow_unknown=True)
        text = reader.str("text", required=False, max_length=MAX_TEXT_LENGTH, allow_empty=True)
        return cls(
            sender_id=reader.str("sender_id", max_length=MAX_ID_LENGTH),
            event=reader.str("event", max_length=100),
            timestamp=reader.number("timestamp"),
            text=text,
            metadata=reader.raw_mapping("metadata"),
            data=reader.raw_mapping("data"),
            input_channel=reader.str("input_channel", required=False, max_length=100),
            parse_data=reader.raw_mapping("parse_data"),
        )

    def scores(self) -> dict[str, float] | None:
        """HandoffScorer's numeric figures for a customer message, from Rasa's parse data.

        Read leniently (the parse data belongs to Rasa and to a component a bot may not run):
        anything that is not a finite number is left out, and no figures gives None.
        """
        handoff = self.parse_data.get("handoff")
        if not isinstance(handoff, Mapping):
            return None
        scores = {
            str(name)[:64]: float(value)
            for name, value in list(handoff.items())[:MAX_SCORE_KEYS]
            if isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
        }
        return scores or None

    def attachments(self) -> list[Attachment]:
        """Files a bot message shows (Rasa's `image` / `attachment` fields), by reference."""
        found: list[Attachment] = []
        image = self.data.get("image")
        if isinstance(image, str) and image.startswith(("http://", "https://")):
            found.append(Attachment(url=image[:MAX_URL_LENGTH], mime_type="image/*"))
        attachment = self.data.get("attachment")
        if isinstance(attachment, str) and attachment.startswith(("http://", "https://")):
            found.append(Attachment(url=attachment[:MAX_URL_LENGTH]))
        elif isinstance(attachment, Mapping):
            url = attachment.get("url") or (attachment.get("payload") or {}).get("src")
            if isinstance(url, str) and url.startswith(("http://", "https://")):
                found.append(Attachment(url=url[:MAX_URL_LENGTH]))
        return found[:MAX_ATTACHMENTS]


@dataclass(frozen=True)
class EventBatch:
    """`POST /api/events`, sent by the event broker: tracker events, oldest first."""

    events: list[BrokerEvent]

    @classmethod
    def from_dict(cls, data: Any) -> EventBatch:
        reader = Reader(data)
        events = reader.list("events", BrokerEvent.from_dict, max_length=MAX_EVENTS_PER_BATCH)
        reader.done()
        return cls(events=events)


# --- commands to Rasa's HandoffConnector -------------------------------------------------------


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
            conversation_id=reader.str("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.str("channel", max_length=100),
            ticket_id=reader.int("ticket_id", minimum=1),
            message_id=reader.int("message_id", minimum=1),
            text=reader.str("text", max_length=MAX_TEXT_LENGTH, allow_empty=True),
            attendant_name=reader.str("attendant_name"),
            attachments=_read_attachments(reader),
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
            conversation_id=reader.str("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.str("channel", max_length=100),
            ticket_id=reader.int("ticket_id", minimum=1),
            typing=reader.bool("typing"),
        )
        reader.done()
        return command

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
            conversation_id=reader.str("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.str("channel", max_length=100),
            ticket_id=reader.int("ticket_id", required=False, minimum=1),
            reason=reader.str("reason", choices=PAUSE_REASONS),
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
            conversation_id=reader.str("conversation_id", max_length=MAX_ID_LENGTH),
            channel=reader.str("channel", max_length=100),
            ticket_id=reader.int("ticket_id", minimum=1),
            reason=reader.str("reason", choices=RESUME_REASONS),
        )
        reader.done()
        return command

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CONNECTOR_COMMANDS: dict[str, type] = {
    CONNECTOR_REPLY_PATH: ReplyCommand,
    CONNECTOR_TYPING_PATH: TypingCommand,
    CONNECTOR_PAUSE_PATH: PauseCommand,
    CONNECTOR_RESUME_PATH: ResumeCommand,
}
