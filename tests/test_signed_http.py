"""One rule for every signed client: which answers are worth sending the same request again.

The service client (Rasa's side), the connector client and the team webhooks (the service's side)
all follow `signed_http.worth_retrying`; these tests hold each of the first two to it against a
real local HTTP peer (the webhooks' share is in tests/service/test_automation_and_notifications.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from handoff_component import contract
from handoff_component.bot.service_client import ServiceClient, ServiceUnavailable
from handoff_component.service.connector_client import DELIVERED, FAILED, ConnectorClient
from handoff_component.signed_http import worth_retrying
from tests.local_http import serving
from tests.shared_secret import SHARED_SECRET

SECRET = SHARED_SECRET


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408, 425, 429])
def test_server_errors_timeouts_and_too_many_requests_are_worth_retrying(status: int) -> None:
    assert worth_retrying(status)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 413, 422])
def test_any_other_client_error_is_a_refusal(status: int) -> None:
    assert not worth_retrying(status)


class Peer:
    """Answers each signed POST with the next status of `statuses` (then 200)."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received = 0
        self.url = ""


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    state = Peer()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        contract.verify(
            SECRET,
            request.headers[contract.TIMESTAMP_HEADER],
            body,
            request.headers[contract.SIGNATURE_HEADER],
        )
        state.received += 1
        status = state.statuses.pop(0) if state.statuses else 200
        return web.json_response({"error": {"message": f"status {status}"}}, status=status)

    app = web.Application()
    app.router.add_post("/{tail:.*}", receive)
    async with serving(app) as served:
        state.url = served.url
        yield state


def _resume() -> contract.ResumeCommand:
    return contract.ResumeCommand("c1", "socketio", 1, "resume_bot")


async def test_the_connector_client_retries_a_429_and_delivers(peer: Peer) -> None:
    client = ConnectorClient(peer.url, SECRET, attempts=3, backoff_seconds=0.01)
    peer.statuses = [429]

    result = await client.send(contract.CONNECTOR_RESUME_PATH, _resume())
    await client.close()

    assert (result.status, result.attempts, peer.received) == (DELIVERED, 2, 2)


async def test_the_connector_client_does_not_repeat_a_refused_command(peer: Peer) -> None:
    client = ConnectorClient(peer.url, SECRET, attempts=3, backoff_seconds=0.01)
    peer.statuses = [422]

    result = await client.send(contract.CONNECTOR_RESUME_PATH, _resume())
    await client.close()

    assert (result.status, result.attempts, peer.received) == (FAILED, 1, 1)
    assert result.error is not None and "422" in result.error


@pytest.mark.parametrize("status, refused", [(429, False), (408, False), (400, True), (422, True)])
async def test_the_service_client_calls_only_a_real_refusal_refused(
    peer: Peer, status: int, refused: bool
) -> None:
    client = ServiceClient(peer.url, SECRET)
    peer.statuses = [status]

    response = await client.post(contract.SERVICE_EVENTS_PATH, {"events": []})
    await client.close()

    assert (response.ok, response.refused) == (False, refused)


async def test_the_service_client_reports_a_5xx_as_unavailable(peer: Peer) -> None:
    client = ServiceClient(peer.url, SECRET)
    peer.statuses = [503]

    with pytest.raises(ServiceUnavailable, match="503"):
        await client.post(contract.SERVICE_EVENTS_PATH, {"events": []})
    await client.close()
