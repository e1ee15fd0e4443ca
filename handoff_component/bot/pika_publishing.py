"""A save's events through Rasa's PikaEventBroker in a few writes instead of one per event.

Rasa 3.6's `PikaEventBroker.publish()` starts one task per event, and each task holds its
channel's lock until aiormq 6.4's writer has put that one message on the socket
(`basic_publish(wait=True)`), so every event costs about three event-loop turns, one after the
other. A turn of the example bot saves about ten events, so under load the bot's own turns and
the events of a handed-over conversation queued behind that lock (docs/performance.md).

`publish_together(broker, events)` hands the events of a save to one publisher per broker,
which sends what has accumulated in chunks that fit aiormq's write queue (10 frames): every
message of a chunk is queued in the same loop turn, written by the writer in the next one, and
nothing waits for the socket's drain or for the broker's confirm before the next chunk. Publisher
confirms stay on (the channel Rasa opened) and are checked as they come.

What an operator can count on, since this buffer is all there is between a save and RabbitMQ
(nothing on disk in this mode):

- **In save order, resent until confirmed.** An event whose publish fails (channel or
  connection closed, refused by RabbitMQ with a nack, returned unroutable) goes back before the
  events not sent yet and is sent again, without waiting for another save: after a backoff
  (0.5 s doubling to 30 s; the first confirmed publish resets it), at once when aio_pika
  reconnects. Nothing new is sent before it: after a failure the oldest waiting event goes
  alone, and the others follow once it is confirmed. An event that may have reached RabbitMQ
  but whose confirm was lost with the channel is sent again: the service stores it once (event
  identity). A single nacked event among confirmed ones arrives after them; the ticket orders
  messages by their time, not by arrival.
- **One refused event cannot hold the others back.** An event RabbitMQ refuses on its own five
  times in a row (a nack, or its channel closed with 406 PRECONDITION_FAILED, as for a message
  over `max_message_size`) is dropped, logged with the cause and counted; a lost connection or
  a missing exchange never counts against an event.
- **Bounded.** The events waiting or unconfirmed are at most `limit` (20,000 by default,
  `unpublished_limit` of HandoffTrackerStore) and `limit_mb` MB of encoded bodies (64 by
  default, `unpublished_limit_mb`: a customer's long messages cannot grow it past that); at
  most half of the count is unconfirmed on the channel at once. Past a limit, during a long
  outage, the oldest waiting events are dropped: counted (`publishing_figures`) and logged at
  ERROR with the running total, at most every 10 s, and once more when the publisher has
  caught up.
- **Logged with the cause.** Failed publishes are logged at ERROR with the exception or the
  refusal, summed up at most every 10 s instead of one line per event.

With `should_keep_unpublished_messages: false` failed events are dropped (counted and logged)
instead of resent. Rasa's own `_unpublished_events` is left to Rasa (only its publish() fills it).

Relies on two private members of Rasa 3.6.21's PikaEventBroker (pinned in pyproject.toml):
`_exchange` (and its aiormq channel) and `_message()`, plus `_connection` to be told of
reconnections.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
import weakref
from collections import deque
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

import aio_pika
from aiormq.abc import DeliveredMessage
from aiormq.exceptions import ChannelPreconditionFailed, DeliveryError
from rasa.core.brokers.pika import PikaEventBroker

logger = logging.getLogger(__name__)

DEFAULT_UNPUBLISHED_LIMIT = 20_000
DEFAULT_UNPUBLISHED_LIMIT_MB = 64
# aiormq's write queue holds 10 frames (aiormq.Connection.FRAME_BUFFER_SIZE); a chunk never
# needs more than the room left, so no message of it waits on the queue holding the lock.
_DEFAULT_WRITE_QUEUE_SIZE = 10
_MAX_UNCONFIRMED = 1_000
_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 30.0
_LOG_EVERY_S = 10.0
# Refusals of one event sent alone before it is dropped (with the backoff: about 15 s).
_MAX_REFUSALS = 5


@dataclass(frozen=True)
class PublishingFigures:
    """One broker's publisher: what it holds now and what it failed or dropped since start."""

    waiting: int
    unconfirmed: int
    failed: int
    dropped: int


