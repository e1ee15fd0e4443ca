"""Fixtures for the handoff service: a real server on a free port, per database backend.

Every test that takes `service` runs once on SQLite (a temporary file) and once on the PostgreSQL at
127.0.0.1:5432 (a scratch database made for the session and dropped after). When PostgreSQL is not
reachable the PostgreSQL half is skipped with a loud reason, repeated at the end of the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handoff_component import contract
from tests.local_http import serving
from tests.service.support import (
    PG_ADMIN_URL,
    SECRET,
    FakeClock,
    FakeConnector,
    RunningService,
    make_settings,
    pg_admin,
    scratch_postgres,
    start_service,
    stop_service,
    unreachable,
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    name = f"handoff_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        unreachable.append(
            f"cannot reach {PG_ADMIN_URL} ({error.__class__.__name__}: {error}); "
            "set HANDOFF_TEST_PG_URL or start PostgreSQL on 127.0.0.1:5432"
        )
        yield None
        return
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any, postgres_url: str | None) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/handoff.db"
    return scratch_postgres(postgres_url)


@pytest.fixture
def pg_url(postgres_url: str | None) -> str:
    """PostgreSQL only (tests of several replicas sharing one database)."""
    return scratch_postgres(postgres_url)


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
            return web.json_response({"error": "bad signature"}, status=401)
        if fake.fail_with:
            return web.json_response({"error": "down"}, status=fake.fail_with)
        path = request.match_info["command"]
        payload = json.loads(body)
        contract.CONNECTOR_COMMANDS[path].from_dict(payload)  # the contract, both ways
        fake.commands.append((path, payload))
        return web.json_response(fake.answers.get(path, {"ok": True}))

    app = web.Application()
    app.router.add_post("/webhooks/handoff/{command}", handle)
    async with serving(app) as served:
        fake.url = f"{served.url}/webhooks/handoff/"
        yield fake


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service_overrides() -> dict[str, Any]:
    """Override in a test module to change the service's settings."""
    return {}


@contextlib.asynccontextmanager
async def _running(
    db_url: str, clock: FakeClock, **overrides: Any
) -> AsyncIterator[RunningService]:
    """A served app with the teams `support` and `billing`, and an HTTP client for it."""
    settings = make_settings(db_url, clock, **overrides)
    app, server, base_url = await start_service(settings)
    for name in ("support", "billing"):
        await app.ctx.teams.create(name=name)
    async with aiohttp.ClientSession() as http:
        yield RunningService(app, base_url, clock, http)
    await stop_service(server)


@pytest.fixture
async def service(
    db_url: str, clock: FakeClock, service_overrides: dict[str, Any]
) -> AsyncIterator[RunningService]:
    async with _running(db_url, clock, **service_overrides) as running:
        yield running


@pytest.fixture
async def service_with_connector(
    db_url: str, clock: FakeClock, connector: FakeConnector, service_overrides: dict[str, Any]
) -> AsyncIterator[RunningService]:
    async with _running(db_url, clock, connector_url=connector.url, **service_overrides) as running:
        yield running
