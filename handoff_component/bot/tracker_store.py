"""HandoffTrackerStore: any Rasa tracker store, publishing what each save adds without a re-read.

With an event broker configured, every Rasa tracker store finds the events a save adds by reading
the conversation back from its database and replaying it (`TrackerStore.stream_events`) before it
writes. On an ordinary turn that re-read is most of what the plugin's event path costs Rasa (see
docs/performance.md). This store wraps the one a bot already uses and publishes the same events
without it: it remembers how many events each tracker it handed out had, so a save publishes the
ones after that, which is what Rasa's re-read finds too (it counts the stored events).

Configured in `endpoints.yml` around the store the bot had, whose options stay as they were:

    tracker_store:
      type: handoff_component.HandoffTrackerStore
      wraps: SQL              # any Rasa tracker store type, or a module path of a custom one
      dialect: sqlite
      db: ${TRACKER_DB}

A save of a tracker this store did not hand out (a tracker built elsewhere, or one of every
session from `retrieve_full_tracker`) falls back to Rasa's way: read back, then compare. The
events go to the broker in one call per save when it takes batches (HandoffEventBroker: one outbox
transaction), together through `pika_publishing.publish_together` to Rasa's PikaEventBroker (a
few writes per save instead of one task and three loop turns per event; `unpublished_limit`,
20,000 events, and `unpublished_limit_mb`, 64, bound what waits in memory for RabbitMQ), one by
one otherwise (any other Rasa broker).
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Iterable
from typing import Any

from rasa.core.brokers.broker import EventBroker
from rasa.core.brokers.pika import PikaEventBroker
from rasa.core.tracker_store import TrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker, TrackerEventDiffEngine
from rasa.utils.endpoints import EndpointConfig

from handoff_component.bot.event_broker import HandoffEventBroker
from handoff_component.bot.pika_publishing import (
    DEFAULT_UNPUBLISHED_LIMIT,
    DEFAULT_UNPUBLISHED_LIMIT_MB,
    publish_together,
)
from handoff_component.contract.slots import HANDOFF_ACTIVE_SLOT


class HandoffTrackerStore(TrackerStore):
    """Delegates storage to the wrapped store; publishes each save's new events itself."""

    def __init__(
        self,
        host: str | None = None,
        domain: Domain | None = None,
        event_broker: EventBroker | None = None,
        wraps: str | None = None,
        unpublished_limit: int | str = DEFAULT_UNPUBLISHED_LIMIT,
        unpublished_limit_mb: float | str = DEFAULT_UNPUBLISHED_LIMIT_MB,
        **store_options: Any,
    ) -> None:
        if not wraps:
            raise ValueError(
                "tracker_store.wraps is missing in endpoints.yml: name the tracker store to wrap "
                "(SQL, redis, mongod, dynamo, ... or a module path), with its options beside it"
            )
        if wraps == f"{__name__}.{type(self).__name__}" or wraps.endswith("HandoffTrackerStore"):
            raise ValueError("tracker_store.wraps cannot be HandoffTrackerStore itself")
        try:
            self.unpublished_limit = int(unpublished_limit)
            self.unpublished_limit_mb = float(unpublished_limit_mb)
        except ValueError:
            raise ValueError(
                "tracker_store.unpublished_limit (a whole number) or unpublished_limit_mb "
                "(a number) is not a number"
            ) from None
        if self.unpublished_limit < 2 or self.unpublished_limit_mb <= 0:
            raise ValueError(
                "tracker_store.unpublished_limit must be at least 2 and unpublished_limit_mb "
                "above 0"
            )
        # The wrapped store gets no broker, so it never reads a conversation back to stream it.
        self.store = create_tracker_store(
            EndpointConfig(url=host, type=wraps, **store_options), domain, event_broker=None
        )
        super().__init__(domain, event_broker)
        # id(tracker) -> (a weak reference to it, how many events it had when handed out or saved).
        self._known: dict[int, tuple[weakref.ref, int]] = {}

    @property
    def domain(self) -> Domain:
        return self.store.domain

    @domain.setter
    def domain(self, domain: Domain | None) -> None:
        # Rasa sets the domain after loading a model; the wrapped store builds trackers with it.
        if hasattr(self, "store"):
            self.store.domain = domain or Domain.empty()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        tracker = await _awaited(self.store.retrieve(sender_id))
        if tracker is not None:
            self._remember(tracker)
        return tracker

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        # Every session, not what the store counts for a save: not remembered, so a save of it
        # finds its new events the way Rasa does.
        return await _awaited(self.store.retrieve_full_tracker(conversation_id))

    async def keys(self) -> Iterable[str]:
        return await _awaited(self.store.keys())

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Publish what this save adds (before storing, as Rasa does), then store."""
        if self.event_broker is not None:
            new_events = await self._new_events(tracker)
            if new_events:
                self._publish(tracker, new_events)
        await _awaited(self.store.save(tracker))
        self._remember(tracker)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        if self.event_broker is not None:
            self._publish(tracker, await self._new_events(tracker))

    async def _new_events(self, tracker: DialogueStateTracker) -> list[Event]:
        known = self._known.get(id(tracker))
        events = tracker.events
        if known is not None and known[0]() is tracker and events.maxlen is None:
            return list(events)[known[1] :]
        stored = await _awaited(self.store.retrieve(tracker.sender_id))
        return TrackerEventDiffEngine.event_difference(stored, tracker)

    def _publish(self, tracker: DialogueStateTracker, events: list[Event]) -> None:
        bodies = [{"sender_id": tracker.sender_id, **event.as_dict()} for event in events]
        if isinstance(self.event_broker, HandoffEventBroker):
            # The tracker knows whether a person has the conversation, even right after a
            # restart of Rasa: then its events do not wait for the broker's delivery window.
            active = tracker.slots.get(HANDOFF_ACTIVE_SLOT)
            self.event_broker.publish_many(bodies, handed_over=bool(active and active.value))
            return
        if isinstance(self.event_broker, PikaEventBroker):
            publish_together(
                self.event_broker, bodies, self.unpublished_limit, self.unpublished_limit_mb
            )
            return
        publish_many = getattr(self.event_broker, "publish_many", None)
        if publish_many is not None:
            publish_many(bodies)
        else:
            assert self.event_broker is not None
            for body in bodies:
                self.event_broker.publish(body)

    def _remember(self, tracker: DialogueStateTracker) -> None:
        key = id(tracker)
        self._known[key] = (
            weakref.ref(tracker, lambda _: self._known.pop(key, None)),
            len(tracker.events),
        )


async def _awaited(result: Any) -> Any:
    """Rasa's stores are async; a custom store written for an older Rasa may not be."""
    return await result if inspect.isawaitable(result) else result