def publish_together(
    broker: PikaEventBroker,
    events: Iterable[dict[str, Any]],
    limit: int = DEFAULT_UNPUBLISHED_LIMIT,
    limit_mb: float = DEFAULT_UNPUBLISHED_LIMIT_MB,
) -> None:
    """Queue `events` (Rasa's event dicts, in order) for `broker`; returns at once.

    Synchronous and non-blocking like `EventBroker.publish()`: the writes happen on the event
    loop the broker was built on, in the order of the calls. The limits are taken from the first
    call for a broker.
    """
    publisher = _publisher_of(broker, limit, limit_mb)
    messages = []
    for event in events:
        try:
            messages.append(broker._message(event, None))
        except (TypeError, ValueError) as error:
            # Not JSON (a custom action's slot value): the rest of the save still goes.
            publisher.dropped += 1
            publisher._log("dropped", 1, f"not JSON: {error.__class__.__name__}: {error}")
    if messages:
        publisher.add(messages)


def publishing_figures(broker: PikaEventBroker) -> PublishingFigures:
    publisher = _publishers.get(broker)
    if publisher is None:
        return PublishingFigures(waiting=0, unconfirmed=0, failed=0, dropped=0)
    return publisher.figures()


_publishers: weakref.WeakKeyDictionary[PikaEventBroker, _Publisher] = weakref.WeakKeyDictionary()


def _publisher_of(broker: PikaEventBroker, limit: int, limit_mb: float) -> _Publisher:
    publisher = _publishers.get(broker)
    if publisher is None:
        publisher = _publishers[broker] = _Publisher(broker, limit, limit_mb)
    return publisher


