"""HandoffEventBroker: the tracker events the service reads reach it in order, exactly once.

Configured in `endpoints.yml`:

    event_broker:
      type: handoff_component.HandoffEventBroker
      url: http://127.0.0.1:5100        # the handoff service
      secret: ${HANDOFF_SECRET}         # shared with the service (HMAC on every request);
                                        # refused at start like the service refuses it
      outbox: .data/outbox.db           # durable queue, one file per Rasa process
      delivery_window_s: 1.0            # ordinary turns' events wait at most this to share a POST
      forward_to:                       # optional: a second, standard Rasa broker gets every event
        type: pika
        url: 127.0.0.1
        username: guest
        password: guest
        queues: [rasa_analytics]

`publish()` only appends to the durable outbox (Rasa calls it synchronously on its event loop); a
background task delivers batches to the service and removes them once acknowledged, retrying with
backoff while the service is away. The service de-duplicates by event identity, so a batch sent
twice (a crash between delivery and acknowledgement) is stored once. Only what the service reads
is queued (`contract.service_part`: customer and bot messages, trimmed to the fields it uses);
`publish_many()`, which HandoffTrackerStore calls once per tracker save, queues a save's events in
one outbox transaction, encoded once: the JSON measured for the size cap is the JSON stored, and
the JSON stored is the JSON sent.

The events of an ordinary turn (a conversation the bot is handling) wait up to
`delivery_window_s` (1 s) so that the turns of that window share one signed POST, one service
transaction and one acknowledgement: the POST was most of what the broker cost Rasa per turn
(docs/performance.md). They are already durable in the outbox while they wait; the window only
delays them. What an attendant or the ticket waits for goes at once and takes everything queued
before it along, in order: any conversation handed over (its `handoff_active` slot, as seen by
HandoffTrackerStore or in the events), a save that sets one of the plugin's slots (a handoff
starting or ending), an attendant's reply echoed back, an undelivered ticket request, and a full
batch. The ticket request itself never passes through here on the normal path: the action server
sends it to the service directly.

`forward_to` keeps a bot's existing event stream (analytics, Rasa X/Enterprise, a data lake):
Rasa has a single `event_broker` slot, so the broker named there is created inside this one and
receives every event, whole and unfiltered, as if it were Rasa's own.

A handoff the action server could not deliver (the service was down) travels the same way: the
action sets the `handoff_request` slot, and this broker turns that slot event into a ticket request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from asyncio import AbstractEventLoop
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig

from handoff_component.bot.outbox import Outbox, OutboxItem, encode
from handoff_component.bot.service_client import ServiceClient, ServiceUnavailable
from handoff_component.contract import (
    MAX_EVENTS_PER_BATCH,
    SERVICE_EVENTS_PATH,
    SERVICE_HANDOFFS_PATH,
    bounded_event,
    checked_secret,
    service_part,
)
from handoff_component.contract.events import REPLY_METADATA_KEY
from handoff_component.contract.scores import SCORE_KEY
from handoff_component.contract.slots import (
    HANDOFF_ACTIVE_SLOT,
    HANDOFF_REQUEST_SLOT,
    HANDOFF_SLOTS,
)

logger = logging.getLogger(__name__)

EVENT = "event"
MAX_DELIVERY_WINDOW_S = 10.0
HANDOFF = "handoff"
_PATHS = {EVENT: SERVICE_EVENTS_PATH, HANDOFF: SERVICE_HANDOFFS_PATH}


class HandoffEventBroker(EventBroker):
    """Forwards Rasa's events to the handoff service through a durable outbox."""

    def __init__(
        self,
        url: str,
        secret: str,
        outbox: str = ".data/outbox.db",
        batch_size: int = 100,
        retry_initial_s: float = 0.2,
        retry_max_s: float = 30.0,
        forward_to: EventBroker | None = None,
        delivery_window_s: float = 1.0,
    ) -> None:
        if not 1 <= batch_size <= MAX_EVENTS_PER_BATCH:
            raise ValueError(f"event_broker.batch_size must be 1..{MAX_EVENTS_PER_BATCH}")
        if not 0 <= delivery_window_s <= MAX_DELIVERY_WINDOW_S:
            raise ValueError(
                f"event_broker.delivery_window_s must be 0..{MAX_DELIVERY_WINDOW_S} (seconds)"
            )
        self.client = ServiceClient(url, secret)
        self.outbox = Outbox(outbox)
        self.batch_size = batch_size
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.forward_to = forward_to
        self.delivery_window_s = delivery_window_s
        # Conversations handed over to a person, as far as this process has seen: their events
        # are not held back by the window.
        self._handed_over: set[str] = set()
        self._queued = 0  # items put since the last delivery began: a full batch goes at once
        self._wake: asyncio.Event | None = None  # something is queued
        self._now: asyncio.Event | None = None  # something queued should not wait for the window
        self._task: asyncio.Task | None = None

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: AbstractEventLoop | None = None
    ) -> HandoffEventBroker:
        options = dict(broker_config.kwargs)
        known = {"secret", "outbox", "batch_size", "retry_max_s", "forward_to", "delivery_window_s"}
        unknown = set(options) - known
        if unknown:
            raise ValueError(f"event_broker: unknown option(s) {sorted(unknown)} in endpoints.yml")
        if not broker_config.url:
            raise ValueError("event_broker.url (the handoff service) is missing in endpoints.yml")
        # The service's rule (contract.shared_secret), checked before anything is started.
        secret = checked_secret(
            "endpoints.yml, event_broker.secret (HANDOFF_SECRET)",
            options.get("secret") or os.environ.get("HANDOFF_SECRET", ""),
        )
        forward_to = await _second_broker(options.get("forward_to"), event_loop)
        broker = cls(
            url=broker_config.url,
            secret=secret,
            outbox=options.get("outbox") or ".data/outbox.db",
            batch_size=int(options.get("batch_size", 100)),
            retry_max_s=float(options.get("retry_max_s", 30.0)),
            forward_to=forward_to,
            delivery_window_s=float(options.get("delivery_window_s", 1.0)),
        )
        broker.start()
        return broker

    def start(self) -> None:
        """Start delivering in the background on the running loop (items left from before too)."""
        self._wake, self._now = asyncio.Event(), asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._deliver_forever())
        if len(self.outbox):  # what an earlier run left queued goes at once
            self._wake.set()
            self._now.set()

    def publish(self, event: dict[str, Any]) -> None:
        """Queue one event (and the handoff it may carry); never waits for the network."""
        self.publish_many([event])

    def publish_many(self, events: list[dict[str, Any]], handed_over: bool = False) -> None:
        """Queue the events of one tracker save, oldest first, in one outbox transaction.

        `handed_over`: the conversation is with a person (HandoffTrackerStore reads it from the
        tracker, which survives a restart of Rasa; the events seen here say it too).
        """
        if self.forward_to is not None:
            for event in events:
                self.forward_to.publish(event)
        items: list[tuple[str, dict[str, Any] | str]] = []
        urgent = handed_over
        for event in events:
            urgent = self._notes_urgency(event) or urgent
            part = service_part(event, HANDOFF_REQUEST_SLOT)
            if part is None:
                continue
            items.append((EVENT, encoded_capped(bounded_event(part))))
            request = _pending_handoff(event)
            if request is not None:
                items.append((HANDOFF, request))
                urgent = True
        if not items:
            return
        self.outbox.put_many(items)
        self._queued += len(items)
        urgent = urgent or self._queued >= self.batch_size or self.delivery_window_s == 0
        if self._wake is not None and self._now is not None:
            self._wake.set()
            if urgent:
                self._now.set()

    def _notes_urgency(self, event: dict[str, Any]) -> bool:
        """Whether this event should not wait for the window; follows who is handed over."""
        kind, sender = event.get("event"), event.get("sender_id")
        if kind == "slot" and event.get("name") in HANDOFF_SLOTS:
            if event.get("name") == HANDOFF_ACTIVE_SLOT and isinstance(sender, str):
                if event.get("value"):
                    self._handed_over.add(sender)
                else:
                    self._handed_over.discard(sender)
            return True  # a handoff starting, moving or ending
        if kind == "bot":
            metadata = event.get("metadata")
            if isinstance(metadata, dict) and REPLY_METADATA_KEY in metadata:
                return True  # an attendant's reply, echoed back: confirms its delivery
        return sender in self._handed_over

    def is_ready(self) -> bool:
        running = self._task is not None and not self._task.done()
        return running and (self.forward_to is None or self.forward_to.is_ready())

    async def close(self) -> None:
        """Try once more to deliver what is queued, then stop; what remains stays on disk."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await asyncio.wait_for(self.deliver_pending(), timeout=2.0)
        except (ServiceUnavailable, TimeoutError, asyncio.TimeoutError):
            logger.warning("handoff broker stopped with %d events queued", len(self.outbox))
        await self.client.close()
        self.outbox.close()
        if self.forward_to is not None:
            await self.forward_to.close()

    async def deliver_pending(self) -> None:
        """Deliver everything queued, oldest first; raises ServiceUnavailable to be retried."""
        while True:
            items = self.outbox.peek(self.batch_size)
            if not items:
                return
            batch = _leading_run(items)
            await self._deliver(batch)

    async def _deliver_forever(self) -> None:
        assert self._wake is not None and self._now is not None
        delay = self.retry_initial_s
        while True:
            await self._wake.wait()
            if not self._now.is_set():  # only ordinary turns queued: let the next ones join
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._now.wait(), self.delivery_window_s)
            self._wake.clear()
            self._now.clear()
            self._queued = 0
            try:
                await self.deliver_pending()
                delay = self.retry_initial_s
            except ServiceUnavailable as error:
                logger.warning("handoff service unavailable, retrying in %.1f s: %s", delay, error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)
                self._wake.set()
                self._now.set()
            except Exception:  # keep delivering whatever a single bug did
                logger.exception("handoff broker delivery failed; retrying")
                await asyncio.sleep(delay)
                self._wake.set()
                self._now.set()

    async def _deliver(self, batch: list[OutboxItem]) -> None:
        kind = batch[0].kind
        # The stored JSON as it is: `{"events":[...]}` around the events, or the request alone.
        text = (
            '{"events":[' + ",".join(i.text for i in batch) + "]}"
            if kind == EVENT
            else batch[0].text
        )
        try:
            response = await self.client.post_encoded(_PATHS[kind], text.encode())
        except ServiceUnavailable:
            self.outbox.record_attempt([i.id for i in batch])
            raise
        if response.ok:
            self.outbox.ack([i.id for i in batch])
        elif response.refused and len(batch) > 1:
            # Find the one bad item instead of setting aside its good neighbours.
            for item in batch:
                await self._deliver([item])
        elif response.refused:
            logger.error("handoff service refused %s: %s", kind, response.error_message())
            self.outbox.move_to_dead_letters([batch[0].id], response.error_message())
        else:
            raise ServiceUnavailable(response.error_message())


async def _second_broker(config: Any, event_loop: AbstractEventLoop | None) -> EventBroker | None:
    """The standard Rasa broker named by `forward_to`, created as Rasa would create it."""
    if config is None:
        return None
    if not isinstance(config, dict) or not config.get("type"):
        raise ValueError(
            "event_broker.forward_to must be a broker's settings with its `type` (pika, kafka, sql"
            " or a module path), as Rasa's own event_broker block would be"
        )
    if str(config["type"]).endswith("HandoffEventBroker"):
        raise ValueError("event_broker.forward_to cannot be another HandoffEventBroker")
    second = await EventBroker.create(EndpointConfig.from_dict(config), event_loop)
    if second is None:
        raise ValueError(f"event_broker.forward_to: Rasa could not create {config['type']!r}")
    return second


def _leading_run(items: list[OutboxItem]) -> list[OutboxItem]:
    """Events go in batches; a handoff request goes alone, keeping the queue's order."""
    if items[0].kind != EVENT:
        return items[:1]
    run = []
    for item in items:
        if item.kind != EVENT:
            break
        run.append(item)
    return run


