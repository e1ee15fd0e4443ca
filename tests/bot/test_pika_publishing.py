"""A save's events reach RabbitMQ through Rasa's PikaEventBroker in a few writes, in order, and
none is lost when publishing fails.

Real peers: RabbitMQ on 127.0.0.1:5672 (guest/guest), Rasa's own PikaEventBroker connected to it
(an exchange and a queue of the test's own in the default vhost, deleted afterwards), and
HandoffTrackerStore wrapping Rasa's SQL tracker store on SQLite, saving the way Rasa's processor
does. What arrives is read back from the queue with aio_pika.

The number of writes is counted in event-loop turns: a callback that re-schedules itself marks
each turn, and the connection's write queue records the turn in which aiormq's writer took each
message. Rasa's own publish writes one message per turn (each holds the channel's lock until
written), so 40 events need 40 turns with writes; together they need one per chunk of 10.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from pamqp import commands as spec
from rasa.core.brokers.pika import PikaEventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handoff_component.bot.pika_publishing import publishing_figures
from handoff_component.bot.tracker_store import HandoffTrackerStore
from scripts.local_services import rabbitmq_answers
from tests.e2e.fault_injection import TcpProxy
from tests.loud import skip_loudly
from tests.waiting import async_wait_until

pytestmark = pytest.mark.rabbitmq

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
DOMAIN = Domain.load(Path(__file__).resolve().parents[2] / "domain.yml")


@pytest.fixture
async def names() -> AsyncIterator[tuple[str, str]]:
    """An exchange and a queue of this test's own; deleted afterwards."""
    if not rabbitmq_answers():
        skip_loudly("RABBITMQ PUBLISHING NOT TESTED: RabbitMQ does not answer on 127.0.0.1:5672")
    suffix = uuid.uuid4().hex[:8]
    exchange, queue = f"test-publish-{suffix}", f"test-publish-{suffix}"
    yield exchange, queue
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await channel.exchange_delete(exchange)


def pika_broker(names: tuple[str, str], port: int = 5672) -> PikaEventBroker:
    exchange, queue = names
    return PikaEventBroker(
        "127.0.0.1",
        "guest",
        "guest",
        port=port,
        queues=[queue],
        exchange_name=exchange,
        event_loop=asyncio.get_running_loop(),
        connection_attempts=1,
    )


@pytest.fixture
async def broker(names: tuple[str, str]) -> AsyncIterator[PikaEventBroker]:
    """Rasa's PikaEventBroker, connected: it declares the exchange and binds the queue."""
    broker = pika_broker(names)
    await broker.connect()
    yield broker
    await broker.close()


def store_with(broker: PikaEventBroker, tmp_path: Path, **options: Any) -> HandoffTrackerStore:
    return HandoffTrackerStore(
        domain=DOMAIN,
        event_broker=broker,
        wraps="SQL",
        dialect="sqlite",
        db=str(tmp_path / "t.db"),
        **options,
    )


async def save_turns(store: HandoffTrackerStore, sender: str, turns: int, first: int = 0) -> None:
    """One save of `turns` turns of five events each (their texts numbered from `first`)."""
    tracker: DialogueStateTracker = await store.get_or_create_tracker(sender)
    for n in range(first, first + turns):
        for event in (
            UserUttered(f"question {n}", {"name": "shipping_info", "confidence": 0.9}),
            ActionExecuted("utter_shipping_info"),
            BotUttered(f"answer {n}"),
            SlotSet("handoff_active", False),
            ActionExecuted("action_listen"),
        ):
            tracker.update(event)
    await store.save(tracker)


async def store_with_a_published_turn(
    broker: PikaEventBroker, queue: str, tmp_path: Path
) -> HandoffTrackerStore:
    """A store whose tracker "c1" exists with its first turn on `queue`: the next save
    publishes just its own turns."""
    store = store_with(broker, tmp_path)
    await save_turns(store, "c1", 1)
    await received(queue, 6)
    return store


