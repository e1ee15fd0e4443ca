"""HandoffEventBroker against a real HTTP listener standing in for the handoff service."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from handoff_component.bot.event_broker import HandoffEventBroker
from handoff_component.bot.outbox import Outbox
from handoff_component.contract import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.local_http import Served, serve
from tests.shared_secret import SHARED_SECRET, UNSAFE_OR_MISSING_SECRETS
from tests.waiting import async_wait_until

SECRET = SHARED_SECRET


class FakeServiceListener:
    """Records what arrives, checks signatures, answers with a status the test chooses."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        self.status = 200
        self.arrived = asyncio.Event()
        self.served: Served | None = None
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        verify(SECRET, request.headers[TIMESTAMP_HEADER], body, request.headers[SIGNATURE_HEADER])
        if self.status == 200:
            self.received.append((request.path, json.loads(body)))
            self.arrived.set()
        return web.json_response({"error": {"message": "no"}}, status=self.status)

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/api/events", self.handle)
        app.router.add_post("/api/handoffs", self.handle)
        self.served = await serve(app, port)
        self.port = self.served.port

    async def stop(self) -> None:
        assert self.served is not None
        await self.served.close()

    def events(self) -> list[dict]:
        return [e for path, body in self.received if path == "/api/events" for e in body["events"]]


def broker_for(listener: FakeServiceListener, tmp_path: Path, **options: Any) -> HandoffEventBroker:
    """A broker delivering to the test's listener, its outbox in the test's directory."""
    return HandoffEventBroker(
        f"http://127.0.0.1:{listener.port}", SECRET, str(tmp_path / "o.db"), **options
    )


def user_event(n: int) -> dict:
    return {"sender_id": "c1", "event": "user", "text": f"message {n}", "timestamp": 1000.0 + n}


@pytest.fixture
async def listener():
    server = FakeServiceListener()
    await server.start()
    yield server
    await server.stop()


async def test_events_arrive_in_order_and_signed(listener, tmp_path: Path) -> None:
    broker = broker_for(listener, tmp_path)
    broker.start()

    for n in range(30):
        broker.publish(user_event(n))
    await async_wait_until(lambda: len(listener.events()) == 30)
    await broker.close()

    assert [e["text"] for e in listener.events()] == [f"message {n}" for n in range(30)]


async def test_events_published_while_the_service_is_down_are_delivered_when_it_returns(
    tmp_path: Path,
) -> None:
    server = FakeServiceListener()
    await server.start()
    port = server.port
    await server.stop()
    broker = HandoffEventBroker(
        f"http://127.0.0.1:{port}", SECRET, str(tmp_path / "o.db"), retry_max_s=0.2
    )
    broker.start()
    for n in range(3):
        broker.publish(user_event(n))
    # Two failed deliveries of every event: the broker has retried, and kept them all.
    await async_wait_until(
        lambda: all(item.attempts >= 2 for item in broker.outbox.peek(10)),
        what="two delivery attempts while the service is down",
    )
    assert len(broker.outbox) == 3

    await server.start(port)
    await async_wait_until(lambda: len(server.events()) == 3)
    await broker.close()
    await server.stop()

    assert [e["text"] for e in server.events()] == ["message 0", "message 1", "message 2"]


async def test_queued_events_survive_a_rasa_restart(listener, tmp_path: Path) -> None:
    path = str(tmp_path / "o.db")
    Outbox(path).put("event", user_event(7))

    broker = HandoffEventBroker(f"http://127.0.0.1:{listener.port}", SECRET, path)
    broker.start()
    await async_wait_until(lambda: len(listener.events()) == 1)
    await broker.close()

    assert listener.events()[0]["text"] == "message 7"


async def test_a_refused_event_is_set_aside_and_does_not_block_the_rest(
    listener, tmp_path: Path
) -> None:
    broker = broker_for(listener, tmp_path)
    listener.status = 422
    broker.publish(user_event(1))
    await broker.deliver_pending()
    listener.status = 200
    broker.publish(user_event(2))
    await broker.deliver_pending()

    assert [e["text"] for e in listener.events()] == ["message 2"]
    assert [d["body"]["text"] for d in broker.outbox.dead_letters()] == ["message 1"]
    await broker.close()


async def test_an_undelivered_handoff_slot_becomes_a_ticket_request(
    listener, tmp_path: Path
) -> None:
    broker = broker_for(listener, tmp_path)
    request = {"idempotency_key": "handoff-1", "conversation_id": "c1"}

    broker.publish({"sender_id": "c1", "event": "slot", "name": "handoff_request",
                    "value": request, "timestamp": 1.0})  # fmt: skip
    await broker.deliver_pending()
    await broker.close()

    assert [path for path, _ in listener.received] == ["/api/events", "/api/handoffs"]
    assert listener.received[1][1] == request


async def test_overlong_customer_text_is_truncated_to_the_contract_not_refused(
    listener, tmp_path: Path
) -> None:
    broker = broker_for(listener, tmp_path)

    broker.publish({**user_event(1), "text": "x" * 50_000})
    await broker.deliver_pending()
    await broker.close()

    text = listener.events()[0]["text"]
    assert len(text) == 10_000 and text.endswith("[...truncated]")


