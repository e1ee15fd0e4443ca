"""`POST /api/events`: Rasa's tracker events, as the event broker sends them to the service."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handoff_component.contract.attachments import Attachment
from handoff_component.contract.limits import (
    MAX_ATTACHMENTS,
    MAX_EVENTS_PER_BATCH,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_SCORE_KEYS,
    MAX_TEXT_LENGTH,
    MAX_URL_LENGTH,
)
from handoff_component.contract.reader import Reader
from handoff_component.contract.scores import SCORE_KEY

SERVICE_EVENTS_PATH = "/api/events"

# A bot event that carries an attendant's reply has this key in its metadata, with the service's
# message id as value. The service recognises the echo arriving through the event broker and does
# not append the reply twice (it marks the message as confirmed instead).
REPLY_METADATA_KEY = "handoff_message_id"

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
        text = reader.string("text", required=False, max_length=MAX_TEXT_LENGTH, allow_empty=True)
        return cls(
            sender_id=reader.string("sender_id", max_length=MAX_ID_LENGTH),
            event=reader.string("event", max_length=100),
            timestamp=reader.number("timestamp"),
            text=text,
            metadata=reader.raw_mapping("metadata"),
            data=reader.raw_mapping("data"),
            input_channel=reader.string("input_channel", required=False, max_length=100),
            parse_data=reader.raw_mapping("parse_data"),
        )

    def scores(self) -> dict[str, float] | None:
        """HandoffScorer's numeric figures for a customer message, from Rasa's parse data.

        Read leniently (the parse data belongs to Rasa and to a component a bot may not run):
        anything that is not a finite number is left out, and no figures gives None.
        """
        handoff = self.parse_data.get(SCORE_KEY)
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
        """Files a message shows, by reference: a bot message's Rasa `image` / `attachment`
        fields; a customer message's, as channels deliver them in its metadata (`image`,
        `attachment`, or a list `attachments` of `{url | payload.url | payload.src, type,
        mime_type, name}`). Only http(s) URLs; anything else in there is left alone."""
        sources: list[Mapping[str, Any]] = [self.data]
        if self.event == "user":
            sources.append(self.metadata)
        found: list[Attachment] = []
        for source in sources:
            image = source.get("image")
            if isinstance(image, str):
                found += _reference(image, "image/*", None)
            attachment = source.get("attachment")
            listed = source.get("attachments")
            items = [attachment] + (
                list(listed[:MAX_ATTACHMENTS]) if isinstance(listed, list) else []
            )
            for item in items:
                if isinstance(item, str):
                    found += _reference(item, None, None)
                elif isinstance(item, Mapping):
                    payload = item.get("payload")
                    payload = payload if isinstance(payload, Mapping) else {}
                    url = item.get("url") or payload.get("url") or payload.get("src")
                    mime_type = item.get("mime_type") or _KIND_TYPES.get(str(item.get("type")))
                    found += _reference(url, mime_type, item.get("name") or payload.get("name"))
        return found[:MAX_ATTACHMENTS]


# What a channel's `type` of attachment says of its MIME type (Messenger, Instagram, widgets).
_KIND_TYPES = {"image": "image/*", "audio": "audio/*", "video": "video/*"}


def _reference(url: Any, mime_type: Any, name: Any) -> list[Attachment]:
    """The attachment at `url`, if it is an http(s) URL; fields of the wrong type are dropped."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return []
    return [
        Attachment(
            url=url[:MAX_URL_LENGTH],
            mime_type=mime_type[:100] if isinstance(mime_type, str) else None,
            name=name[:MAX_NAME_LENGTH] if isinstance(name, str) else None,
        )
    ]


# The tracker events the service reads are its message events; the `handoff_request` slot (a
# handoff the action server could not deliver) goes too, ahead of the request it carries.
_SERVICE_EVENT_FIELDS = (
    *("sender_id", "event", "timestamp", "text", "metadata", "data"),
    *("input_channel", "name", "value"),
)


def service_part(event: Mapping[str, Any], handoff_slot: str = "handoff_request") -> Any:
    """What the service reads of one Rasa event (BrokerEvent's fields), or None if nothing.

    The event broker sends only this: on an ordinary turn two of its seven or eight events, and of
    a customer message's NLU result only HandoffScorer's figures. The fields that make an event's
    identity (`event_identity`) are kept as they are, so a replay is still recognised.
    """
    kind = event.get("event")
    handoff_request = kind == "slot" and event.get("name") == handoff_slot
    if kind not in MESSAGE_EVENT_TYPES and not handoff_request:
        return None
    part = {key: event[key] for key in _SERVICE_EVENT_FIELDS if key in event}
    parse_data = event.get("parse_data")
    if isinstance(parse_data, Mapping) and SCORE_KEY in parse_data:
        part["parse_data"] = {SCORE_KEY: parse_data[SCORE_KEY]}
    return part


def bounded_event(event: dict[str, Any]) -> dict[str, Any]:
    """Keep a very long message within the contract rather than lose it to a refusal."""
    text = event.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_LENGTH:
        marker = " [...truncated]"
        event = {**event, "text": text[: MAX_TEXT_LENGTH - len(marker)] + marker}
    return event


@dataclass(frozen=True)
class EventBatch:
    """`POST /api/events`, sent by the event broker: tracker events, oldest first."""

    events: list[BrokerEvent]

    @classmethod
    def from_dict(cls, data: Any) -> EventBatch:
        reader = Reader(data)
        events = reader.list_of("events", BrokerEvent.from_dict, max_length=MAX_EVENTS_PER_BATCH)
        reader.done()
        return cls(events=events)
