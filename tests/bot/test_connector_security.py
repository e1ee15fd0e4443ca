"""Rasa's HandoffConnector refuses what the handoff service did not send: always a 4xx, never a 5xx.

The connector's blueprint is served by a real Sanic server on 127.0.0.1, as Rasa mounts it, with no
agent behind it: a command that got past the checks would need one, so any request that reaches a
handler shows as a 409 (no customer channel) rather than passing silently. Unsigned, forged, stale,
re-signed-then-altered, garbage and oversized bodies are each refused with a clear error code.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sanic import Sanic

from handoff_component import contract
from handoff_component.bot.connector import MAX_COMMAND_BYTES, HandoffConnector
from tests.service.support import free_port
from tests.shared_secret import SHARED_SECRET, UNSAFE_SECRETS

SECRET = SHARED_SECRET
COMMANDS = sorted(contract.CONNECTOR_COMMANDS)


class ConnectorServer:
    """The connector's blueprint on its own loop in a thread, for synchronous requests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.app = Sanic(f"connector_security_{free_port()}")
        self.app.config.ACCESS_LOG = False
        self.app.ctx.input_channels = []
        self.handled: list[Any] = []
        channel = HandoffConnector(secret=SECRET)
        self.app.blueprint(channel.blueprint(self._on_message), url_prefix="/webhooks/handoff")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/handoff/"
        self.server: Any = None

    async def _on_message(self, message: Any) -> None:
        self.handled.append(message)

    def _run(self, coroutine: Any) -> Any:
        future: Future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout=30)

    async def _start(self) -> Any:
        server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.after_start()
        return server

    async def _stop(self) -> None:
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()

    def start(self) -> None:
        self.thread.start()
        self.server = self._run(self._start())

    def stop(self) -> None:
        self._run(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def connector() -> Iterator[ConnectorServer]:
    Sanic.test_mode = True
    server = ConnectorServer()
    server.start()
    yield server
    server.stop()


def _reply_body() -> bytes:
    command = contract.ReplyCommand(
        conversation_id="conv-1",
        channel="socketio",
        ticket_id=1,
        message_id=1,
        text="Hello",
        attendant_name="Ana",
    )
    return json.dumps(command.to_dict()).encode()


def _post(connector: ConnectorServer, path: str, body: bytes, headers: dict[str, str]) -> Any:
    return requests.post(connector.url + path, data=body, headers=headers, timeout=10)


def test_a_correctly_signed_command_reaches_the_handler(connector: ConnectorServer) -> None:
    body = _reply_body()

    answer = _post(connector, "reply", body, contract.signed_headers(SECRET, body))

    # Past every check: refused only because this test app has no customer channel.
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "channel_not_configured"


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("unsigned", contract.TIMESTAMP_HEADER),
        ("no_signature", contract.SIGNATURE_HEADER),
        ("wrong_secret", contract.SIGNATURE_HEADER),
        ("stale", contract.TIMESTAMP_HEADER),
        ("from_the_future", contract.TIMESTAMP_HEADER),
        ("body_changed_after_signing", contract.SIGNATURE_HEADER),
        ("signature_replayed_with_new_timestamp", contract.SIGNATURE_HEADER),
        ("not_a_number_timestamp", contract.TIMESTAMP_HEADER),
    ],
)
def test_unsigned_forged_stale_or_replayed_commands_are_refused(
    connector: ConnectorServer, case: str, field: str
) -> None:
    body = _reply_body()
    good = contract.signed_headers(SECRET, body)
    headers = {
        "unsigned": {},
        "no_signature": {contract.TIMESTAMP_HEADER: good[contract.TIMESTAMP_HEADER]},
        "wrong_secret": contract.signed_headers("not-the-secret", body),
        "stale": contract.signed_headers(SECRET, body, now=1_000_000),
        "from_the_future": contract.signed_headers(SECRET, body, now=4_000_000_000),
        "body_changed_after_signing": good,
        "signature_replayed_with_new_timestamp": {
            **good,
            contract.TIMESTAMP_HEADER: str(int(good[contract.TIMESTAMP_HEADER]) + 1),
        },
        "not_a_number_timestamp": {**good, contract.TIMESTAMP_HEADER: "yesterday"},
    }[case]
    sent = body.replace(b"Hello", b"Pay to") if case == "body_changed_after_signing" else body

    answer = _post(connector, "reply", sent, headers)

    assert answer.status_code == 401
    assert answer.json()["error"] == {
        "code": "bad_signature",
        "message": answer.json()["error"]["message"],
        "field": field,
    }


