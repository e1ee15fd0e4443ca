"""The production configuration: PostgreSQL and Redis, two replicas of every process.

The topology of deploy/compose.yml, started by `Stack(replicas=2)`: two Rasa servers (tracker in
PostgreSQL, conversation locks in Redis, socket.io emits through the shared Redis manager, each
with its own outbox), each calling its own action server and sending its events to its own
handoff service replica; two service replicas on one PostgreSQL database, each reaching Rasa
through one Rasa replica's HandoffConnector. Every hop a load balancer without stickiness could
route elsewhere is made to cross replicas:

- the customer's socket.io connection: a websocket is one TCP connection held by one replica,
  but each reconnection (a page load, a network change) may land on the other one; the widget
  keeps its session id (`session_persistence`), so each customer message here goes over a new
  connection to the other Rasa replica in turn;
- the ticket is created by one service replica, the attendant works on the other.

Needs PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379). When either is absent
the test is skipped with a loud reason (printed at once, and listed by `-rs` at the end of
the run, as `.ci/run` asks); it never passes silently.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from scripts.local_services import pg_execute, redis_answers
from tests.e2e.clients import Attendant, SocketCustomer
from tests.loud import skip_loudly

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

PROJECT_DIR = Path(__file__).resolve().parents[2]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


async def _pg(statement: str) -> None:
    await pg_execute(statement, PG_URL)


def _skip_loudly(reason: str) -> None:
    skip_loudly(f"PRODUCTION CONFIGURATION NOT TESTED: {reason}")


# Created the way docs/deployment.md says to: `create-attendant --password-stdin`.
PRODUCTION_ATTENDANT = ("pat", "pat-first-password-7")


def _create_attendant(stack: Any, username: str, password: str) -> None:
    import subprocess

    command = [stack.python, "-m", "handoff_component.service", "create-attendant", username]
    made = subprocess.run(
        [*command, "--password-stdin", "--team", "support", "--display-name", "Pat (support)"],
        input=password + "\n",
        env=stack.env(),
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr


@pytest.fixture
def production_attendant() -> tuple[str, str]:
    """Production has no seeded accounts: the one made by hand, username and password."""
    return PRODUCTION_ATTENDANT


@pytest.fixture(scope="module")
def production_stack(
    trained_model: Path, callback_listener, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    from scripts.stack import Ports, Stack

    if not redis_answers():
        _skip_loudly("Redis does not answer on 127.0.0.1:6379 (start redis-server)")
    suffix = uuid.uuid4().hex[:8]
    tracker_db, service_db = f"rasa_tracker_{suffix}", f"handoff_{suffix}"
    try:
        asyncio.run(_pg(f'CREATE DATABASE "{tracker_db}"'))
        asyncio.run(_pg(f'CREATE DATABASE "{service_db}"'))
    except Exception as error:
        _skip_loudly(f"PostgreSQL is not reachable at {PG_URL} ({error.__class__.__name__})")
    stack = Stack(
        model=trained_model,
        ports=Ports.free(),
        data_dir=tmp_path_factory.mktemp("production"),
        replicas=2,
        # Production mode: no demo seed, no made-up secrets; the attendant is created by hand.
        demo=False,
        seed=PROJECT_DIR / "deploy" / "seed.production.yml",
        credentials=PROJECT_DIR / "deploy" / "credentials.production.yml",
        endpoints=PROJECT_DIR / "deploy" / "endpoints.production.yml",
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
        },
    )
    try:
        stack.start()
        _create_attendant(stack, *PRODUCTION_ATTENDANT)
        yield stack
    finally:
        stack.stop()
        for database in (tracker_db, service_db):
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def test_a_handoff_crosses_rasa_replicas_on_postgresql_and_redis(
    production_stack, production_attendant
) -> None:
    stack = production_stack
    conversation = f"prod-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_urls[1], conversation)
    attendant = Attendant(stack.service_url)
    await customer.connect()
    await attendant.sign_in(*production_attendant)
    try:
        assert "colleague" in await customer.say_and_hear("I want to talk to a human")
        await customer.say("My order 55120 never arrived.")
        ticket = await attendant.ticket_of(conversation)
        ticket = await attendant.wait_for_ticket(
            ticket["id"],
            lambda t: (
                "My order 55120 never arrived."
                in [m["text"] for m in t["messages"] if m["author"] == "customer"]
            ),
        )
        assert ticket["rule"] == "explicit_request"

        # Service replica 1 talks to Rasa replica 1; the customer's socket is held by replica 2.
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "On it."})
        reply = await customer.next_message()
        assert reply["text"] == f"{attendant.profile['display_name']}: On it."

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        assert "back with the Northwind assistant" in (await customer.next_message())["text"]
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")
    finally:
        await customer.close()
        await attendant.close()


class RoamingCustomer:
    """A web widget whose every message goes over a new socket.io connection to the next replica.

    It keeps its session id, as the widget does with `session_persistence`, and stays connected
    between messages, so anything emitted to the conversation while it waits reaches it.
    """

    def __init__(self, rasa_urls: list[str], session_id: str) -> None:
        self.rasa_urls = rasa_urls
        self.session_id = session_id
        self.turn = 0
        self.socket: SocketCustomer | None = None
        self.replicas_used: list[int] = []

    async def reconnect(self) -> SocketCustomer:
        await self.close()
        replica = self.turn % len(self.rasa_urls)
        self.turn += 1
        self.socket = SocketCustomer(self.rasa_urls[replica], self.session_id)
        await self.socket.connect()
        self.replicas_used.append(replica + 1)
        return self.socket

    async def say(self, text: str) -> None:
        await (await self.reconnect()).say(text)

    async def say_and_hear(self, text: str) -> str:
        return await (await self.reconnect()).say_and_hear(text)

    async def next_message(self) -> dict[str, Any]:
        assert self.socket is not None
        return await self.socket.next_message()

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
            self.socket = None


class LiveStream:
    """An attendant's Server-Sent Events stream (`GET /api/stream`), events in arrival order."""

    def __init__(self, service_url: str, headers: dict[str, str]) -> None:
        self.url = f"{service_url}/api/stream"
        self.headers = headers
        self.events: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.task: asyncio.Task | None = None

    async def open(self) -> None:
        self.task = asyncio.create_task(self._read())
        await asyncio.wait_for(self.connected.wait(), 30)

    async def _read(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(self.url, headers=self.headers) as response,
        ):
            assert response.status == 200, response.status
            kind = None
            async for raw in response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith(": connected"):
                    self.connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind:
                    await self.events.put((kind, json.loads(line[6:])))

    async def next_for(
        self,
        conversation: str,
        kind: str,
        where: Callable[[dict], bool] = lambda data: True,
        timeout: float = 30.0,
    ) -> dict:
        """The next event of `kind` about `conversation` that `where` accepts (others skipped)."""

        async def find() -> dict:
            while True:
                event_kind, data = await self.events.get()
                ticket = data.get("ticket") or {}
                if (
                    event_kind == kind
                    and ticket.get("conversation_id") == conversation
                    and where(data)
                ):
                    return data

        return await asyncio.wait_for(find(), timeout)

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()


