"""Fixtures for the handoff service: a real server on a free port, per database backend.

Every test that takes `service` runs once on SQLite (a temporary file) and once on the PostgreSQL at
127.0.0.1:5432 (a scratch database made for the session and dropped after). When PostgreSQL is not
reachable the PostgreSQL half is skipped with a loud reason, repeated at the end of the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

from handoff_component import contract
from handoff_component.service.app import create_app
from handoff_component.service.settings import Settings

PG_ADMIN_URL = os.environ.get("HANDOFF_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET = "test-shared-secret"
PASSWORD = "correct-horse-battery"

_pg_skip_reason: list[str] = []

# Several apps start in one process here; sanic 21.12's start-up rewrites HttpProtocol's methods
# in place unless in test mode, and fails on the second app.
Sanic.test_mode = True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeClock:
    """The service's clock in tests: time moves only when a test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 11, 23, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


# --- PostgreSQL scratch database --------------------------------------------------------------


async def _pg_admin(statement: str) -> None:
    import asyncpg

    url = PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url, timeout=3)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _loud_skip(reason: str) -> None:
    message = f"PostgreSQL tests SKIPPED: {reason}"
    if message not in _pg_skip_reason:
        _pg_skip_reason.append(message)
        print(f"\n{'!' * 78}\n!!! {message}\n{'!' * 78}", file=sys.stderr)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    name = f"handoff_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - any failure means: no PostgreSQL here
        _pg_skip_reason.append(
            f"PostgreSQL tests SKIPPED: cannot reach {PG_ADMIN_URL} ({error.__class__.__name__}: "
            f"{error}); set HANDOFF_TEST_PG_URL or start PostgreSQL on 127.0.0.1:5432"
        )
        yield None
        return
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for reason in _pg_skip_reason:
        terminalreporter.write_sep("!", reason, red=True, bold=True)


TABLES = (
    "webhook_deliveries, canned_replies, transitions, notes, messages, tickets, team_members, "
    "attendants, teams"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any, postgres_url: str | None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/handoff.db"
    if postgres_url is None:
        _loud_skip(_pg_skip_reason[0] if _pg_skip_reason else "PostgreSQL is not reachable")
    assert postgres_url is not None
    asyncio.run(_truncate(postgres_url))
    return postgres_url


async def _truncate(url: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        exists = await connection.fetchval("SELECT to_regclass('public.tickets') IS NOT NULL")
        if exists:
            await connection.execute(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


# --- a fake Rasa connector: a real HTTP listener that checks signatures ---------------------------


@dataclass
class FakeConnector:
    """Stands where Rasa's HandoffConnector will: records each signed command it accepts."""

    url: str = ""
    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail_with: int | None = None
    bad_signatures: int = 0

    def paths(self) -> list[str]:
        return [path for path, _ in self.commands]


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            contract.verify(
                SECRET,
                request.headers.get(contract.TIMESTAMP_HEADER),
                body,
                request.headers.get(contract.SIGNATURE_HEADER),
            )
        except contract.SignatureError:
            fake.bad_signatures += 1
            return web.json_response({"error": "bad signature"}, status=401)
        if fake.fail_with:
            return web.json_response({"error": "down"}, status=fake.fail_with)
        path = request.match_info["command"]
        payload = json.loads(body)
        contract.CONNECTOR_COMMANDS[path].from_dict(payload)  # the contract, both ways
        fake.commands.append((path, payload))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/webhooks/handoff/{command}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}/webhooks/handoff/"
    yield fake
    await runner.cleanup()


# --- the service under test ----------------------------------------------------------------------


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

    async def rasa(self, path: str, payload: Any, *, secret: str = SECRET, now: float | None = None,
                   raw: bytes | None = None) -> Reply:
        body = raw if raw is not None else json.dumps(payload).encode()
        headers = contract.signed_headers(secret, body, now=now)
        return await self.call("POST", path, headers=headers, raw=body)

    async def handoff(self, conversation_id: str = "conv-1", **fields: Any) -> Reply:
        return await self.rasa(contract.SERVICE_HANDOFFS_PATH, handoff_payload(conversation_id, **fields))

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
                "event_id": contract.event_identity(conversation_id, user_event("I was charged twice", 1.0)),
                "sender": "customer",
                "text": "I was charged twice",
                "timestamp": 1700000001.0,
            },
            {
                "event_id": contract.event_identity(conversation_id, bot_event("Sorry to hear that", 2.0)),
                "sender": "bot",
                "text": "Sorry to hear that",
                "timestamp": 1700000002.0,
            },
        ],
    }
    payload.update(fields)
    return payload


def user_event(text: str, offset: float, sender_id: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"event": "user", "timestamp": 1700000000.0 + offset, "text": text,
             "parse_data": {"intent": {"name": "inform"}}, "input_channel": "socketio", **extra}
    if sender_id is not None:
        event["sender_id"] = sender_id
    return event


def bot_event(text: str, offset: float, sender_id: str | None = None, **extra: Any) -> dict[str, Any]:
    event = {"event": "bot", "timestamp": 1700000000.0 + offset, "text": text, "data": {},
             "metadata": {}, **extra}
    if sender_id is not None:
        event["sender_id"] = sender_id
    return event


async def start_service(settings: Settings, seed_file: str | None = None) -> tuple[Sanic, Any, str]:
    app = create_app(settings, seed_file=seed_file)
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False
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
        "clock": clock,
        "run_background_tasks": False,
        "reopen_window": timedelta(minutes=15),
        "inactivity_timeout": timedelta(minutes=30),
        "connector_attempts": 2,
        "connector_timeout_seconds": 2.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service_overrides() -> dict[str, Any]:
    """Override in a test module to change the service's settings."""
    return {}


@pytest.fixture
async def service(
    db_url: str, clock: FakeClock, service_overrides: dict[str, Any]
) -> AsyncIterator[RunningService]:
    settings = make_settings(db_url, clock, **service_overrides)
    app, server, base_url = await start_service(settings)
    for name in ("support", "billing"):
        await app.ctx.teams.create(name=name)
    async with aiohttp.ClientSession() as http:
        yield RunningService(app, base_url, clock, http)
    await stop_service(server)


@pytest.fixture
async def service_with_connector(
    db_url: str, clock: FakeClock, connector: FakeConnector
) -> AsyncIterator[RunningService]:
    settings = make_settings(db_url, clock, connector_url=connector.url)
    app, server, base_url = await start_service(settings)
    for name in ("support", "billing"):
        await app.ctx.teams.create(name=name)
    async with aiohttp.ClientSession() as http:
        yield RunningService(app, base_url, clock, http)
    await stop_service(server)