def _pending_handoff(event: dict[str, Any]) -> dict[str, Any] | None:
    if event.get("event") == "slot" and event.get("name") == HANDOFF_REQUEST_SLOT:
        value = event.get("value")
        return value if isinstance(value, dict) else None
    return None


# The largest event kept whole. Customer text reaches Rasa unbounded: `bounded_event` cuts the
# text to the contract's 10,000 characters, but a channel's metadata is whatever the customer's
# client sent. An event over this is cut down to what the service reads (text, channel, the
# scores), so it still fits the service's 1 MB body limit instead of being refused and set aside.
MAX_EVENT_BYTES = 64_000
_KEPT_WHEN_OVERSIZED = ("sender_id", "event", "timestamp", "text", "input_channel", "data")


def encoded_capped(event: dict[str, Any]) -> str:
    """`capped(event)` as the outbox stores it, encoded once: for an event under the cap, the
    JSON measured is the JSON kept (ASCII-only, so its length is its size in bytes)."""
    if not _longer_than(event, MAX_EVENT_BYTES):
        text = encode(event)
        if len(text) <= MAX_EVENT_BYTES:
            return text
    return encode(capped(event))


def capped(event: dict[str, Any]) -> dict[str, Any]:
    """`event`, or what the service reads of it when it is over MAX_EVENT_BYTES.

    Linear in the size of the event, and constant past the cap: a walk that stops once the
    budget is spent, then at most one rebuild of its small parts.
    """
    if not _longer_than(event, MAX_EVENT_BYTES) and (
        len(json.dumps(event, default=str).encode()) <= MAX_EVENT_BYTES
    ):
        return event
    smaller = {key: event[key] for key in _KEPT_WHEN_OVERSIZED if key in event}
    parse_data = event.get("parse_data")
    if isinstance(parse_data, dict) and isinstance(parse_data.get(SCORE_KEY), dict):
        smaller["parse_data"] = {SCORE_KEY: parse_data[SCORE_KEY]}  # the scores the ticket shows
    if _longer_than(smaller, MAX_EVENT_BYTES // 2):
        smaller.pop("data", None)
    smaller["metadata"] = {"handoff_oversized_event": True}
    return smaller


def _longer_than(value: Any, budget: int) -> bool:
    """Whether `value` holds more than `budget` characters of text, found without serialising
    it: the walk stops as soon as the budget is spent, so a huge event costs no more than a
    small one to recognise (each character is at least one byte of JSON)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            budget -= len(item)
        elif isinstance(item, dict):
            budget -= len(item)
            for key, inner in item.items():
                stack.append(key)
                stack.append(inner)
        elif isinstance(item, list | tuple):
            budget -= len(item)
            stack.extend(item)
        else:
            budget -= 1
        if budget < 0:
            return True
    return False
