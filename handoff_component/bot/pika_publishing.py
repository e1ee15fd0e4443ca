"""A save's events through Rasa's PikaEventBroker in a few writes instead of one per event.

Rasa 3.6's `PikaEventBroker.publish()` starts one task per event, and each task holds its
channel's lock until aiormq 6.4's writer has put that one message on the socket
(`basic_publish(wait=True)`), so every event costs about three event-loop turns, one after the
other. A turn of the example bot saves about ten events, so under load the bot's own turns and
the events of a handed-over conversation queued behind that lock (bench_load: 2.2 s p50, 6.9 s
p90 of lock wait; docs/performance.md).

`publish_together(broker, events)` hands the events of a save to one publisher per broker,
which sends what has accumulated in chunks that fit aiormq's write queue (10 frames): every
message of a chunk is queued in the same loop turn, written by the writer in the next one, and
nothing waits for the socket's drain or for the broker's confirm before the next chunk. Publisher
confirms stay on (the channel Rasa opened); each message's confirm is checked when it arrives,
and a failed, refused (nack) or unroutable message is logged with its cause and kept the way
Rasa keeps it, in the broker's `_unpublished_events`, which the next publish sends first and
Rasa also sends again when its connection reconnects. Events published before the broker has
its exchange (not connected yet) are kept there too. One publisher per broker sends in the
order of the saves, so the events of a conversation stay in order.

Relies on three private members of Rasa 3.6.21's PikaEventBroker (pinned in pyproject.toml):
`_exchange`, `_message()` and `_unpublished_events`.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import Iterable
from typing import Any

from aiormq.abc import DeliveredMessage
from rasa.core.brokers.pika import PikaEventBroker

logger = logging.getLogger(__name__)

# aiormq's write queue holds 10 frames (aiormq.Connection.FRAME_BUFFER_SIZE); a chunk never
# needs more than the room left, so no message of it waits on the queue holding the lock.
_DEFAULT_WRITE_QUEUE_SIZE = 10


def publish_together(broker: PikaEventBroker, events: Iterable[dict[str, Any]]) -> None:
    """Queue `events` (Rasa's event dicts, in order) for `broker`; returns at once.

    Synchronous and non-blocking like `EventBroker.publish()`: the writes happen on the event
    loop the broker was built on, in the order of the calls.
    """
    batch = list(events)
    if batch:
        _publisher_of(broker).add(batch)


_publishers: weakref.WeakKeyDictionary[PikaEventBroker, _Publisher] = weakref.WeakKeyDictionary()


def _publisher_of(broker: PikaEventBroker) -> _Publisher:
    publisher = _publishers.get(broker)
    if publisher is None:
        publisher = _publishers[broker] = _Publisher(broker)
    return publisher


class _Publisher:
    """One broker's queue of events to send and the one task that sends them, in order."""

    def __init__(self, broker: PikaEventBroker) -> None:
        self.broker = broker
        self.pending: deque[dict[str, Any]] = deque()
        self.sender: asyncio.Task | None = None
        # Each message's publish waits for its confirm in a task of its own; kept referenced.
        self.confirming: set[asyncio.Task] = set()
        # id(event) -> its place in the order of the saves, while it is pending, in flight or
        # kept: the confirms of a closed channel fail in no particular order.
        self.order: dict[int, int] = {}
        self.added = 0

    def add(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            self.added += 1
            self.order[id(event)] = self.added
        self.pending.extend(events)
        if self.sender is None or self.sender.done():
            self.sender = self.broker._loop.create_task(self._send())

    async def _send(self) -> None:
        while self.pending:
            channel = _channel_of(self.broker)
            if channel is None or channel.is_closed:
                self._keep(self._take(len(self.pending)), "RabbitMQ is not connected")
                return
            self._retry_kept()
            queue = channel.write_queue
            if queue.qsize():
                # aiormq's writer takes every queued frame in its next turn, usually this one.
                await asyncio.sleep(0)
            room = (queue.maxsize or _DEFAULT_WRITE_QUEUE_SIZE) - queue.qsize()
            if room <= 0:
                # Still full: the writer waits for the socket (a slow link, flow control).
                await _written(queue, channel.closing)
                continue
            for event in self._take(room):
                self._publish(channel, event)
            # The chunk's publishes run (each queues its frames and then awaits its confirm).
            await asyncio.sleep(0)

    def _publish(self, channel: Any, event: dict[str, Any]) -> None:
        """One message as Rasa builds it, queued without waiting for the socket's drain."""
        message = self.broker._message(event, None)
        task = self.broker._loop.create_task(
            channel.basic_publish(
                message.body,
                exchange=self.broker._exchange.name,
                routing_key="",
                properties=message.properties,
                mandatory=True,
                wait=False,
            )
        )
        self.confirming.add(task)
        task.add_done_callback(lambda done: self._confirmed(done, event))

    def _take(self, count: int) -> list[dict[str, Any]]:
        return [self.pending.popleft() for _ in range(min(count, len(self.pending)))]

    def _retry_kept(self) -> None:
        """Events kept after a failure are older than the pending ones: they go first."""
        kept = self.broker._unpublished_events
        if kept:
            self.pending.extendleft(reversed([kept.popleft() for _ in range(len(kept))]))

    def _confirmed(self, done: asyncio.Task, event: dict[str, Any]) -> None:
        self.confirming.discard(done)
        if done.cancelled():
            self._keep([event], "its publish was cancelled")
        elif done.exception() is not None:
            error = done.exception()
            self._keep([event], f"{error.__class__.__name__}: {error}")
        elif isinstance(done.result(), DeliveredMessage):
            # aiormq answers with the message itself when RabbitMQ returned it (no queue bound).
            self._keep([event], "RabbitMQ returned it unroutable (no queue bound to the exchange)")
        else:
            self.order.pop(id(event), None)

    def _keep(self, events: list[dict[str, Any]], cause: str) -> None:
        if not events:
            return
        if not self.broker.should_keep_unpublished_messages:
            for event in events:
                self.order.pop(id(event), None)
            logger.error(
                "%d event(s) not published to RabbitMQ (%s); dropped "
                "(should_keep_unpublished_messages is off)",
                len(events),
                cause,
            )
            return
        kept = self.broker._unpublished_events
        kept.extend(events)
        # In the order of the saves; events Rasa's own publish() kept (not ours) stay first.
        in_order = sorted(kept, key=lambda e: self.order.get(id(e), 0))
        kept.clear()
        kept.extend(in_order)
        logger.error(
            "%d event(s) not published to RabbitMQ (%s); kept in memory, sent again first with "
            "the next events or when the connection comes back",
            len(events),
            cause,
        )


def _channel_of(broker: PikaEventBroker) -> Any:
    """The aiormq channel under the broker's exchange, or None before it has one."""
    exchange = broker._exchange
    if exchange is None:
        return None
    # aio_pika's RobustExchange drops its channel while a reconnection fails to restore it.
    return getattr(exchange, "channel", None)


async def _written(queue: asyncio.Queue, closing: asyncio.Future) -> None:
    """Until the writer has taken every queued frame, or the channel closes."""
    if closing.done():
        return
    joined = asyncio.ensure_future(queue.join())
    try:
        await asyncio.wait({joined, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        joined.cancel()
