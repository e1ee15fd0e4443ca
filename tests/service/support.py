"""Helpers of the service tests: a running service, a fake Rasa connector, payload builders.

The fixtures that use them are in conftest.py; tests import these names from here.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import aiohttp
from sanic import Sanic

from handoff_component import contract
from handoff_component.service.app import create_app, server_options
from handoff_component.service.settings import Settings
from scripts.local_services import pg_execute
from scripts.stack import free_port
from tests.loud import skip_loudly
from tests.shared_secret import SHARED_SECRET

T = TypeVar("T")

PG_ADMIN_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


# Shared with Rasa's side (tests/shared_secret.py: one value for every test).
SECRET = SHARED_SECRET
# Signs attendants' sessions: independent of SECRET, as the service requires.
SESSION_SECRET = "test-session-secret-of-the-service-9876543210"


PASSWORD = "correct-horse-battery"


# Several apps start in one process here; sanic 21.12's start-up rewrites HttpProtocol's methods
# in place unless in test mode, and fails on the second app.
Sanic.test_mode = True


async def read_events(
    stream: aiohttp.ClientResponse, done: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    """Server-Sent Events from `/api/stream`, parsed, until `done(events)` says enough or the
    service ends the stream."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    while not done(events):
        raw = await stream.content.readline()
        if not raw:
            break  # the service ended the stream
        line = raw.decode().rstrip("\n")
        if line.startswith("event: "):
            current["event"] = line[7:]
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and current:
            events.append(current)
            current = {}
    return events


async def at_once(requests: Iterable[Awaitable[T]]) -> list[T]:
    """Send every request at the same moment: each waits at a barrier that opens once all are
    ready (a coroutine does nothing until awaited, so none starts early).

    The concurrency tests use it for requests that race each other, as a burst of clients
    would; the results come back in the order of `requests`.
    """
    pending = list(requests)
    arrived = 0
    go = asyncio.Event()

    async def one(request: Awaitable[T]) -> T:
        nonlocal arrived
        arrived += 1
        if arrived == len(pending):
            go.set()
        await go.wait()
        return await request

    return list(await asyncio.gather(*(one(request) for request in pending)))


async def open_stream(service: RunningService, token: str) -> aiohttp.ClientResponse:
    """An attendant's live stream, read past its greeting."""
    response = await service.http.get(f"{service.url}/api/stream?token={token}")
    assert response.status == 200
    assert (await response.content.readline()).startswith(b": connected")
    await response.content.readline()
    return response


class FakeClock:
    """The service's clock in tests: time moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 11, 23, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


async def pg_admin(statement: str) -> None:
    await pg_execute(statement, PG_ADMIN_URL)


# Why the session's PostgreSQL scratch database could not be made (empty when it could).
unreachable: list[str] = []


def scratch_postgres(postgres_url: str | None) -> str:
    """The session's PostgreSQL database emptied for one more test, or a loud skip without it."""
    if postgres_url is None:
        reason = unreachable[0] if unreachable else "PostgreSQL is not reachable"
        skip_loudly(f"PostgreSQL tests SKIPPED: {reason}")
    asyncio.run(truncate_tables(postgres_url))
    return postgres_url


TABLES = (
    "attachment_contents, attachments, "
    "sessions, login_failures, conversations, webhook_deliveries, canned_replies, ticket_triggers, "
    "transitions, "
    "notes, messages, tickets, team_members, attendants, teams"
)


