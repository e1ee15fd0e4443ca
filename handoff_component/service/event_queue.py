"""Tracker events from RabbitMQ: Rasa's own PikaEventBroker publishes, service replicas consume.

The production delivery mode (docs/deployment.md, "Event delivery"). Rasa runs its stock
`PikaEventBroker`: a fanout exchange and one durable queue, here `handoff_events`, in a vhost
whose default queue type is quorum, so Rasa's plain declaration makes a quorum queue. In Rasa's
process only HandoffTrackerStore takes part, handing each save's events to that broker's
connection together (bot/pika_publishing.py); nothing is kept on Rasa's disk. Each service
replica, given

    HANDOFF_EVENTS_URL=amqp://user:password@rabbitmq:5672/handoff?queue=handoff_events&partitions=8

does the rest:

- **routing**: one replica at a time reads Rasa's queue in order and republishes each event the
  service reads (messages, the handoff request) to the partition of its conversation
  (`crc32(sender_id) % partitions`) through a direct exchange, what has arrived at once with
  publisher confirms, then acknowledges it; Rasa's bookkeeping events are acknowledged unrouted.
  Which replica routes is decided by a token: one message in `handoff_events.router`, a
  single-active-consumer queue, held unacknowledged by the router and handed by RabbitMQ to the
  next replica when the router's connection goes;
- **partitions**: `handoff_events.partition.N`, quorum queues with a single active consumer: every
  replica subscribes to every partition (in its own rotated order, so replicas that start together
  share them) and RabbitMQ delivers each partition to one of them at a time, so one conversation's
  events are applied in order. When that replica goes, its unacknowledged messages return to the
  queue and the next subscriber gets them, first;
- **effects**: the events of a partition are applied in batches through the same TicketStore calls
  as `POST /api/events` and `POST /api/handoffs` (idempotent by event identity and idempotency key,
  so a redelivered message is stored once) and acknowledged only after the commit. A handoff
  request the action server could not deliver rides the stream as the `handoff_request` slot, as
  it rides the outbox in the HTTP mode;
- **poison messages** (not JSON, not an event, a field the contract refuses) go to
  `handoff_events.dead` with the reason in the `x-handoff-reason` header and are counted by reason
  in `/metrics` (`handoff_events_dead_lettered_total`); the next events of the conversation go on.
  A database outage is not poison: the partition waits and retries, keeping its order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from sqlalchemy import exc as sa_exc

from handoff_component.contract import (
    BrokerEvent,
    ContractError,
    EventBatch,
    HandoffRequest,
    bounded_event,
    service_part,
)
from handoff_component.contract.slots import HANDOFF_REQUEST_SLOT

logger = logging.getLogger(__name__)

REASON_HEADER = "x-handoff-reason"
QUORUM: dict[str, Any] = {"x-queue-type": "quorum"}
MAX_PARTITIONS = 256


@dataclass(frozen=True)
class QueueSettings:
    """`HANDOFF_EVENTS_URL`: where RabbitMQ is, the queue Rasa publishes to, how many partitions."""

    url: str  # for aio-pika, without this module's own query parameters
    queue: str = "handoff_events"
    partitions: int = 8
    batch_size: int = 100
    retry_seconds: float = 1.0

    @classmethod
    def from_url(cls, url: str) -> QueueSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("amqp", "amqps"):
            raise ValueError(
                f"HANDOFF_EVENTS_URL must be amqp://... or amqps://..., got {parts.scheme!r}"
            )
        ours, theirs = {}, []
        for key, value in parse_qsl(parts.query):
            if key in ("queue", "partitions", "batch_size"):
                ours[key] = value
            else:
                theirs.append((key, value))
        queue = ours.get("queue", cls.queue)
        if not queue or len(queue) > 200:
            raise ValueError("HANDOFF_EVENTS_URL: queue must be a name of 1 to 200 characters")
        try:
            partitions = int(ours.get("partitions", cls.partitions))
            batch_size = int(ours.get("batch_size", cls.batch_size))
        except ValueError:
            raise ValueError("HANDOFF_EVENTS_URL: partitions and batch_size are integers") from None
        if not 1 <= partitions <= MAX_PARTITIONS:
            raise ValueError(f"HANDOFF_EVENTS_URL: partitions must be 1..{MAX_PARTITIONS}")
        if not 1 <= batch_size <= 1000:
            raise ValueError("HANDOFF_EVENTS_URL: batch_size must be 1..1000")
        plain = urlunsplit(parts._replace(query=urlencode(theirs)))
        return cls(url=plain, queue=queue, partitions=partitions, batch_size=batch_size)

    @property
    def exchange(self) -> str:
        return f"{self.queue}.partitions"

    @property
    def dead_letters(self) -> str:
        return f"{self.queue}.dead"

    @property
    def router(self) -> str:
        return f"{self.queue}.router"

    def partition_queue(self, number: int) -> str:
        return f"{self.queue}.partition.{number}"

    def partition_of(self, conversation_id: str) -> int:
        return zlib.crc32(conversation_id.encode("utf-8")) % self.partitions

    def redacted_url(self) -> str:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit(parts._replace(netloc=f"{host}{port}", query=""))


class QueueMisconfigured(RuntimeError):
    """RabbitMQ answers but is set up so that events could be lost or reordered: do not start."""


@dataclass
class QueueFigures:
    """What `/metrics` shows of this replica's consumption."""

    applied: int = 0
    ignored: int = 0
    routed: int = 0
    redelivered: int = 0
    dead_lettered: Counter = field(default_factory=Counter)
    partitions_seen: set[int] = field(default_factory=set)
    routing: bool = False
    connected: bool = False


