"""No secret reaches the logs: not the HMAC secret, a password, a session token or a signature.

The service runs with every logger at DEBUG while it goes through sign-ins (good and bad), password
changes, signed calls from Rasa's side (good, forged, stale), a signed reply out to the connector,
a refused request and a rate-limited one; then every captured log line and everything printed is
searched for each secret.
"""

from __future__ import annotations

import json
import logging

import pytest

from handoff_component import contract
from tests.service.support import (
    PASSWORD,
    SECRET,
    SESSION_SECRET,
    FakeConnector,
    RunningService,
    handoff_payload,
)

NEW_PASSWORD = "another-Secret-Passphrase-42"
WRONG_PASSWORD = "wrong-but-still-private-99"
LOGGERS = ("", "sanic.root", "sanic.error", "sanic.access", "handoff_component", "aiohttp")


async def test_secrets_passwords_tokens_and_signatures_never_reach_the_logs(
    service_with_connector: RunningService,
    connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    service = service_with_connector
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    secrets = [SECRET, SESSION_SECRET, PASSWORD, NEW_PASSWORD, WRONG_PASSWORD]

    sam = await service.attendant("sam", role="supervisor", teams=["support"])
    ana = await service.attendant("ana", teams=["support"])
    secrets += [sam.token, ana.token]
    created = await sam.post(
        "/api/attendants",
        {"username": "carla", "display_name": "Carla", "password": PASSWORD, "teams": []},
    )
    changed = await sam.request(
        "PATCH", f"/api/attendants/{created.body['attendant']['id']}", {"password": NEW_PASSWORD}
    )
    carla = await service.login("carla", NEW_PASSWORD)
    secrets.append(carla.token)
    refused = [await service.login_attempt("carla", WRONG_PASSWORD) for _ in range(6)]

    body = json.dumps(handoff_payload("conv-logs")).encode()
    good = contract.signed_headers(SECRET, body)
    forged = contract.signed_headers("not-the-secret", body)
    stale = contract.signed_headers(SECRET, body, now=1_000_000)
    secrets += [h[contract.SIGNATURE_HEADER].split("=", 1)[1] for h in (good, forged, stale)]
    answers = [
        await service.call("POST", contract.SERVICE_HANDOFFS_PATH, headers=h, raw=body)
        for h in (forged, stale, good)
    ]
    ticket_id = answers[-1].body["ticket"]["id"]
    await ana.post(f"/api/tickets/{ticket_id}/claim")
    replied = await ana.post(f"/api/tickets/{ticket_id}/reply", {"text": "Hello"})
    outsider = await service.call(
        "GET", "/api/me", headers={"Authorization": f"Bearer {ana.token}x"}
    )

    assert changed.status == 200, changed.body
    assert [r.status for r in refused] == [401] * 5 + [429]
    assert [a.status for a in answers] == [401, 401, 201]
    assert replied.status == 201 and connector.paths() == ["reply"]
    assert outsider.status == 401
    printed = capsys.readouterr()
    logged = caplog.text + printed.out + printed.err
    assert caplog.records, "the check needs something logged to mean anything"
    for secret in secrets:
        assert secret not in logged