async def truncate_tables(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        exists = await connection.fetchval("SELECT to_regclass('public.tickets') IS NOT NULL")
        if exists:
            await connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@dataclass
class FakeConnector:
    """Stands where Rasa's HandoffConnector will: records each signed command it accepts."""

    url: str = ""
    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_with: int | None = None
    # What it answers a command of that path, as the connector would (default {"ok": true}).
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return [path for path, _ in self.commands]


class Attendant:
    """A signed-in attendant's HTTP client."""

    def __init__(self, service: RunningService, token: str, info: dict[str, Any]) -> None:
        self.service = service
        self.token = token
        self.info = info
        self.id: int = info["id"]

    async def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        return await self.service.call(method, path, body, headers=headers, **kwargs)

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return await self.request("POST", path, body, **kwargs)


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any


class RunningService:
    def __init__(self, app: Sanic, base_url: str, clock: FakeClock, http: aiohttp.ClientSession):
        self.app = app
        self.url = base_url
        self.clock = clock
        self.http = http

    @property
    def ctx(self) -> Any:
        return self.app.ctx

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        async with self.http.request(method, self.url + path, data=data, headers=all_headers) as r:
            text = await r.text()
            try:
                parsed = json.loads(text) if text else None
            except ValueError:
                parsed = text
            return Reply(r.status, parsed, r.headers)

    async def rasa(
        self,
        path: str,
        payload: Any,
        *,
        secret: str = SECRET,
        now: float | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = contract.signed_headers(secret, body, now=now)
        return await self.call("POST", path, headers=headers, raw=body)

    async def handoff(self, conversation_id: str = "conv-1", **fields: Any) -> Reply:
        return await self.rasa(
            contract.SERVICE_HANDOFFS_PATH, handoff_payload(conversation_id, **fields)
        )

    async def events(self, events: list[dict[str, Any]]) -> Reply:
        return await self.rasa(contract.SERVICE_EVENTS_PATH, {"events": events})

    async def attendant(
        self, username: str, *, role: str = "attendant", teams: list[str] | None = None
    ) -> Attendant:
        await self.ctx.attendants.create(
            username=username,
            display_name=username.title(),
            password=PASSWORD,
            role=role,
            team_names=teams or [],
        )
        return await self.login(username)

    async def login(self, username: str, password: str = PASSWORD) -> Attendant:
        reply = await self.call(
            "POST", "/api/auth/login", {"username": username, "password": password}
        )
        assert reply.status == 200, reply.body
        return Attendant(self, reply.body["token"], reply.body["attendant"])

    async def login_attempt(
        self, username: str, password: str, headers: dict[str, str] | None = None
    ) -> Reply:
        """A sign-in that may fail (wrong password, throttled); `login` asserts success."""
        return await self.call(
            "POST",
            "/api/auth/login",
            {"username": username, "password": password},
            headers=headers,
        )

    async def table_count(self, table: str) -> int:
        async with self.ctx.db.read() as conn:
            return (await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar()


def handoff_payload(conversation_id: str = "conv-1", **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "idempotency_key": contract.idempotency_key_for(conversation_id, "ev-handoff"),
        "conversation_id": conversation_id,
        "channel": "socketio",
        "rule": "negative_sentiment",
        "reason": "The customer is angry about a double charge",
        "priority": "high",
        "team": "support",
        "scores": [{"sentiment": -0.7, "complexity": 0.4}],
        "summary": {
            "reason": "Angry about a double charge",
            "topics": ["billing", "refund"],
            "last_bot_action": "utter_ask_order_number",
            "message_count": 2,
            "recent_scores": [{"sentiment": -0.7}],
        },
        "transcript": [
            {
                "event_id": contract.event_identity(
                    conversation_id, user_event("I was charged twice", 1.0)
                ),
                "sender": "customer",
                "text": "I was charged twice",
                "timestamp": 1700000001.0,
            },
            {
                "event_id": contract.event_identity(
                    conversation_id, bot_event("Sorry to hear that", 2.0)
                ),
                "sender": "bot",
                "text": "Sorry to hear that",
                "timestamp": 1700000002.0,
            },
        ],
    }
    payload.update(fields)
    return payload


def user_event(
    text: str, offset: float, sender_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    event = {
        "event": "user",
        "timestamp": 1700000000.0 + offset,
        "text": text,
        "parse_data": {"intent": {"name": "inform"}},
        "input_channel": "socketio",
        **extra,
    }
    if sender_id is not None:
        event["sender_id"] = sender_id
    return event


def bot_event(
    text: str, offset: float, sender_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    event = {
        "event": "bot",
        "timestamp": 1700000000.0 + offset,
        "text": text,
        "data": {},
        "metadata": {},
        **extra,
    }
    if sender_id is not None:
        event["sender_id"] = sender_id
    return event


async def start_service(settings: Settings, seed_file: str | None = None) -> tuple[Sanic, Any, str]:
    app = create_app(settings, seed_file=seed_file)
    port = free_port()
    # The port it really listens on, so the links it makes (public_url) reach it.
    app.ctx.settings.port = port
    server = await app.create_server(
        host="127.0.0.1",
        port=port,
        return_asyncio_server=True,
        access_log=False,
        **server_options(app),
    )
    # create_server already listens; the listeners run now, before any test request is sent.
    await server.startup()
    await server.before_start()
    await server.after_start()
    return app, server, f"http://127.0.0.1:{port}"


async def stop_service(server: Any) -> None:
    await server.before_stop()
    for connection in list(server.connections):
        connection.close_if_idle()
        if hasattr(connection, "transport") and connection.transport is not None:
            connection.transport.close()
    server.close()
    await server.wait_closed()
    await server.after_stop()


def make_settings(db_url: str, clock: FakeClock, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "db_url": db_url,
        "secret": SECRET,
        "session_secret": SESSION_SECRET,
        "clock": clock,
        "run_background_tasks": False,
        "reopen_window": timedelta(minutes=15),
        "inactivity_timeout": timedelta(minutes=30),
        "connector_attempts": 2,
        "connector_timeout_seconds": 2.0,
        # Each service's uploaded files in a directory of its own, never the repository's .data/.
        "attachments_dir": tempfile.mkdtemp(prefix="handoff-files-"),
    }
    values.update(overrides)
    return Settings(**values)
