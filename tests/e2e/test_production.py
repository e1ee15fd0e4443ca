"""The production configuration: PostgreSQL and Redis, two Rasa replicas, the service on PostgreSQL.

A customer talks to replica 2 over socket.io; the service reaches Rasa through replica 1 (as
through a load balancer). The handoff, the customer's messages while paused and the attendant's
reply must all cross replicas: conversation locks in Redis, the tracker in PostgreSQL, socket.io
emits through the shared Redis manager, each replica's own outbox.

Needs PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379). When either is absent
the test is skipped with a loud reason (printed at once, and listed by `-rs` at the end of
the run, as `.ci/run` asks); it never passes silently.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import Attendant, SocketCustomer

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

PROJECT_DIR = Path(__file__).resolve().parents[2]
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def _pg(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(PG_URL, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _skip_loudly(reason: str) -> None:
    message = f"PRODUCTION CONFIGURATION NOT TESTED: {reason}"
    print(f"\n{'!' * 78}\n!!! {message}\n{'!' * 78}", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="module")
def production_stack(
    trained_model: Path, callback_listener, tmp_path_factory: pytest.TempPathFactory
) -> Iterator:
    from scripts.stack import Ports, Stack

    if not _redis_answers():
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
    stack.start()
    try:
        stack.replica_url = stack.add_rasa_replica()
        yield stack
    finally:
        stack.stop()
        for database in (tracker_db, service_db):
            asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


async def test_a_handoff_crosses_rasa_replicas_on_postgresql_and_redis(
    production_stack, demo_attendant
) -> None:
    stack = production_stack
    conversation = f"prod-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.replica_url, conversation)
    attendant = Attendant(stack.service_url)
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
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

        # The service talks to replica 1; the customer's socket is held by replica 2.
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
