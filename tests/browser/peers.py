"""The real processes around the Inbox in the browser tests, without Rasa.

- `ServiceProcess`: the handoff service started by its own CLI, on a free port, SQLite in a
  temporary folder, so the page is served exactly as `handoff-service` serves it.
- `RasaSide`: what Rasa's action server and event broker send, signed with the shared secret
  (`POST /api/handoffs`, `POST /api/events`), to create tickets and customer messages.
- `ConnectorListener`: a local HTTP listener standing where Rasa's HandoffConnector listens; it
  checks each command's signature and records it, so a test can see the typing indicator, a
  takeover's pause or a resume leave the service. The full journey with the real connector and
  the web widget is in test_webchat_journey.py.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handoff_component import contract
from scripts.stack import PROJECT_DIR, Process, free_port
from tests.local_http import QuietHandler, ThreadedPeer

READY_TIMEOUT_S = 60.0


def http_json(
    url: str,
    body: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    method: str | None = None,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method or ("POST" if data else "GET"))
    for key, value in {"Content-Type": "application/json", **(headers or {})}.items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@dataclass
class ConnectorListener:
    """Records the commands the service sends to Rasa's connector; answers 200 to each."""

    secret: str
    commands: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    # Commands of a kind to answer 500 to, as a Rasa that is down would: {"reply": 3}.
    failing: dict[str, int] = field(default_factory=dict)
    # What to answer a command of a kind, as the connector would (default {"ok": true}):
    # {"wait": {"notice": "delivered"}}.
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        listener = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    contract.verify(
                        listener.secret,
                        self.headers.get(contract.TIMESTAMP_HEADER),
                        body,
                        self.headers.get(contract.SIGNATURE_HEADER),
                    )
                except contract.SignatureError as error:
                    self.send_response(401)
                    self.end_headers()
                    self.wfile.write(error.message.encode())
                    return
                kind = self.path.rsplit("/", 1)[-1]
                if listener.failing.get(kind, 0) > 0:
                    listener.failing[kind] -= 1
                    self.send_response(500)
                    self.end_headers()
                    self.wfile.write(b"the bot is restarting")
                    return
                listener.commands.append((kind, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(listener.answers.get(kind, {"ok": True})).encode())

        self.peer = ThreadedPeer(Handler, self.port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/handoff/"

    def of(self, kind: str, conversation_id: str) -> list[dict[str, Any]]:
        return [
            c for k, c in self.commands if k == kind and c["conversation_id"] == conversation_id
        ]

    def close(self) -> None:
        self.peer.close()


@dataclass
class ServiceProcess:
    """`python -m handoff_component.service` on a free port; stopped with its process group."""

    data_dir: Path
    seed: Path
    secret: str
    connector_url: str | None = None
    rules_file: Path | None = None
    session_secret: str = field(default_factory=lambda: secrets.token_hex(32))
    port: int = field(default_factory=free_port)
    process: Process | None = None
    # More HANDOFF_* settings, e.g. a short HANDOFF_AUTOMATION_INTERVAL_SECONDS.
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "service.log"

    def start(self) -> None:
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(PROJECT_DIR),
            "HANDOFF_SECRET": self.secret,
            "HANDOFF_SESSION_SECRET": self.session_secret,
            "HANDOFF_DB_URL": f"sqlite+aiosqlite:///{self.data_dir / 'handoff.db'}",
            "HANDOFF_ATTACHMENTS_DIR": str(self.data_dir / "attachments"),
        }
        if self.connector_url:
            env["HANDOFF_CONNECTOR_URL"] = self.connector_url
        if self.rules_file:
            env["HANDOFF_RULES_FILE"] = str(self.rules_file)
        env.update(self.extra_env)
        command = [sys.executable, "-m", "handoff_component.service", "--port", str(self.port)]
        command += ["--seed", str(self.seed)]
        self.process = Process.spawn("service", command, f"{self.url}/health", env, self.log_path)
        try:
            self.process.wait_ready(READY_TIMEOUT_S)
        except TimeoutError:
            self.stop()
            raise

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process else ""

    def stop(self) -> None:
        if self.process is None or self.process.popen.poll() is not None:
            return
        popen = self.process.popen
        popen.terminate()
        try:
            popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            popen.kill()
            popen.wait(timeout=5)


@dataclass
class RasaSide:
    """Signed calls as Rasa's action server and event broker make them."""

    service_url: str
    secret: str

    def _signed(self, path: str, payload: dict[str, Any]) -> Any:
        body = json.dumps(payload).encode()
        request = urllib.request.Request(
            self.service_url + path, data=body, headers=contract.signed_headers(self.secret, body)
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def hand_off(
        self,
        conversation_id: str,
        *,
        rule: str = "angry_sentiment",
        reason: str = "The customer is upset",
        team: str | None = "support",
        priority: str = "high",
        channel: str = "socketio",
        customer_turns: Sequence[tuple[str, dict[str, float]]] = (),
        topics: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A handoff with a transcript: each customer turn, then the bot's short answer."""
        now = time.time() - 2 * len(customer_turns) - 1
        transcript = []
        for index, (text, turn_scores) in enumerate(customer_turns):
            for offset, (sender, said) in enumerate(
                (("customer", text), ("bot", f"I'm sorry to hear that (turn {index + 1}).")),
            ):
                stamp = now + 2 * index + offset
                event = {
                    "event": "user" if sender == "customer" else "bot",
                    "timestamp": stamp,
                    "text": said,
                }
                message = {
                    "event_id": contract.event_identity(conversation_id, event),
                    "sender": sender,
                    "text": said,
                    "timestamp": stamp,
                }
                if sender == "customer" and turn_scores:
                    message["scores"] = dict(turn_scores)
                transcript.append(message)
        scores = [dict(s) for _, s in customer_turns if s]
        request = contract.HandoffRequest.from_dict(
            {
                "idempotency_key": f"test-{uuid.uuid4().hex}",
                "conversation_id": conversation_id,
                "channel": channel,
                "rule": rule,
                "reason": reason,
                "priority": priority,
                "team": team,
                "scores": scores,
                "summary": {
                    "reason": reason,
                    "topics": list(topics),
                    "last_bot_action": "utter_sorry",
                    "message_count": len(transcript),
                    "recent_scores": scores[-3:],
                },
                "transcript": transcript,
            }
        )
        return self._signed(contract.SERVICE_HANDOFFS_PATH, request.to_dict())["ticket"]

    def customer_says(
        self, conversation_id: str, text: str, scores: dict[str, float] | None = None
    ) -> dict[str, Any]:
        """A user event as the event broker forwards it, with HandoffScorer's parse_data."""
        event = {
            "sender_id": conversation_id,
            "event": "user",
            "timestamp": time.time(),
            "text": text,
            "input_channel": "socketio",
            "metadata": {},
            "parse_data": {"text": text, "handoff": dict(scores or {})},
        }
        return self._signed(contract.SERVICE_EVENTS_PATH, {"events": [event]})


@dataclass
class AttendantApi:
    """The service's API as one attendant, for arranging tickets and checking the page's figures."""

    service_url: str
    username: str
    password: str
    token: str = ""

    def __post_init__(self) -> None:
        status, body = http_json(
            f"{self.service_url}/api/auth/login",
            {"username": self.username, "password": self.password},
        )
        assert status == 200, body
        self.token = body["token"]

    def get(self, path: str) -> Any:
        status, body = http_json(self.service_url + path, headers=self._auth())
        assert status == 200, (path, status, body)
        return body

    def post(self, path: str, payload: dict[str, Any] | None = None) -> Any:
        status, body = http_json(self.service_url + path, payload or {}, headers=self._auth())
        assert status < 300, (path, status, body)
        return body

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}
