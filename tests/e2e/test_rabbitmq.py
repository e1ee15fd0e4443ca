"""The production topology with RabbitMQ event delivery, end to end.

Two Rasa replicas publish with Rasa's own PikaEventBroker (deploy/endpoints.rabbitmq.yml: no
plugin broker code, no outbox on Rasa's disk) into a vhost made for this run; two service
replicas consume it (HANDOFF_EVENTS_URL), on PostgreSQL, with the Redis lock store and socket.io
manager, as in deploy/compose.yml. Every process reaches RabbitMQ through a TCP proxy
(tests/e2e/fault_injection.py) so that one test can cut it off. One stack serves the module.

Each test checks the promise of this mode: every customer message reaches the ticket exactly
once and in order, whatever fails: a service replica SIGKILLed in the middle of a burst, RabbitMQ
unreachable while customers write, a malformed message in the stream (dead-lettered with its
reason, counted in /metrics, while the conversation's next messages go through).

Needs PostgreSQL, Redis and RabbitMQ (with rabbitmqctl for the scratch vhost) on 127.0.0.1;
without them the module is skipped loudly.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import pytest

from scripts.local_services import pg_execute, rabbitmq_answers, rabbitmq_vhost, redis_answers
from tests.e2e.clients import Attendant, SocketCustomer
from tests.e2e.fault_injection import TcpProxy, kill_hard
from tests.loud import skip_loudly
from tests.waiting import async_wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq]

PROJECT_DIR = Path(__file__).resolve().parents[2]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
HANDOFF_TEXT = "bringing in a colleague"
HANDBACK_TEXT = "back with the Northwind assistant"


def _skip(reason: str) -> None:
    skip_loudly(f"RABBITMQ EVENT DELIVERY NOT TESTED: {reason}")


@pytest.fixture(scope="module")
def rabbit_stack(
    trained_model: Path, callback_listener, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    from scripts.stack import Ports, Stack

    if not rabbitmq_answers():
        _skip("RabbitMQ does not answer on 127.0.0.1:5672")
    if shutil.which("rabbitmqctl") is None:
        _skip("rabbitmqctl (to make a scratch vhost) is not installed")
    if not redis_answers():
        _skip("Redis does not answer on 127.0.0.1:6379")
    suffix = uuid.uuid4().hex[:8]
    tracker_db, service_db, vhost = f"rasa_tracker_{suffix}", f"handoff_{suffix}", f"e2e-{suffix}"
    try:
        asyncio.run(pg_execute(f'CREATE DATABASE "{tracker_db}"', PG_URL))
        asyncio.run(pg_execute(f'CREATE DATABASE "{service_db}"', PG_URL))
    except Exception as error:
        _skip(f"PostgreSQL is not reachable at {PG_URL} ({error.__class__.__name__})")
    rabbitmq_vhost(vhost)
    proxy = TcpProxy("127.0.0.1", 5672)
    stack = Stack(
        model=trained_model,
        ports=Ports.free(),
        data_dir=tmp_path_factory.mktemp("rabbitmq"),
        replicas=2,
        credentials=PROJECT_DIR / "deploy" / "credentials.production.yml",
        endpoints=PROJECT_DIR / "deploy" / "endpoints.rabbitmq.yml",
        extra_env={
            "TRACKER_DB_HOST": "127.0.0.1:5432",
            "TRACKER_DB_NAME": tracker_db,
            "TRACKER_DB_USER": "postgres",
            "TRACKER_DB_PASSWORD": "",
            "REDIS_HOST": "127.0.0.1",
            "REDIS_PORT": "6379",
            "REDIS_LOCK_DB": "1",
            "SOCKETIO_REDIS_URL": "redis://127.0.0.1:6379/2",
            "HANDOFF_DB_URL": f"postgresql://postgres@127.0.0.1:5432/{service_db}",
            "CALLBACK_URL": callback_listener.url,
            "RABBITMQ_HOST": "127.0.0.1",
            "RABBITMQ_PORT": str(proxy.port),
            "RABBITMQ_VHOST": vhost,
            "RABBITMQ_USER": "guest",
            "RABBITMQ_PASSWORD": "guest",
            "HANDOFF_EVENTS_URL": f"amqp://guest:guest@127.0.0.1:{proxy.port}/{vhost}",
        },
    )
    stack.vhost = vhost  # type: ignore[attr-defined]
    stack.proxy = proxy  # type: ignore[attr-defined]
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        proxy.close()
        rabbitmq_vhost(vhost, delete=True)
        for database in (tracker_db, service_db):
            asyncio.run(pg_execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', PG_URL))


@pytest.fixture
def stack(rabbit_stack) -> Iterator:
    """The module's stack with both service replicas running again after each test."""
    try:
        yield rabbit_stack
    finally:
        rabbit_stack.proxy.restore()
        for name in ("service", "service-2"):
            if not any(p.name == name and p.popen.poll() is None for p in rabbit_stack.processes):
                rabbit_stack.processes[:] = [p for p in rabbit_stack.processes if p.name != name]
                rabbit_stack.start(name)


def customer_texts(ticket: dict) -> list[str]:
    return [m["text"] for m in ticket["messages"] if m["author"] == "customer"]


async def handed_off(stack, demo_attendant, replica: int = 1) -> tuple:
    """A socket.io customer on Rasa replica `replica` who asked for a person, and their ticket."""
    conversation = f"amqp-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_urls[replica - 1], conversation)
    attendant = Attendant(stack.service_urls[replica % 2])
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
    assert HANDOFF_TEXT in await customer.say_and_hear("I want to talk to a human")
    ticket = await attendant.ticket_of(conversation)
    return conversation, customer, attendant, ticket