async def test_a_roaming_customer_alternates_rasa_replicas_and_the_ticket_is_made_once(
    production_stack, production_attendant
) -> None:
    """Each customer message reaches the other Rasa replica; the journey holds together."""
    stack = production_stack
    conversation = f"roam-{uuid.uuid4().hex[:10]}"
    customer = RoamingCustomer(stack.rasa_urls, conversation)
    attendant = Attendant(stack.service_urls[1])
    await attendant.sign_in(*production_attendant)
    try:
        # Replica 1 answers a question, replica 2 (and its action server) hands off.
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")
        assert "colleague" in await customer.say_and_hear("I want to talk to a human")
        ticket = await attendant.ticket_of(conversation)
        # While paused, messages land on replica 1, then 2, then 1: each replica's broker sends
        # its own to its own service replica; one of them asks for a human again. The customer
        # moves on once the ticket shows the message (a widget does not reconnect within
        # milliseconds of sending; a socket closed at once may drop what it has not yet sent).
        said = ["My order 55120 never arrived.", "I want to talk to a human", "It was a lamp."]
        for index, text in enumerate(said):
            await customer.say(text)
            ticket = await attendant.wait_for_ticket(
                ticket["id"],
                lambda t, n=index: (
                    [m["text"] for m in t["messages"] if m["author"] == "customer"][-(n + 1) :]
                    == said[: n + 1]
                ),
            )
        assert ticket["rule"] == "explicit_request"
        assert customer.replicas_used == [1, 2, 1, 2, 1]

        # The attendant works on service replica 2 (connector: Rasa replica 2); the customer's
        # current connection is held by Rasa replica 1.
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Found it."})
        reply = await customer.next_message()
        assert reply["text"] == f"{attendant.profile['display_name']}: Found it."

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        assert "back with the Northwind assistant" in (await customer.next_message())["text"]
        # The bot is back on both replicas.
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")

        # Exactly one ticket for the conversation, whatever its status, seen from both replicas.
        for service_url in stack.service_urls:
            attendant.service_url = service_url
            listing = await attendant.call("GET", f"/api/tickets?conversation_id={conversation}")
            assert [t["id"] for t in listing["tickets"]] == [ticket["id"]]
    finally:
        await customer.close()
        await attendant.close()


async def test_an_attendant_on_service_replica_2_sees_live_events_of_replica_1(
    production_stack, production_attendant
) -> None:
    """A ticket created through service replica 1 reaches the Inbox stream held by replica 2."""
    stack = production_stack
    conversation = f"live-{uuid.uuid4().hex[:10]}"
    attendant = Attendant(stack.service_urls[1])
    await attendant.sign_in(*production_attendant)
    stream = LiveStream(stack.service_urls[1], attendant.headers)
    await stream.open()
    # Rasa replica 1 -> action server 1 -> service replica 1 creates the ticket.
    customer = SocketCustomer(stack.rasa_urls[0], conversation)
    await customer.connect()
    try:
        assert "colleague" in await customer.say_and_hear("I want to talk to a human")
        ticket = await attendant.ticket_of(conversation)  # in the shared database
        await customer.say("Are you there?")  # mirrored by Rasa 1's broker into service 1
        created = await stream.next_for(conversation, "ticket.created")
        assert created["ticket"]["id"] == ticket["id"]
        message = await stream.next_for(
            conversation, "message.created", lambda d: d["message"]["text"] == "Are you there?"
        )
        assert message["message"]["author"] == "customer"
    finally:
        await customer.close()
        await stream.close()
        await attendant.close()