async def test_an_oversized_customer_event_is_bounded_to_what_the_service_reads(
    listener, tmp_path: Path
) -> None:
    """Customer text reaches Rasa unbounded (parse_data repeats it, a channel's metadata is the
    client's): the event must still fit the service's body limit and carry the scores."""
    from handoff_component.bot.event_broker import MAX_EVENT_BYTES
    from handoff_component.contract import EventBatch

    broker = broker_for(listener, tmp_path)
    huge = "ü" * 1_000_000
    broker.publish(
        {
            **user_event(1),
            "text": huge,
            "input_channel": "socketio",
            "parse_data": {
                "text": huge,
                "entities": [{"value": huge}],
                "handoff": {"sentiment": -1},
            },
            "metadata": {"client": huge},
        }
    )
    await broker.deliver_pending()
    await broker.close()

    [event] = listener.events()
    assert len(json.dumps(event).encode()) <= MAX_EVENT_BYTES
    read = EventBatch.from_dict({"events": [event]}).events[0]
    assert read.text is not None and read.text.startswith("üüü") and len(read.text) == 10_000
    assert read.scores() == {"sentiment": -1.0}
    assert read.input_channel == "socketio"


async def test_unknown_options_in_endpoints_yml_are_named() -> None:
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(url="http://127.0.0.1:1", type="x", secret="s", outbx="typo")

    with pytest.raises(ValueError, match="outbx"):
        await HandoffEventBroker.from_endpoint_config(config)


@pytest.mark.parametrize(
    ("value", "problem"),
    UNSAFE_OR_MISSING_SECRETS,
    ids=["missing", "placeholder", "short"],
)
async def test_a_broker_with_an_unsafe_secret_stops_rasa_s_start_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, value: str | None, problem: str
) -> None:
    """The project's endpoints.yml read and built as `rasa run` does: the service would refuse
    this secret (contract.shared_secret), so Rasa must not queue a single event signed with it."""
    from rasa.core.brokers.broker import EventBroker
    from rasa.utils.endpoints import read_endpoint_config

    outbox = tmp_path / "outbox.db"
    for variable, setting in {
        "HANDOFF_SERVICE_URL": "http://127.0.0.1:1",
        "HANDOFF_OUTBOX": str(outbox),
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook",
        "TRACKER_DB": str(tmp_path / "tracker.db"),
    }.items():
        monkeypatch.setenv(variable, setting)
    # Unset, ${HANDOFF_SECRET} stops Rasa's own reading of endpoints.yml; set empty, it reaches us.
    monkeypatch.setenv("HANDOFF_SECRET", value or "")
    config = read_endpoint_config(str(Path(__file__).parents[2] / "endpoints.yml"), "event_broker")

    with pytest.raises(ValueError) as refused:
        await EventBroker.create(config)

    assert str(refused.value).startswith(
        f"endpoints.yml, event_broker.secret (HANDOFF_SECRET) {problem}"
    )
    assert not outbox.exists()


# --- a second, standard Rasa broker inside this one (RabbitMQ, for real) ----------------------


@pytest.fixture
async def analytics_queue():
    """A queue of its own on the machine's RabbitMQ for Rasa's PikaEventBroker; deleted after."""
    from scripts.local_services import rabbitmq_answers
    from tests.loud import skip_loudly

    if not rabbitmq_answers():
        skip_loudly("EVENT FORWARDING TO RABBITMQ NOT TESTED: nothing answers on 127.0.0.1:5672")
    import aio_pika

    name = f"test-analytics-{uuid.uuid4().hex[:10]}"
    connection = await aio_pika.connect_robust("amqp://guest:guest@127.0.0.1:5672/")
    try:
        yield connection, name
    finally:
        channel = await connection.channel()
        await channel.queue_delete(name)
        await channel.exchange_delete(name)
        await connection.close()


@pytest.mark.rabbitmq
async def test_every_event_is_also_forwarded_whole_to_a_second_rasa_broker(
    listener, tmp_path: Path, analytics_queue
) -> None:
    # Rasa's pika module uses rasa.shared.core.events without importing it (a server has it).
    import rasa.shared.core.events  # noqa: F401
    from rasa.utils.endpoints import EndpointConfig

    connection, name = analytics_queue
    pika = {"type": "pika", "url": "127.0.0.1", "username": "guest", "password": "guest",
            "queues": [name], "exchange_name": name}  # fmt: skip
    config = EndpointConfig(
        url=f"http://127.0.0.1:{listener.port}", type="handoff_component.HandoffEventBroker",
        secret=SECRET, outbox=str(tmp_path / "o.db"), forward_to=pika,
    )  # fmt: skip
    broker = await HandoffEventBroker.from_endpoint_config(config)
    action = {"sender_id": "c1", "event": "action", "name": "utter_greet", "timestamp": 999.0}
    events = [
        action,
        *(dict(user_event(n), parse_data={"intent": {"name": "greet"}}) for n in range(5)),
    ]

    for event in events:
        broker.publish(event)
    await async_wait_until(lambda: len(listener.events()) == 5)

    queue = await (await connection.channel()).declare_queue(name, durable=True)
    forwarded = []
    for _ in range(len(events)):
        message = await _next_message(queue)
        forwarded.append(json.loads(message.body))
        await message.ack()
    await broker.close()

    assert forwarded == events  # every event, Rasa's own bookkeeping and NLU result included
    assert [e["text"] for e in listener.events()] == [f"message {n}" for n in range(5)]
    assert "intent" not in json.dumps(listener.events())  # the service gets only what it reads