async def wait_for_texts(attendant: Attendant, ticket_id: int, texts: list[str]) -> dict:
    """The ticket once its customer messages end with `texts` (or the wait times out)."""
    return await attendant.wait_for_ticket(
        ticket_id, lambda t: customer_texts(t)[-len(texts) :] == texts, timeout=120
    )


async def test_a_handoff_and_back_keeps_every_customer_message_once_and_in_order(
    stack, demo_attendant
) -> None:
    _conversation, customer, attendant, ticket = await handed_off(stack, demo_attendant, 2)
    try:
        said = [f"detail {n} of my problem" for n in range(6)]
        for text in said:
            await customer.say(text)
        ticket = await wait_for_texts(attendant, ticket["id"], said)
        texts = customer_texts(ticket)
        assert texts == ["I want to talk to a human", *said]

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "On it."})
        assert (await customer.next_message())["text"].endswith("On it.")
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        assert HANDBACK_TEXT in (await customer.next_message())["text"]
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")
        final = await attendant.wait_for_ticket(ticket["id"], lambda t: t["status"] == "closed")
        assert customer_texts(final) == texts  # the bot's turn after hand-back is not the ticket's
    finally:
        await customer.close()
        await attendant.close()


async def routing_replica(stack) -> tuple[str, str]:
    """The service replica that applies events now: (process name, URL), from /metrics."""
    import aiohttp

    async with aiohttp.ClientSession() as http:
        for name, url in zip(("service", "service-2"), stack.service_urls, strict=True):
            async with http.get(f"{url}/metrics") as response:
                if "handoff_events_routing 1" in await response.text():
                    return name, url
    raise AssertionError("no service replica routes the events")


async def test_a_service_replica_killed_mid_burst_loses_and_duplicates_nothing(
    stack, demo_attendant
) -> None:
    _conversation, customer, attendant, ticket = await handed_off(stack, demo_attendant)
    try:
        victim, _ = await routing_replica(stack)
        attendant.service_url = stack.service_urls[1 if victim == "service" else 0]
        burst = [f"burst message {n}" for n in range(16)]
        for text in burst[:6]:
            await customer.say(text)
        await attendant.wait_for_ticket(ticket["id"], lambda t: len(customer_texts(t)) >= 1 + 3)
        kill_hard(stack, victim)  # SIGKILL in the middle of the burst: no shutdown, no ack
        for text in burst[6:]:
            await customer.say(text)

        ticket = await wait_for_texts(attendant, ticket["id"], burst)
        assert customer_texts(ticket) == ["I want to talk to a human", *burst]
    finally:
        await customer.close()
        await attendant.close()


async def test_rabbitmq_cut_off_while_customers_write_loses_nothing_once_back(
    stack, demo_attendant
) -> None:
    _conversation, customer, attendant, ticket = await handed_off(stack, demo_attendant)
    try:
        stack.proxy.cut()  # every AMQP connection, Rasa's and the services', dropped and refused
        during = [f"written during the outage {n}" for n in range(4)]
        for text in during:
            await customer.say(text)
        await asyncio.sleep(3)  # the outage itself: messages are written while it lasts
        stack.proxy.restore()
        after = "written after the outage"
        await customer.say(after)

        ticket = await wait_for_texts(attendant, ticket["id"], [*during, after])
        assert customer_texts(ticket) == ["I want to talk to a human", *during, after]
    finally:
        await customer.close()
        await attendant.close()


async def test_a_malformed_message_is_dead_lettered_while_the_conversation_goes_on(
    stack, demo_attendant
) -> None:
    import aiohttp

    conversation, customer, attendant, ticket = await handed_off(stack, demo_attendant)
    connection = await aio_pika.connect(f"amqp://guest:guest@127.0.0.1:5672/{stack.vhost}")
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange("handoff_events", ensure=False)
        bad = {"sender_id": conversation, "event": "user", "text": "x", "timestamp": "never"}
        for body in (b"\xff not json", json.dumps(bad).encode()):
            await exchange.publish(aio_pika.Message(body), routing_key="")
        await customer.say("and this one after it")

        ticket = await wait_for_texts(attendant, ticket["id"], ["and this one after it"])
        assert customer_texts(ticket) == ["I want to talk to a human", "and this one after it"]
        dead_queue = await channel.declare_queue("handoff_events.dead", passive=True)

        async def two_dead() -> list | None:
            found = []
            while (message := await dead_queue.get(fail=False)) is not None:
                found.append(message)
            for message in found:
                await message.nack(requeue=True)
            return found if len(found) >= 2 else None

        dead = await async_wait_until(two_dead, timeout=60, what="two dead letters")
        reasons = sorted(m.headers["x-handoff-reason"].split(":")[0] for m in dead)
        assert reasons == ["invalid_field", "invalid_json"]
        counted = {"invalid_json": 0, "invalid_field": 0}
        async with aiohttp.ClientSession() as http:
            for url in stack.service_urls:
                async with http.get(f"{url}/metrics") as response:
                    for line in (await response.text()).splitlines():
                        for reason in counted:
                            if line.startswith(
                                f'handoff_events_dead_lettered_total{{reason="{reason}"}}'
                            ):
                                counted[reason] += int(line.rsplit(" ", 1)[1])
        assert counted == {"invalid_json": 1, "invalid_field": 1}
    finally:
        await connection.close()
        await customer.close()
        await attendant.close()