class _Publisher:
    """One broker's events to send, in save order, and the one task that sends them."""

    def __init__(self, broker: PikaEventBroker, limit: int, limit_mb: float) -> None:
        if limit < 2:
            raise ValueError("unpublished_limit must be at least 2")
        self.broker = broker
        self.limit = limit
        self.limit_bytes = int(limit_mb * 1024 * 1024)
        # Bytes of the bodies held: waiting and unconfirmed.
        self.held_bytes = 0
        # After a failure the oldest event goes alone until one is confirmed.
        self.probing = False
        self.probe: int | None = None  # the number of the event sent alone
        self.refusals: dict[int, int] = {}
        self.max_unconfirmed = min(_MAX_UNCONFIRMED, limit // 2)
        # Never sent yet, in save order; every event taken from it is older than what it holds.
        self.fresh: deque[tuple[int, aio_pika.Message]] = deque()
        # Sent and failed, by save order: older than everything in `fresh`, so sent first.
        self.again: list[tuple[int, aio_pika.Message]] = []
        self.unconfirmed: set[asyncio.Task] = set()
        self.numbered = 0
        self.failed = 0
        self.dropped = 0
        self.sender: asyncio.Task | None = None
        self.retry: asyncio.TimerHandle | None = None
        self.delay = _RETRY_FIRST_S
        self.confirmed = asyncio.Event()
        self.hooked: Any = None  # the connection whose reconnections wake this publisher
        self._logged: dict[str, float] = {}
        self._unlogged: dict[str, int] = {"failed": 0, "dropped": 0}
        self._dropping = False

    def figures(self) -> PublishingFigures:
        return PublishingFigures(
            waiting=len(self.fresh) + len(self.again),
            unconfirmed=len(self.unconfirmed),
            failed=self.failed,
            dropped=self.dropped,
        )

    def add(self, messages: list[aio_pika.Message]) -> None:
        for message in messages:
            self.numbered += 1
            self.fresh.append((self.numbered, message))
            self.held_bytes += len(message.body)
        self._bound()
        if self.retry is None:
            self._start()

    def _start(self) -> None:
        if self.sender is None or self.sender.done():
            self.sender = self.broker._loop.create_task(self._send())

    def _waiting(self) -> int:
        return len(self.fresh) + len(self.again)

    async def _send(self) -> None:
        while self._waiting() and self.retry is None:
            channel = _channel_of(self.broker)
            if channel is None or channel.is_closed:
                self._retry_later()
                self._log("failed", 0, "RabbitMQ is not connected")
                return
            self._hook()
            if self.probing and self.unconfirmed:
                # The oldest event is on its way alone: the rest waits for its confirm.
                self.confirmed.clear()
                await _confirmed_or_closed(self.confirmed, channel.closing)
                continue
            if len(self.unconfirmed) >= self.max_unconfirmed:
                # Confirms are late (a quorum queue waiting for its majority): hold the rest.
                self.confirmed.clear()
                await _confirmed_or_closed(self.confirmed, channel.closing)
                continue
            queue = channel.write_queue
            if queue.qsize():
                # aiormq's writer takes every queued frame in its next turn, usually this one.
                await asyncio.sleep(0)
            room = min(
                (queue.maxsize or _DEFAULT_WRITE_QUEUE_SIZE) - queue.qsize(),
                1 if self.probing else self.max_unconfirmed - len(self.unconfirmed),
            )
            if room <= 0:
                # Still full: the writer waits for the socket (a slow link, flow control).
                await _written(queue, channel.closing)
                continue
            for number, message in self._take(room):
                self._publish(channel, number, message)
                if self.probing:
                    self.probe = number
            # The chunk's publishes run (each queues its frames and then awaits its confirm).
            await asyncio.sleep(0)

    def _take(self, count: int) -> list[tuple[int, aio_pika.Message]]:
        taken: list[tuple[int, aio_pika.Message]] = []
        while len(taken) < count and self.again:
            taken.append(heapq.heappop(self.again))
        while len(taken) < count and self.fresh:
            taken.append(self.fresh.popleft())
        return taken

    def _publish(self, channel: Any, number: int, message: aio_pika.Message) -> None:
        """One message as Rasa builds it, queued without waiting for the socket's drain."""
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
        self.unconfirmed.add(task)
        task.add_done_callback(lambda done: self._confirmed(done, number, message))

    def _confirmed(self, done: asyncio.Task, number: int, message: aio_pika.Message) -> None:
        self.unconfirmed.discard(done)
        self.confirmed.set()
        if done.cancelled():
            cause = "its publish was cancelled"
        elif isinstance(done.exception(), DeliveryError):
            cause = "RabbitMQ refused it (basic.nack)"
        elif done.exception() is not None:
            error = done.exception()
            cause = f"{error.__class__.__name__}: {error}"
        elif isinstance(done.result(), DeliveredMessage):
            # aiormq answers with the message itself when RabbitMQ returned it (no queue bound).
            cause = "RabbitMQ returned it unroutable (no queue bound to the exchange)"
        else:
            self.delay = _RETRY_FIRST_S
            if number == self.probe:
                # Only the event sent alone ends it: a confirm of one sent before the failure
                # says nothing of the refused one.
                self.probing, self.probe = False, None
            self.refusals.pop(number, None)
            self.held_bytes -= len(message.body)
            if self._dropping and not self._waiting() and not self.unconfirmed:
                self._dropping = False
                self._log("dropped", 0, "", force=True)
                logger.warning(
                    "caught up with RabbitMQ, nothing waiting; %d event(s) dropped since start",
                    self.dropped,
                )
            return
        self.failed += 1
        alone = number == self.probe
        self.probing, self.probe = True, None
        if alone and _refused(done):
            self.refusals[number] = self.refusals.get(number, 0) + 1
        if self.refusals.get(number, 0) >= _MAX_REFUSALS:
            self.refusals.pop(number)
            self._forget(message)
            self._log("dropped", 1, f"refused {_MAX_REFUSALS} times on its own: {cause}")
            # The next oldest goes at once (alone, as after any failure).
            self.delay = _RETRY_FIRST_S
            if self.retry is None:
                self._start()
            return
        if not self.broker.should_keep_unpublished_messages:
            self._forget(message)
            self._log("dropped", 1, f"{cause}; should_keep_unpublished_messages is off")
            return
        heapq.heappush(self.again, (number, message))
        self._log("failed", 1, cause)
        self._bound()
        self._retry_later()

    def _forget(self, message: aio_pika.Message) -> None:
        self.dropped += 1
        self.held_bytes -= len(message.body)

    def _over(self) -> bool:
        count = self._waiting() + len(self.unconfirmed)
        return count > self.limit or (self.held_bytes > self.limit_bytes and count > 0)

    def _bound(self) -> None:
        """Drop the oldest waiting events past the limits (a long outage): counted and logged."""
        dropped = 0
        while self._over() and (self.again or self.fresh):
            _, message = heapq.heappop(self.again) if self.again else self.fresh.popleft()
            self.held_bytes -= len(message.body)
            dropped += 1
        if not dropped:
            return
        self.dropped += dropped
        self._dropping = True
        self._log(
            "dropped",
            dropped,
            f"more than {self.limit} events or {self.limit_bytes / (1024 * 1024):g} MB waiting "
            "for RabbitMQ",
        )

    def _retry_later(self) -> None:
        """Send again after a backoff: a refusal that lasts must not become a busy loop."""
        if self.retry is None:
            self.retry = self.broker._loop.call_later(self.delay, self._retry_now)
            self.delay = min(self.delay * 2, _RETRY_MAX_S)

    def _retry_now(self, *_: Any, **__: Any) -> None:
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None
        if self._waiting():
            self._start()

    def _hook(self) -> None:
        """Be told when aio_pika has reconnected (channels and exchange restored)."""
        connection = self.broker._connection
        if connection is not None and connection is not self.hooked:
            connection.reconnect_callbacks.add(self._reconnected)
            self.hooked = connection

    def _reconnected(self, *_: Any, **__: Any) -> None:
        self.delay = _RETRY_FIRST_S
        self._retry_now()

    def _log(self, kind: str, count: int, cause: str, force: bool = False) -> None:
        """One ERROR line per kind at most every 10 s, with what happened since the last one."""
        self._unlogged[kind] += count
        now = time.monotonic()
        if not force and now - self._logged.get(kind, -_LOG_EVERY_S) < _LOG_EVERY_S:
            return
        self._logged[kind] = now
        since, self._unlogged[kind] = self._unlogged[kind], 0
        if not since and not cause:
            return
        if kind == "failed":
            logger.error(
                "events not published to RabbitMQ (%s): %d failed publishes since the last "
                "report, %d since start; %d event(s) waiting, sent again in save order",
                cause, since, self.failed, self._waiting(),
            )  # fmt: skip
        else:
            logger.error(
                "%d event(s) dropped, never published to RabbitMQ (%s); %d dropped since start, "
                "%d waiting",
                since, cause, self.dropped, self._waiting(),
            )  # fmt: skip


def _refused(done: asyncio.Task) -> bool:
    """RabbitMQ said no to this message itself, not to the connection or the exchange."""
    if done.cancelled():
        return False
    return isinstance(done.exception(), DeliveryError | ChannelPreconditionFailed)


def _channel_of(broker: PikaEventBroker) -> Any:
    """The aiormq channel under the broker's exchange, or None before it has one."""
    exchange = broker._exchange
    if exchange is None:
        return None
    # aio_pika's RobustExchange drops its channel while a reconnection fails to restore it.
    return getattr(exchange, "channel", None)


async def _confirmed_or_closed(confirmed: asyncio.Event, closing: asyncio.Future) -> None:
    """Until a confirm arrives, or the channel closes (its `closing` future is not ours to end)."""
    await _until_or_closed(confirmed.wait, closing)


async def _written(queue: asyncio.Queue, closing: asyncio.Future) -> None:
    """Until the writer has taken every queued frame, or the channel closes."""
    await _until_or_closed(queue.join, closing)


async def _until_or_closed(
    wait: Callable[[], Coroutine[Any, Any, object]], closing: asyncio.Future
) -> None:
    """Until `wait()` returns or `closing` is done; `wait` is only called on an open channel, so
    no coroutine is left unawaited, and it is cancelled when the channel closes first."""
    if closing.done():
        return
    waiting = asyncio.ensure_future(wait())
    try:
        await asyncio.wait({waiting, closing}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiting.cancel()