class Poison(Exception):
    """A message that can never be applied; `reason` goes to the dead-letter queue and metrics."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode(body: bytes) -> tuple[dict[str, Any], BrokerEvent | None, HandoffRequest | None]:
    """A Rasa event as published by PikaEventBroker: its dict, what the service reads of it (None
    for Rasa's own bookkeeping) and the handoff request it carries, if any; Poison otherwise."""
    try:
        event = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Poison("invalid_json", str(error)[:300]) from None
    if not isinstance(event, dict) or not isinstance(event.get("sender_id"), str):
        raise Poison("not_an_event", "a Rasa event is a JSON object with a string sender_id")
    part = service_part(event, HANDOFF_REQUEST_SLOT)
    if part is None:
        return event, None, None
    try:
        broker_event = BrokerEvent.from_dict(bounded_event(part))
        request = None
        value = event.get("value")
        if event.get("event") == "slot" and isinstance(value, dict):
            request = HandoffRequest.from_dict(value)
    except ContractError as error:
        raise Poison("invalid_field", str(error)[:300]) from None
    return event, broker_event, request


def _transient(error: BaseException) -> bool:
    """The database went away: wait and retry rather than set the event aside."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, OSError)
    )


class EventQueue:
    """One service replica's share of the event stream; `start()` returns once connected."""

    def __init__(self, settings: QueueSettings, tickets: Any) -> None:
        self.settings = settings
        self.tickets = tickets
        self.figures = QueueFigures()
        self._connection: aio_pika.abc.AbstractConnection | None = None
        self._supervisor: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []
        self._offset = random.randrange(settings.partitions)
        self._stopping = False

    async def start(self) -> None:
        """Connect and check the setup once (a wrong one refuses to start), then run."""
        connection = await aio_pika.connect(self.settings.url, timeout=10)
        try:
            await self._declare(connection)
        finally:
            await connection.close()
        self._supervisor = asyncio.get_running_loop().create_task(self._run_forever())

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._disconnect()

    # --- set-up -------------------------------------------------------------------------------

    async def _declare(self, connection: aio_pika.abc.AbstractConnection) -> None:
        """Declare every queue; prove that Rasa's own plain declaration makes a quorum queue."""
        s = self.settings
        channel = await connection.channel()
        try:
            await channel.declare_queue(s.queue, durable=True, arguments=QUORUM)
        except aiormq.exceptions.ChannelPreconditionFailed as error:
            raise QueueMisconfigured(
                f"queue {s.queue!r} exists and is not a quorum queue ({error}); delete it, or use "
                "a vhost created with --default-queue-type quorum (docs/deployment.md)"
            ) from None
        channel = await connection.channel()
        try:
            # What Rasa's PikaEventBroker sends: durable, no arguments.
            await channel.declare_queue(s.queue, durable=True)
        except aiormq.exceptions.ChannelPreconditionFailed:
            raise QueueMisconfigured(
                f"the vhost of {s.redacted_url()} does not make quorum queues by default, so "
                f"Rasa's PikaEventBroker cannot declare {s.queue!r}: create the vhost with "
                "`rabbitmqctl add_vhost NAME --default-queue-type quorum` (docs/deployment.md)"
            ) from None
        exchange = await channel.declare_exchange(
            s.exchange, aio_pika.ExchangeType.DIRECT, durable=True
        )
        await channel.declare_queue(s.dead_letters, durable=True, arguments=QUORUM)
        single: dict[str, Any] = {**QUORUM, "x-single-active-consumer": True}
        for number in range(s.partitions):
            queue = await channel.declare_queue(
                s.partition_queue(number), durable=True, arguments=single
            )
            await queue.bind(exchange, routing_key=str(number))
        router = await channel.declare_queue(s.router, durable=True, arguments=single)
        if (
            not router.declaration_result.message_count
            and not router.declaration_result.consumer_count
        ):
            token = aio_pika.Message(b"router", delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
            await channel.default_exchange.publish(token, routing_key=s.router)
        await channel.close()

    # --- the connection and its tasks ---------------------------------------------------------

    async def _run_forever(self) -> None:
        delay = self.settings.retry_seconds
        while not self._stopping:
            try:
                self._connection = await aio_pika.connect(self.settings.url, timeout=10)
                self.figures.connected = True
                delay = self.settings.retry_seconds
                logger.info("consuming handoff events from %s", self.settings.redacted_url())
                await self._serve(self._connection)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.warning(
                    "handoff events: RabbitMQ at %s unavailable (%s); retrying in %.1f s",
                    self.settings.redacted_url(), error.__class__.__name__, delay,
                )  # fmt: skip
            finally:
                self.figures.connected = False
                await self._disconnect()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _disconnect(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self.figures.routing = False
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    async def _serve(self, connection: Any) -> None:
        """Wait in line for every partition and for the router's token; apply what arrives."""
        s = self.settings
        loop = asyncio.get_running_loop()
        closed = asyncio.Event()
        connection.close_callbacks.add(lambda *_: closed.set())
        # In a rotated order, so replicas that start together spread the partitions between them.
        for step in range(s.partitions):
            number = (self._offset + step) % s.partitions
            channel = await connection.channel(publisher_confirms=True)
            await channel.set_qos(prefetch_count=s.batch_size)
            queue = await channel.get_queue(s.partition_queue(number), ensure=False)
            inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
            await queue.consume(inbox.put)
            self._tasks.append(loop.create_task(self._apply_forever(number, channel, inbox)))
        self._tasks.append(loop.create_task(self._route_when_holding_the_token(connection)))
        while not closed.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(closed.wait(), 5.0)
            failed = [t for t in self._tasks if t.done() and not t.cancelled() and t.exception()]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
        raise ConnectionError("RabbitMQ connection closed")

    # --- routing ------------------------------------------------------------------------------

    async def _route_when_holding_the_token(self, connection: Any) -> None:
        """Route Rasa's queue while this replica holds the router's token, and only then.

        The token is one message in a single-active-consumer queue that its holder never
        acknowledges: RabbitMQ delivers it to one consumer at a time and gives it to the next one
        when the holder's connection goes, so exactly one replica routes, in order.
        """
        s = self.settings
        token_channel = await connection.channel()
        await token_channel.set_qos(prefetch_count=1)
        token_queue = await token_channel.get_queue(s.router, ensure=False)
        holding = asyncio.Event()

        async def on_token(_: AbstractIncomingMessage) -> None:
            holding.set()

        await token_queue.consume(on_token)
        await holding.wait()
        channel = await connection.channel(publisher_confirms=True)
        await channel.set_qos(prefetch_count=s.batch_size)
        queue = await channel.get_queue(s.queue, ensure=False)
        exchange = await channel.get_exchange(s.exchange, ensure=False)
        inbox: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
        await queue.consume(inbox.put)
        self.figures.routing = True
        logger.info("this replica routes %s to %d partitions", s.queue, s.partitions)
        try:
            while True:
                batch = [await inbox.get()]
                while len(batch) < s.batch_size and not inbox.empty():
                    batch.append(inbox.get_nowait())
                await self._route(batch, exchange, channel.default_exchange)
        finally:
            self.figures.routing = False

    async def _route(self, batch: list[AbstractIncomingMessage], exchange: Any, dead: Any) -> None:
        """Republish what has arrived to its partitions, then acknowledge it all at once.

        The batch's publishes are written one after the other on one channel, which keeps their
        order in RabbitMQ, and their confirms are awaited together. Waiting for each confirm
        before the next publish held the router to one event per confirm round trip (a quorum
        queue confirms once its disk write is done): slower than one Rasa replica publishes on a
        busy host, so messages reached their tickets seconds late and later not at all
        (docs/performance.md). Nothing is acknowledged before every confirm is in; a refused
        publish stops the router, and the next one routes the batch again (applied once).

        Rasa's bookkeeping events, which the service does not read (actions, slots other than
        the handoff request, session starts: most of a turn's events), are acknowledged here
        instead of being routed to a partition to be ignored there.
        """
        publishes = []
        routed = ignored = 0
        for message in batch:
            try:
                partition = self._partition_of(message.body)
            except Poison as poison:
                publishes.append(self._dead_letter(dead, message, poison))
                continue
            if partition is None:
                ignored += 1
                continue
            publishes.append(
                exchange.publish(
                    aio_pika.Message(
                        message.body,
                        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                        content_type="application/json",
                    ),
                    routing_key=str(partition),
                )
            )
            routed += 1
        outcomes = await asyncio.gather(*publishes, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        self.figures.routed += routed
        self.figures.ignored += ignored
        await batch[-1].ack(multiple=True)

    def _partition_of(self, body: bytes) -> int | None:
        """The partition of a message's conversation; None for an event the service ignores."""
        try:
            event = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise Poison("invalid_json", str(error)[:300]) from None
        sender = event.get("sender_id") if isinstance(event, dict) else None
        if not isinstance(sender, str):
            raise Poison("not_an_event", "a Rasa event is a JSON object with a string sender_id")
        if service_part(event, HANDOFF_REQUEST_SLOT) is None:
            return None
        return self.settings.partition_of(sender)

    async def _dead_letter(
        self, dead: Any, message: AbstractIncomingMessage, poison: Poison
    ) -> None:
        headers: dict[str, Any] = {REASON_HEADER: f"{poison.reason}: {poison.detail}"}
        await dead.publish(
            aio_pika.Message(
                message.body, headers=headers, delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            ),
            routing_key=self.settings.dead_letters,
        )
        self.figures.dead_lettered[poison.reason] += 1
        logger.error("handoff event dead-lettered to %s: %s", self.settings.dead_letters, poison)

    # --- applying a partition's events --------------------------------------------------------

    async def _apply_forever(
        self, number: int, channel: AbstractChannel, inbox: asyncio.Queue[AbstractIncomingMessage]
    ) -> None:
        """Take what has arrived (up to a batch), apply it, then acknowledge it all at once."""
        dead = channel.default_exchange
        while True:
            batch = [await inbox.get()]
            while len(batch) < self.settings.batch_size and not inbox.empty():
                batch.append(inbox.get_nowait())
            try:
                await self._apply_waiting(batch, dead, number)
            except Exception:
                # Not an outage and not a message the contract refuses: find the one that fails
                # and set it aside, so that it cannot hold its partition back.
                logger.exception("handoff events: a batch of partition %d failed", number)
                for message in batch:
                    try:
                        await self._apply_waiting([message], dead, number)
                    except Exception as error:
                        poison = Poison(
                            "apply_failed", f"{error.__class__.__name__}: {error}"[:300]
                        )
                        await self._dead_letter(dead, message, poison)
            self.figures.partitions_seen.add(number)
            await batch[-1].ack(multiple=True)

    async def _apply_waiting(
        self, batch: list[AbstractIncomingMessage], dead: Any, number: int
    ) -> None:
        """Apply, waiting out a database outage (the partition keeps its order meanwhile)."""
        delay = self.settings.retry_seconds
        while True:
            try:
                await self._apply(batch, dead)
                return
            except Exception as error:
                if not _transient(error):
                    raise
                logger.warning(
                    "handoff events: database unavailable (%s), partition %d waits %.1f s",
                    error.__class__.__name__, number, delay,
                )  # fmt: skip
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    async def _apply(self, batch: list[AbstractIncomingMessage], dead: Any) -> None:
        """Apply a batch in order: runs of events in one transaction, each handoff on its own."""
        events: list[BrokerEvent] = []
        for message in batch:
            if message.redelivered:
                self.figures.redelivered += 1
            try:
                _, event, request = decode(message.body)
            except Poison as poison:
                await self._flush(events)
                await self._dead_letter(dead, message, poison)
                continue
            if event is None:
                self.figures.ignored += 1
                continue
            events.append(event)
            if request is not None:
                await self._flush(events)
                await self.tickets.open_handoff(request)
                self.figures.applied += 1
        await self._flush(events)

    async def _flush(self, events: list[BrokerEvent]) -> None:
        if events:
            await self.tickets.append_events(EventBatch(events=list(events)))
            self.figures.applied += len(events)
            events.clear()

    # --- metrics ------------------------------------------------------------------------------

    def prometheus_lines(self) -> list[str]:
        f = self.figures
        lines = [
            "# HELP handoff_events_applied_total Events from RabbitMQ applied by this replica.",
            "# TYPE handoff_events_applied_total counter",
            f"handoff_events_applied_total {f.applied}",
            "# HELP handoff_events_ignored_total Rasa events the service does not read (acked).",
            "# TYPE handoff_events_ignored_total counter",
            f"handoff_events_ignored_total {f.ignored}",
            "# HELP handoff_events_routed_total Events routed from Rasa's queue to partitions.",
            "# TYPE handoff_events_routed_total counter",
            f"handoff_events_routed_total {f.routed}",
            "# HELP handoff_events_redelivered_total Messages received again (applied once).",
            "# TYPE handoff_events_redelivered_total counter",
            f"handoff_events_redelivered_total {f.redelivered}",
            "# HELP handoff_events_dead_lettered_total Messages set aside, by reason.",
            "# TYPE handoff_events_dead_lettered_total counter",
        ]
        for reason in ("invalid_json", "not_an_event", "invalid_field", *sorted(f.dead_lettered)):
            line = (
                f'handoff_events_dead_lettered_total{{reason="{reason}"}} {f.dead_lettered[reason]}'
            )
            if line not in lines:
                lines.append(line)
        lines += [
            "# HELP handoff_events_partitions_applied Partitions this replica applied events of.",
            "# TYPE handoff_events_partitions_applied gauge",
            f"handoff_events_partitions_applied {len(f.partitions_seen)}",
            "# HELP handoff_events_routing Whether this replica routes Rasa's queue now.",
            "# TYPE handoff_events_routing gauge",
            f"handoff_events_routing {int(f.routing)}",
            "# HELP handoff_events_connected Whether this replica is connected to RabbitMQ.",
            "# TYPE handoff_events_connected gauge",
            f"handoff_events_connected {int(f.connected)}",
        ]
        return lines


async def start_event_queue(settings: Any, tickets: Any) -> EventQueue | None:
    """The consumer of `HANDOFF_EVENTS_URL`, started; None when the setting is absent."""
    if not settings.events_url:
        return None
    queue = EventQueue(QueueSettings.from_url(settings.events_url), tickets)
    await queue.start()
    return queue
