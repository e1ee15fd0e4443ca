"""The service consuming Rasa's events from RabbitMQ (HANDOFF_EVENTS_URL), for real.

Events are published the way Rasa's PikaEventBroker publishes them (its fanout exchange, its
durable queue, one JSON event per persistent message) into a vhost made for this run (quorum
queues by default, as deploy/ sets RabbitMQ up) and deleted afterwards. The end-to-end tests with
real Rasa servers are in tests/e2e/test_rabbitmq.py.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aio_pika
import pytest

from handoff_component.service.event_queue import EventQueue, QueueMisconfigured, QueueSettings
from scripts.local_services import rabbitmq_answers, rabbitmq_vhost
from tests.e2e.fault_injection import TcpProxy
from tests.loud import skip_loudly
from tests.service.support import handoff_payload, user_event
from tests.waiting import async_wait_until

pytestmark = pytest.mark.rabbitmq

QUEUE = "handoff_events"


@pytest.fixture(scope="module")
def vhost() -> Iterator[str]:
    if not rabbitmq_answers():
        skip_loudly("RABBITMQ EVENT MODE NOT TESTED: nothing answers on 127.0.0.1:5672")
    if shutil.which("rabbitmqctl") is None:
        skip_loudly(
            "RABBITMQ EVENT MODE NOT TESTED: rabbitmqctl (to make a scratch vhost) is absent"
        )
    name = f"handoff-test-{uuid.uuid4().hex[:10]}"
    rabbitmq_vhost(name)
    try:
        yield name
    finally:
        rabbitmq_vhost(name, delete=True)


@pytest.fixture
def service_overrides(vhost: str) -> dict[str, Any]:
    # A queue per test, so a test's leftovers never reach the next one.
    queue = f"{QUEUE}_{uuid.uuid4().hex[:8]}"
    url = f"amqp://guest:guest@127.0.0.1:5672/{vhost}?queue={queue}&partitions=4"
    return {"events_url": url}


class RasaPublisher:
    """What Rasa's PikaEventBroker does: a fanout exchange named for the queue it binds."""

    def __init__(self, url: str) -> None:
        self.settings = QueueSettings.from_url(url)
        self.connection: Any = None
        self.exchange: Any = None

    async def __aenter__(self) -> RasaPublisher:
        self.connection = await aio_pika.connect(self.settings.url)
        channel = await self.connection.channel(publisher_confirms=True)
        self.exchange = await channel.declare_exchange(
            self.settings.queue, aio_pika.ExchangeType.FANOUT
        )
        queue = await channel.declare_queue(self.settings.queue, durable=True)
        await queue.bind(self.exchange, "")
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.connection.close()

    async def publish(self, body: bytes | dict[str, Any]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        message = aio_pika.Message(data, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await self.exchange.publish(message, "")

    async def dead_letters(self) -> list[tuple[bytes, str]]:
        channel = await self.connection.channel()
        queue = await channel.declare_queue(self.settings.dead_letters, passive=True)
        found = []
        while (message := await queue.get(fail=False)) is not None:
            found.append((message.body, message.headers.get("x-handoff-reason", "")))
            await message.ack()
        return found


@pytest.fixture
async def rasa(service, service_overrides) -> AsyncIterator[RasaPublisher]:
    async with RasaPublisher(service_overrides["events_url"]) as publisher:
        yield publisher


async def customer_texts(service, conversation: str, count: int, timeout: float = 30.0) -> list:
    """The ticket's customer messages once there are `count` of them."""

    async def enough() -> list[str] | None:
        rows = await _messages(service, conversation)
        return rows if len(rows) >= count else None

    return await async_wait_until(
        enough, timeout=timeout, what=f"{count} customer messages of {conversation}"
    )


async def _messages(service, conversation: str) -> list[str]:
    from sqlalchemy import select

    from handoff_component.service.models import messages, tickets

    query = (
        select(messages.c.text)
        .join(tickets, tickets.c.id == messages.c.ticket_id)
        .where(tickets.c.conversation_id == conversation, messages.c.author == "customer")
        .order_by(messages.c.sent_at, messages.c.id)
    )
    async with service.ctx.db.read() as conn:
        return [row.text for row in (await conn.execute(query)).all()]


async def test_events_from_rabbitmq_reach_the_ticket_once_and_in_order(service, rasa) -> None:
    conversation = f"amqp-{uuid.uuid4().hex[:8]}"
    assert (await service.handoff(conversation)).status == 201
    events = [user_event(f"message {n}", 10 + n, conversation) for n in range(20)]

    for event in events[:10]:
        await rasa.publish(event)
    await rasa.publish(events[4])  # a message Rasa sent twice (a publish retried after a cut)
    await rasa.publish({"sender_id": conversation, "event": "action", "name": "action_listen",
                        "timestamp": 1700000030.0})  # fmt: skip
    for event in events[10:]:
        await rasa.publish(event)

    texts = await customer_texts(service, conversation, 1 + 20)
    assert texts[1:] == [f"message {n}" for n in range(20)]  # after the handoff's transcript
    assert service.ctx.event_queue.figures.ignored >= 1


async def test_a_malformed_message_is_dead_lettered_with_its_reason_and_the_next_go_through(
    service, rasa
) -> None:
    conversation = f"amqp-{uuid.uuid4().hex[:8]}"
    await service.handoff(conversation)

    await rasa.publish(user_event("before", 10, conversation))
    await rasa.publish(b"{not json")
    await rasa.publish({**user_event("bad", 11, conversation), "timestamp": "yesterday"})
    await rasa.publish(user_event("after", 12, conversation))

    assert (await customer_texts(service, conversation, 3))[1:] == ["before", "after"]
    dead = await rasa.dead_letters()
    assert [reason.split(":")[0] for _, reason in dead] == ["invalid_json", "invalid_field"]
    assert dead[0][0] == b"{not json"
    assert "timestamp" in dead[1][1]
    metrics = await (await service.http.get(f"{service.url}/metrics")).text()
    assert 'handoff_events_dead_lettered_total{reason="invalid_json"} 1' in metrics
    assert 'handoff_events_dead_lettered_total{reason="invalid_field"} 1' in metrics


async def test_a_handoff_request_riding_the_stream_becomes_the_ticket(service, rasa) -> None:
    """The action server could not reach the service: its request comes as the slot event."""
    conversation = f"amqp-{uuid.uuid4().hex[:8]}"
    request = handoff_payload(conversation)

    await rasa.publish({"sender_id": conversation, "event": "slot", "name": "handoff_request",
                        "value": request, "timestamp": 1700000005.0})  # fmt: skip
    await rasa.publish(user_event("are you there?", 20, conversation))

    assert (await customer_texts(service, conversation, 2))[-1] == "are you there?"


class TestRabbitMQFarFromTheService:
    """RabbitMQ 0.25 s from the service each way (the TCP proxy's latency), Rasa beside it.

    A confirm then takes half a second, as it can take long when a quorum queue's disk is busy:
    events must still reach their tickets in a few round trips, not one round trip each.
    """

    LATENCY_S = 0.25

    @pytest.fixture
    def proxy(self) -> Iterator[TcpProxy]:
        proxy = TcpProxy("127.0.0.1", 5672)
        try:
            yield proxy
        finally:
            proxy.close()

    @pytest.fixture
    def service_overrides(self, vhost: str, proxy: TcpProxy) -> dict[str, Any]:
        queue = f"{QUEUE}_{uuid.uuid4().hex[:8]}"
        return {
            "events_url": f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost}"
            f"?queue={queue}&partitions=4"
        }

    @pytest.fixture
    async def rasa(self, service, service_overrides, proxy) -> AsyncIterator[RasaPublisher]:
        direct = service_overrides["events_url"].replace(f":{proxy.port}/", ":5672/")
        async with RasaPublisher(direct) as publisher:
            yield publisher

    async def test_a_burst_reaches_the_ticket_without_a_confirm_round_trip_per_event(
        self, service, rasa, proxy
    ) -> None:
        conversation = f"amqp-{uuid.uuid4().hex[:8]}"
        await service.handoff(conversation)
        figures = service.ctx.event_queue.figures
        await async_wait_until(lambda: figures.routing, what="the consumer routing")
        proxy.latency = self.LATENCY_S  # set up at full speed; far away from now on
        burst = [user_event(f"message {n}", 10 + n, conversation) for n in range(40)]

        for number, event in enumerate(burst):
            await rasa.publish(event)
            listen = {"event": "action", "name": "action_listen", "timestamp": 1700000010.5}
            await rasa.publish(
                {**listen, "sender_id": conversation, "timestamp": 1700000010.5 + number}
            )

        # One confirm at a time, the 40 messages alone would take 40 round trips (20 s).
        texts = await customer_texts(service, conversation, 1 + 40, timeout=10)
        assert texts[1:] == [f"message {n}" for n in range(40)]
        # Rasa's bookkeeping is acknowledged by the router, not routed to be ignored later.
        assert figures.routed == 40
        assert figures.ignored >= 40


async def test_a_vhost_that_does_not_make_quorum_queues_refuses_to_start(service) -> None:
    queue = f"handoff_test_classic_{uuid.uuid4().hex[:8]}"
    settings = QueueSettings.from_url(f"amqp://guest:guest@127.0.0.1:5672/?queue={queue}")
    consumer = EventQueue(settings, service.ctx.tickets)
    try:
        with pytest.raises(QueueMisconfigured, match="default-queue-type quorum"):
            await consumer.start()
    finally:
        connection = await aio_pika.connect(settings.url)
        channel = await connection.channel()
        await channel.queue_delete(queue)
        await connection.close()


def test_the_events_url_is_checked_and_its_password_never_shown() -> None:
    settings = QueueSettings.from_url("amqp://u:s3cret@mq:5672/handoff?queue=q&partitions=3")

    assert (settings.queue, settings.partitions) == ("q", 3)
    assert "s3cret" not in settings.redacted_url()
    assert "queue" not in settings.url
    with pytest.raises(ValueError, match="partitions"):
        QueueSettings.from_url("amqp://mq/handoff?partitions=0")
    with pytest.raises(ValueError, match="amqp"):
        QueueSettings.from_url("http://mq/handoff")