async def received(queue: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events in `queue`, in the order RabbitMQ delivers them."""
    return await received_until(queue, lambda events: len(events) >= count, f"{count} events")


async def received_until(
    queue: str, enough: Callable[[list[dict[str, Any]]], bool], what: str
) -> list[dict[str, Any]]:
    """Events of `queue` in the order RabbitMQ delivers them, until `enough` of them."""
    events: list[dict[str, Any]] = []
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        bound = await channel.get_queue(queue)

        async def got_all() -> bool:
            message = await bound.get(no_ack=True, fail=False)
            if message is not None:
                events.append(json.loads(message.body))
            return enough(events)

        await async_wait_until(got_all, timeout=30, what=f"{what} in {queue}", interval=0)
    return events


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["event"] in ("user", "bot")]


class LoopTurns:
    """Counts event-loop turns: a callback that schedules itself again runs once per turn."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.count = 0
        self.handle = self.loop.call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self.handle = self.loop.call_soon(self._tick)

    def stop(self) -> None:
        self.handle.cancel()


def record_write_turns(
    broker: PikaEventBroker, turns: LoopTurns, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """The turn in which aiormq's writer takes each published message from its write queue."""
    write_queue = broker._exchange.channel.write_queue
    taken: list[int] = []
    original_get_nowait = write_queue.get_nowait

    def get_nowait() -> Any:
        frame = original_get_nowait()
        if any(isinstance(part, spec.Basic.Publish) for part in frame.frames):
            taken.append(turns.count)
        return frame

    # aiormq's writer awaits `queue.get()`, which takes each frame with `self.get_nowait()`
    # (also the one its pending call is waiting for).
    monkeypatch.setattr(write_queue, "get_nowait", get_nowait)
    return taken


async def test_a_saves_events_are_written_a_chunk_per_turn_not_one_per_turn(
    broker: PikaEventBroker,
    names: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = await store_with_a_published_turn(broker, names[1], tmp_path)
    turns = LoopTurns()
    write_turns = record_write_turns(broker, turns, monkeypatch)

    await save_turns(store, "c1", 8, first=1)  # 40 events in one save

    events = await received(names[1], 40)
    turns.stop()
    assert len(write_turns) == 40
    chunks = math.ceil(40 / broker._exchange.channel.write_queue.maxsize)
    # Rasa's PikaEventBroker.publish(): 40 turns with a write, spread over 117 turns; together:
    # 4 turns with a write (10 messages each), over 6 turns.
    assert len(set(write_turns)) <= chunks + 1, write_turns
    assert max(write_turns) - min(write_turns) <= 2 * chunks, write_turns
    assert texts(events) == [t for n in range(1, 9) for t in (f"question {n}", f"answer {n}")]


async def test_the_events_of_each_conversation_arrive_in_the_order_of_their_saves(
    broker: PikaEventBroker, names: tuple[str, str], tmp_path: Path
) -> None:
    store = store_with(broker, tmp_path)

    # Saves one after the other without waiting for anything to be written, as under load.
    for first in range(0, 12, 3):
        await save_turns(store, "a", 3, first)
        await save_turns(store, "b", 3, first)

    events = await received(names[1], 2 * (1 + 12 * 5))
    for sender in ("a", "b"):
        mine = [e for e in events if e["sender_id"] == sender]
        assert texts(mine) == [t for n in range(12) for t in (f"question {n}", f"answer {n}")]


async def test_events_saved_before_the_broker_is_connected_go_first_once_it_is(
    names: tuple[str, str], tmp_path: Path
) -> None:
    broker = pika_broker(names)  # no exchange yet: Rasa's publish() would drop these
    store = store_with(broker, tmp_path)
    await save_turns(store, "c1", 2)
    assert publishing_figures(broker).waiting == 11

    await broker.connect()
    await save_turns(store, "c1", 1, first=2)

    events = await received(names[1], 16)
    await broker.close()
    assert texts(events) == [t for n in range(3) for t in (f"question {n}", f"answer {n}")]


async def test_a_failed_publish_is_logged_with_its_cause_and_sent_again_without_another_save(
    broker: PikaEventBroker,
    names: tuple[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    exchange, queue = names
    store = await store_with_a_published_turn(broker, queue, tmp_path)
    # The exchange goes away behind Rasa's back: RabbitMQ refuses the next publishes and
    # closes the channel (404 NOT_FOUND); aio_pika reopens it and declares the exchange again.
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        await (await connection.channel()).exchange_delete(exchange)

    with caplog.at_level(logging.ERROR, logger="handoff_component.bot.pika_publishing"):
        await save_turns(store, "c1", 1, first=1)
        await async_wait_until(
            lambda: publishing_figures(broker).failed >= 1, what="the save's publishes failed"
        )
    assert any("NOT_FOUND" in r.getMessage() or "404" in r.getMessage() for r in caplog.records)

    # No other save: the publisher sends the failed events again by itself, once each.
    events = await received(queue, 5)
    assert texts(events) == ["question 1", "answer 1"]
    await save_turns(store, "c1", 1, first=2)
    events = await received(queue, 5)
    assert texts(events) == ["question 2", "answer 2"]
    assert publishing_figures(broker).waiting == 0


async def test_events_returned_unroutable_are_sent_again_in_save_order_once_a_queue_is_bound(
    broker: PikaEventBroker, names: tuple[str, str], tmp_path: Path
) -> None:
    exchange, queue = names
    store = await store_with_a_published_turn(broker, queue, tmp_path)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        bound = await channel.get_queue(queue)
        await bound.unbind(exchange, "")
        # Three saves whose 15 events RabbitMQ returns (mandatory, no queue bound): all kept.
        for first in (1, 3, 5):
            await save_turns(store, "c1", 2, first)
        await async_wait_until(
            lambda: publishing_figures(broker).failed >= 15, what="15 events returned"
        )
        await bound.bind(exchange, "")

    # Sent again by the publisher's retry, in the order of the saves, each once.
    await save_turns(store, "c1", 1, first=7)
    events = await received(queue, 35)
    assert texts(events) == [t for n in range(1, 8) for t in (f"question {n}", f"answer {n}")]
    assert publishing_figures(broker).waiting == 0


async def test_a_long_outage_keeps_only_the_newest_events_up_to_the_limit_and_counts_the_rest(
    names: tuple[str, str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broker = pika_broker(names)  # not connected: RabbitMQ is away
    store = store_with(broker, tmp_path, unpublished_limit=10)

    with caplog.at_level(logging.ERROR, logger="handoff_component.bot.pika_publishing"):
        await save_turns(store, "c1", 4)  # 21 events: the session's start and 4 turns

    figures = publishing_figures(broker)
    assert (figures.waiting, figures.dropped) == (10, 11)
    assert any("11 event(s) dropped" in r.getMessage() for r in caplog.records)
    await broker.connect()
    events = await received(names[1], 10)
    await save_turns(store, "c1", 1, first=4)
    events += await received(names[1], 5)
    await broker.close()
    # The newest 10 (turns 2 and 3), then the next save.
    assert texts(events) == [t for n in (2, 3, 4) for t in (f"question {n}", f"answer {n}")]
    assert publishing_figures(broker).dropped == 11


async def test_a_cut_connection_loses_nothing_and_keeps_each_conversations_order(
    names: tuple[str, str], tmp_path: Path
) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    broker = pika_broker(names, port=proxy.port)
    await broker.connect()
    store = store_with(broker, tmp_path)
    try:
        await save_turns(store, "a", 1)
        await save_turns(store, "b", 1)
        await received(names[1], 12)
        proxy.cut()
        for first in (1, 3):
            await save_turns(store, "a", 2, first)
            await save_turns(store, "b", 2, first)
        await async_wait_until(
            lambda: (
                publishing_figures(broker).waiting + publishing_figures(broker).unconfirmed == 40
                or publishing_figures(broker).failed > 0
            ),
            what="the saves held while RabbitMQ is away",
        )
        proxy.restore()
        # aio_pika reconnects by itself; the publisher resends without another save.
        last = {"question 4", "answer 4"}
        events = await received_until(
            names[1],
            lambda got: all(
                last <= {e.get("text") for e in got if e["sender_id"] == s} for s in ("a", "b")
            ),
            "the last turn of both conversations",
        )
    finally:
        await broker.close()
        proxy.close()
    for sender in ("a", "b"):
        mine = [e for e in events if e["sender_id"] == sender]
        # A publish whose confirm was lost with the connection may arrive twice (the service
        # stores it once); none is missing and the order of first arrivals is the saves'.
        firsts = list(dict.fromkeys(texts(mine)))
        assert firsts == [t for n in range(1, 5) for t in (f"question {n}", f"answer {n}")]


async def test_long_messages_are_bounded_by_their_size_too(
    names: tuple[str, str], tmp_path: Path
) -> None:
    broker = pika_broker(names)  # not connected: RabbitMQ is away
    store = store_with(broker, tmp_path, unpublished_limit_mb=0.05)  # 52,428 bytes
    tracker = await store.get_or_create_tracker("c1")
    for n in range(20):
        tracker.update(UserUttered(f"question {n} " + "x" * 3000))
    await store.save(tracker)

    # The session's start and 20 messages of about 6 KB (the text twice, with parse_data).
    figures = publishing_figures(broker)
    assert 1 < figures.waiting < 10
    assert figures.waiting + figures.dropped == 21
    await broker.connect()
    events = await received(names[1], figures.waiting)
    await broker.close()
    assert sum(len(json.dumps(e)) for e in events) <= 0.05 * 1024 * 1024
    newest = range(20 - figures.waiting, 20)
    assert [t.split(" x")[0] for t in texts(events)] == [f"question {n}" for n in newest]


async def test_an_event_rabbitmq_refuses_on_its_own_is_dropped_and_the_next_ones_go_on(
    broker: PikaEventBroker,
    names: tuple[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    exchange, queue = names
    store = store_with(broker, tmp_path)
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        # A second queue on Rasa's exchange that refuses (nacks) any message over 2,000 bytes
        # and keeps none (TTL 0): RabbitMQ refuses that one message every time, nothing else.
        small = await channel.declare_queue(
            f"{queue}-small",
            arguments={
                "x-max-length-bytes": 2000,
                "x-overflow": "reject-publish",
                "x-message-ttl": 0,
            },
        )
        await small.bind(exchange, "")
        try:
            await save_turns(store, "c1", 1)
            # The long message between two turns of the same save: its neighbours are
            # confirmed around its nack.
            tracker = await store.get_or_create_tracker("c1")
            tracker.update(UserUttered("too long " + "x" * 5000))
            for n in (1, 2):
                tracker.update(UserUttered(f"question {n}"))
                tracker.update(BotUttered(f"answer {n}"))
            saves = 3
            with caplog.at_level(logging.ERROR, logger="handoff_component.bot.pika_publishing"):
                await store.save(tracker)
                # Customers go on writing while it is refused.
                while publishing_figures(broker).dropped == 0 and saves < 200:
                    await asyncio.sleep(0.1)
                    await save_turns(store, "c1", 1, first=saves)
                    saves += 1
            assert publishing_figures(broker).dropped == 1
            events = await received_until(
                queue,
                lambda got: f"answer {saves - 1}" in texts(got),
                "the saves after the refused event",
            )
        finally:
            await small.delete(if_unused=False, if_empty=False)
    assert any("refused 5 times on its own" in r.getMessage() for r in caplog.records)
    assert "basic.nack" in " ".join(r.getMessage() for r in caplog.records)
    # The main queue also got each refused copy (a nack from one queue of a fanout); the
    # others came once each, in save order.
    assert [t for t in texts(events) if not t.startswith("too long")] == [
        t for n in range(saves) for t in (f"question {n}", f"answer {n}")
    ]
    assert publishing_figures(broker).waiting == 0
