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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aio_pika
import pytest
from pamqp import commands as spec
from rasa.core.brokers.pika import PikaEventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handoff_component.bot.tracker_store import HandoffTrackerStore
from scripts.local_services import rabbitmq_answers
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


def pika_broker(names: tuple[str, str]) -> PikaEventBroker:
    exchange, queue = names
    return PikaEventBroker(
        "127.0.0.1",
        "guest",
        "guest",
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


def store_with(broker: PikaEventBroker, tmp_path: Path) -> HandoffTrackerStore:
    return HandoffTrackerStore(
        domain=DOMAIN, event_broker=broker, wraps="SQL", dialect="sqlite", db=str(tmp_path / "t.db")
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


async def received(queue: str, count: int) -> list[dict[str, Any]]:
    """The first `count` events in `queue`, in the order RabbitMQ delivers them."""
    events: list[dict[str, Any]] = []
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        bound = await channel.get_queue(queue)

        async def got_all() -> bool:
            message = await bound.get(no_ack=True, fail=False)
            if message is not None:
                events.append(json.loads(message.body))
            return len(events) >= count

        await async_wait_until(got_all, timeout=20, what=f"{count} events in {queue}", interval=0)
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
    store = store_with(broker, tmp_path)
    await save_turns(store, "c1", 1)  # the tracker exists: the next save adds just its turns
    await received(names[1], 6)
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
    await async_wait_until(lambda: len(broker._unpublished_events) == 11, what="11 kept events")

    await broker.connect()
    await save_turns(store, "c1", 1, first=2)

    events = await received(names[1], 16)
    await broker.close()
    assert texts(events) == [t for n in range(3) for t in (f"question {n}", f"answer {n}")]


async def test_a_failed_publish_is_logged_with_its_cause_and_sent_with_the_next_save(
    broker: PikaEventBroker,
    names: tuple[str, str],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    exchange, queue = names
    store = store_with(broker, tmp_path)
    await save_turns(store, "c1", 1)
    await received(queue, 6)
    # The exchange goes away behind Rasa's back: RabbitMQ refuses the next publishes and
    # closes the channel (404 NOT_FOUND).
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        await (await connection.channel()).exchange_delete(exchange)

    with caplog.at_level(logging.ERROR, logger="handoff_component.bot.pika_publishing"):
        await save_turns(store, "c1", 1, first=1)
        await async_wait_until(
            lambda: len(broker._unpublished_events) == 5, what="the save's 5 events kept"
        )
    assert any("NOT_FOUND" in r.getMessage() or "404" in r.getMessage() for r in caplog.records)

    # aio_pika reopens the channel and declares the exchange and its binding again.
    await async_wait_until(
        lambda: not broker._exchange.channel.is_closed, timeout=20, what="the channel reopened"
    )
    await save_turns(store, "c1", 1, first=2)

    events = await received(queue, 10)
    assert texts(events) == ["question 1", "answer 1", "question 2", "answer 2"]
