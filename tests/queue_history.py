"""A team's recent claims in a running service process, for tests of the expected wait.

The estimate needs a history of claims (how long the team's tickets waited), and tests that run
real processes cannot wait minutes for one. So the history is made the way it happens (signed
handoffs, an attendant's claim and close through the API), and then the tickets' `created_at`
is moved back in the service's SQLite file, so each waited `minutes` before its claim. Only that
one column of those tickets is arranged; the service computes everything from its database.
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from handoff_component import contract

# How SQLAlchemy stores a DateTime in SQLite (naive UTC, microseconds).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def _call(url: str, body: Mapping[str, Any] | None, headers: Mapping[str, str]) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    for key, value in {"Content-Type": "application/json", **headers}.items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def sign_in(service_url: str, username: str, password: str) -> dict[str, str]:
    """An attendant's session (it counts as signed in for the estimate): auth headers."""
    status, body = _call(
        f"{service_url}/api/auth/login", {"username": username, "password": password}, {}
    )
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}


def sign_out(service_url: str, attendant: Mapping[str, str]) -> None:
    """End that session: the attendant no longer counts as signed in."""
    status, body = _call(f"{service_url}/api/auth/logout", {}, attendant)
    assert status == 200, body


def hand_off(
    service_url: str, secret: str, conversation_id: str, team: str, priority: str = "normal"
) -> dict[str, Any]:
    """A signed handoff as action_handoff sends it; the service's ticket."""
    request = contract.HandoffRequest(
        idempotency_key=f"history-{uuid.uuid4().hex}",
        conversation_id=conversation_id,
        channel="socketio",
        rule="explicit_request",
        reason="The customer asked for a person",
        priority=priority,
        team=team,
    )
    body = json.dumps(request.to_dict()).encode()
    status, answer = _call(
        service_url + contract.SERVICE_HANDOFFS_PATH,
        json.loads(body),
        contract.signed_headers(secret, body),
    )
    assert status in (200, 201), answer
    return answer["ticket"]


def claimed_history(
    service_url: str,
    secret: str,
    db_path: Path,
    attendant: Mapping[str, str],
    *,
    team: str,
    minutes: float,
    count: int = 5,
) -> list[int]:
    """`count` tickets of `team`, each claimed `minutes` after it opened, then closed: the
    team's recent pace. Their ids."""
    ids = []
    for _ in range(count):
        ticket = hand_off(service_url, secret, f"history-{uuid.uuid4().hex[:10]}", team)
        for action in ("claim", "close"):
            url = f"{service_url}/api/tickets/{ticket['id']}/{action}"
            status, body = _call(url, {}, attendant)
            assert status == 200, body
        ids.append(ticket["id"])
    with sqlite3.connect(db_path) as db:
        for ticket_id in ids:
            (claimed_at,) = db.execute(
                "SELECT claimed_at FROM tickets WHERE id = ?", (ticket_id,)
            ).fetchone()
            opened = datetime.fromisoformat(claimed_at) - timedelta(minutes=minutes)
            db.execute(
                "UPDATE tickets SET created_at = ? WHERE id = ?",
                (opened.strftime(SQLITE_TIME), ticket_id),
            )
    return ids
