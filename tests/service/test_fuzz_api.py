"""Schemathesis fuzzes the live service from its own OpenAPI document.

Every operation gets generated requests, valid and invalid by the schema, sent by a signed-in
supervisor to a real service on 127.0.0.1 (SQLite in a temporary directory). Each answer must not be
a 5xx, must use a status the document lists, and must match the documented body schema. The service
runs on its own event loop in a thread, since schemathesis calls it synchronously.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from handoff_component import contract
from handoff_component.service.openapi import load_openapi
from tests.local_http import serve
from tests.service.support import (
    PASSWORD,
    SECRET,
    FakeClock,
    handoff_payload,
    make_settings,
    start_service,
    stop_service,
)

# Streams never end; they are covered by tests/service/test_automation_and_notifications.py.
SKIPPED_PATHS = {"/api/stream"}
EXAMPLES_PER_MODE = 10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


class ThreadedService:
    """A service on its own loop in a daemon thread, for synchronous clients."""

    def __init__(self, tmp: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.settings = make_settings(f"sqlite:///{tmp}/fuzz.db", FakeClock())
        self.server: Any = None
        self.connector: Any = None
        self.app: Any = None
        self.url = ""

    def run(self, coroutine: Any) -> Any:
        future: Future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=60)

    async def _start_connector(self) -> str:
        """A stand-in for Rasa's connector that takes every signed command, so no 502/503."""

        async def accept(request: web.Request) -> web.Response:
            body = await request.read()
            contract.verify(
                SECRET,
                request.headers.get(contract.TIMESTAMP_HEADER),
                body,
                request.headers.get(contract.SIGNATURE_HEADER),
            )
            return web.json_response({"delivered": True})

        app = web.Application()
        app.router.add_post("/webhooks/handoff/{command}", accept)
        self.connector = await serve(app)
        return f"{self.connector.url}/webhooks/handoff/"

    def start(self) -> None:
        self.thread.start()
        self.settings.connector_url = self.run(self._start_connector())
        self.app, self.server, self.url = self.run(start_service(self.settings))
        for name in ("support", "billing"):
            self.run(self.app.ctx.teams.create(name=name))
        self.run(
            self.app.ctx.attendants.create(
                username="sam",
                display_name="Sam",
                password=PASSWORD,
                role="supervisor",
                team_names=["support"],
            )
        )

    def stop(self) -> None:
        self.run(stop_service(self.server))
        self.run(self.connector.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ThreadedService]:
    service = ThreadedService(tmp_path_factory.mktemp("fuzz"))
    service.start()
    body = json.dumps(handoff_payload("fuzz-conv")).encode()
    headers = {"Content-Type": "application/json", **contract.signed_headers(SECRET, body)}
    opened = requests.post(service.url + contract.SERVICE_HANDOFFS_PATH, data=body, headers=headers)
    assert opened.status_code == 201, opened.text
    yield service
    service.stop()


@pytest.fixture(scope="module")
def token(live: ThreadedService) -> str:
    reply = requests.post(
        live.url + "/api/auth/login", json={"username": "sam", "password": PASSWORD}
    )
    assert reply.status_code == 200, reply.text
    return reply.json()["token"]


def _operations() -> list[Any]:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(load_openapi()))
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path not in SKIPPED_PATHS:
            found.append(operation)
    return found


OPERATIONS = _operations()


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda o: f"{o.method.upper()} {o.path}")
def test_generated_requests_get_documented_answers_and_never_a_5xx(
    operation: Any, live: ThreadedService, token: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    http = requests.Session()
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @settings(
        max_examples=EXAMPLES_PER_MODE * 2,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @hypothesis.given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=live.url, session=http, headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)

    check()