async def _next_message(queue, timeout: float = 10.0):
    return await async_wait_until(
        lambda: queue.get(fail=False), timeout=timeout, what="a message on the forwarding queue"
    )


async def test_a_forward_to_without_a_type_is_refused_naming_the_option() -> None:
    from rasa.utils.endpoints import EndpointConfig

    config = EndpointConfig(
        url="http://127.0.0.1:1", type="x", secret=SECRET, forward_to={"url": "h"}
    )

    with pytest.raises(ValueError, match="forward_to"):
        await HandoffEventBroker.from_endpoint_config(config)


# --- the delivery window: ordinary turns share a request, a handed-over conversation does not wait


def turn(sender: str, n: int) -> list[dict]:
    """What the broker gets from one save of an ordinary turn: the message, Rasa's bookkeeping
    and the answer."""
    return [
        {"sender_id": sender, "event": "user", "text": f"question {n}", "timestamp": 2000.0 + n},
        {"sender_id": sender, "event": "action", "name": "utter_x", "timestamp": 2000.1 + n},
        {"sender_id": sender, "event": "bot", "text": f"answer {n}", "timestamp": 2000.2 + n},
    ]


def requests_to_events(listener: FakeServiceListener) -> list[list[str]]:
    return [[e["text"] for e in body["events"]] for path, body in listener.received
            if path == "/api/events"]  # fmt: skip


async def test_ordinary_turns_within_the_window_share_one_request_in_order(
    listener, tmp_path: Path
) -> None:
    broker = broker_for(listener, tmp_path, delivery_window_s=2.0)
    broker.start()

    for n in range(3):
        broker.publish_many(turn("c1", n))
        await asyncio.sleep(0.05)  # turns a few tens of ms apart, as a busy bot's are
    await async_wait_until(lambda: len(listener.events()) == 6)
    await broker.close()

    assert requests_to_events(listener) == [
        ["question 0", "answer 0", "question 1", "answer 1", "question 2", "answer 2"]
    ]


async def test_a_handed_over_conversation_does_not_wait_for_the_window_nor_do_turns_before_it(
    listener, tmp_path: Path
) -> None:
    broker = broker_for(listener, tmp_path, delivery_window_s=10.0)
    broker.start()
    broker.publish_many(turn("c1", 0))  # an ordinary turn, waiting for the window
    # The handoff turn: the action's slots; then the customer writes to the attendant.
    broker.publish_many(
        [
            *turn("c2", 1),
            {
                "sender_id": "c2",
                "event": "slot",
                "name": "handoff_active",
                "value": True,
                "timestamp": 2001.5,
            },
        ]
    )
    await async_wait_until(lambda: len(listener.events()) == 4, timeout=5.0)
    broker.publish_many(turn("c2", 2)[:1])
    await async_wait_until(lambda: len(listener.events()) == 5, timeout=5.0)
    await broker.close()

    assert [e["text"] for e in listener.events()] == [
        "question 0", "answer 0", "question 1", "answer 1", "question 2"
    ]  # fmt: skip


async def test_a_conversation_a_tracker_says_is_handed_over_does_not_wait_after_a_restart(
    listener, tmp_path: Path
) -> None:
    """This process has seen no handoff slot (Rasa restarted during the handoff): the flag the
    tracker store reads from the tracker is enough."""
    broker = broker_for(listener, tmp_path, delivery_window_s=10.0)
    broker.start()

    broker.publish_many(turn("c3", 0)[:1], handed_over=True)
    await async_wait_until(lambda: len(listener.events()) == 1, timeout=5.0)
    await broker.close()


async def test_an_attendants_reply_echoed_back_does_not_wait_for_the_window(
    listener, tmp_path: Path
) -> None:
    broker = broker_for(listener, tmp_path, delivery_window_s=10.0)
    broker.start()

    echo = {"sender_id": "c4", "event": "bot", "text": "hello, Ana here", "timestamp": 3000.0,
            "metadata": {"handoff_message_id": "m-1"}}  # fmt: skip
    broker.publish_many([echo])
    await async_wait_until(lambda: len(listener.events()) == 1, timeout=5.0)
    await broker.close()


async def test_a_delivery_window_out_of_range_is_refused_naming_the_option() -> None:
    with pytest.raises(ValueError, match="delivery_window_s"):
        HandoffEventBroker("http://127.0.0.1:1", SECRET, ":memory:", delivery_window_s=60.0)