def test_an_oversized_body_is_refused_before_its_signature_is_checked(
    connector: ConnectorServer,
) -> None:
    body = b"{" + b" " * MAX_COMMAND_BYTES + b"}"

    answer = _post(connector, "reply", body, contract.signed_headers(SECRET, body))

    assert answer.status_code == 413
    assert answer.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        (b"", "malformed_json", 400),
        (b"\xff\xfe\x00binary", "malformed_json", 400),
        (b"[1, 2", "malformed_json", 400),
        (b"[]", "invalid_field", 422),
        (b'{"conversation_id": "c"}', "invalid_field", 422),
        (b'{"conversation_id": "c\\u0000", "channel": "x"}', "invalid_field", 422),
    ],
)
def test_signed_garbage_is_a_clear_4xx(
    connector: ConnectorServer, body: bytes, code: str, status: int
) -> None:
    answer = _post(connector, "reply", body, contract.signed_headers(SECRET, body))

    assert answer.status_code == status
    assert answer.json()["error"]["code"] == code


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
BODIES = JSON.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=300)


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
@given(path=st.sampled_from(COMMANDS), body=BODIES, signed=st.booleans())
def test_any_body_signed_or_not_gets_a_4xx_and_never_a_5xx(
    connector: ConnectorServer, path: str, body: bytes, signed: bool
) -> None:
    headers = contract.signed_headers(SECRET, body) if signed else {}

    answer = _post(connector, path, body, headers)

    assert 400 <= answer.status_code < 500, answer.text
    assert answer.json()["error"]["message"]
    if not signed:
        assert answer.status_code == 401
    assert connector.handled == []


@pytest.mark.parametrize("opener, closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_signed_json_nested_too_deeply_is_a_400_not_a_crash(
    connector: ConnectorServer, opener: bytes, closer: bytes
) -> None:
    depth = MAX_COMMAND_BYTES // (len(opener) + len(closer)) - 10
    body = opener * depth + b"1" + closer * depth

    answer = _post(connector, "reply", body, contract.signed_headers(SECRET, body))

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "malformed_json"
    assert "nested too deeply" in answer.json()["error"]["message"]
    assert connector.handled == []


async def test_a_platform_that_never_answers_is_a_502_within_the_send_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A slow peer on the customer's side: the connector gives the service a failure to retry
    after the bound, instead of holding the command as long as the platform's client would."""
    from handoff_component.bot import connector as connector_module

    monkeypatch.setattr(connector_module, "SEND_TIMEOUT_S", 0.2)

    class Customer:
        name = "callback"

    async def never() -> None:
        await asyncio.Event().wait()

    with pytest.raises(connector_module.CommandError) as failed:
        await asyncio.wait_for(connector_module._send(Customer(), never), timeout=10)

    assert failed.value.status == 502
    assert "did not answer within 0.2 s" in failed.value.message


# --- the shared secret it is configured with --------------------------------------------------


@pytest.mark.parametrize(("value", "problem"), UNSAFE_SECRETS, ids=["placeholder", "short"])
def test_a_connector_with_an_unsafe_secret_stops_rasa_s_start_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, value: str, problem: str
) -> None:
    """The project's credentials.yml read as `rasa run` reads it: the service would refuse to
    sign with this value (contract.shared_secret), so Rasa must not start with it either."""
    from rasa.core.run import create_http_input_channels

    monkeypatch.setenv("HANDOFF_SECRET", value)
    monkeypatch.setenv("CALLBACK_URL", "http://127.0.0.1:1/callback")

    with pytest.raises(ValueError) as refused:
        create_http_input_channels(None, str(Path(__file__).parents[2] / "credentials.yml"))

    assert str(refused.value).startswith(
        f"credentials.yml, handoff connector: `secret` (HANDOFF_SECRET) {problem}"
    )


def test_a_connector_without_a_secret_is_refused_naming_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HANDOFF_SECRET", raising=False)

    with pytest.raises(ValueError, match=r"`secret` \(HANDOFF_SECRET\) is not set"):
        HandoffConnector.from_credentials({"reply_format": "{attendant}: {text}"})


def test_a_connector_configured_with_a_generated_secret_starts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What scripts/stack.py (`make run`) gives Rasa passes the rule."""
    from rasa.core.run import create_http_input_channels

    from scripts.stack import Stack

    demo_secret = Stack(model=Path("unused")).secret
    monkeypatch.setenv("HANDOFF_SECRET", demo_secret)
    monkeypatch.setenv("CALLBACK_URL", "http://127.0.0.1:1/callback")

    channels = create_http_input_channels(None, str(Path(__file__).parents[2] / "credentials.yml"))

    assert [c.secret for c in channels if isinstance(c, HandoffConnector)] == [demo_secret]
