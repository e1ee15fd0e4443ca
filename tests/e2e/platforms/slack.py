"""A stand-in for Slack's Web API (`chat.postMessage`) and the Events API's requests into Rasa.

What it holds to, from Slack's public contract:
- every event is POSTed as JSON, signed: `X-Slack-Request-Timestamp` and
  `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret>`;
- Web API methods are `POST https://slack.com/api/{method}` with `Authorization: Bearer <token>`
  and a JSON or form body; every answer is HTTP 200 with `{"ok": true, ...}` or
  `{"ok": false, "error": "<code>"}` (`invalid_auth`, `token_revoked`, `channel_not_found`, ...);
- `chat.postMessage` needs `channel` and `text` or `blocks`; the channel may be a conversation id
  (C..., D...) or a user id (U...), which posts in the app's direct messages with that user.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.platforms.gateway import ApiRequest, ApiResponse
from tests.e2e.platforms.meta import post
from tests.e2e.platforms.recording import Sent, SentLog

SLACK_HOSTS = ("slack.com", "www.slack.com")


def slack_signature(signing_secret: str, timestamp: str, body: bytes) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackApp:
    bot_token: str  # xoxb-...
    signing_secret: str
    webhook_url: str
    team_id: str = "T0NORTHWND"
    bot_user_id: str = "U0NORTHBOT"
    sent: SentLog = field(default_factory=SentLog)
    # The direct-message conversation Slack opened between the app and each user.
    dm_channels: dict[str, str] = field(default_factory=dict)


class Slack:
    hosts = SLACK_HOSTS

    def __init__(self, app: SlackApp) -> None:
        self.app = app
        self.revoked = False  # every call answered token_revoked
        self._lock = threading.Lock()

    def dm_channel(self, user: str) -> str:
        with self._lock:
            return self.app.dm_channels.setdefault(user, "D" + uuid.uuid4().hex[:10].upper())

    def customer_writes(
        self, user: str, text: str, signing_secret: str | None = None, age_s: float = 0
    ) -> tuple[int, str]:
        """The user writes to the app in its direct messages; Slack posts the event."""
        app = self.app
        ts = f"{time.time():.6f}"
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": self.dm_channel(user),
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "team": app.team_id,
        }
        payload = {
            "token": "verification-token-unused",
            "team_id": app.team_id,
            "api_app_id": "A0NORTHAPP",
            "event": event,
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": app.team_id, "user_id": app.bot_user_id, "is_bot": True}
            ],
        }
        body = json.dumps(payload).encode()
        timestamp = str(int(time.time() - age_s))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(
                signing_secret or app.signing_secret, timestamp, body
            ),
        }
        return post(app.webhook_url, body, headers)

    def handle(self, request: ApiRequest) -> ApiResponse:
        app = self.app
        method = request.path.removeprefix("/api/")
        auth = request.header("authorization") or ""
        if self.revoked:
            return ApiResponse(200, {"ok": False, "error": "token_revoked"})
        if not hmac.compare_digest(auth, f"Bearer {app.bot_token}"):
            return ApiResponse(200, {"ok": False, "error": "invalid_auth"})
        if method != "chat.postMessage":
            return ApiResponse(200, {"ok": False, "error": "unknown_method"})
        fields: dict[str, Any] = request.fields()
        channel = str(fields.get("channel") or "")
        with self._lock:
            by_channel = {c: u for u, c in app.dm_channels.items()}
        user = by_channel.get(channel) or (channel if channel in app.dm_channels else None)
        blocks = fields.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        text = fields.get("text")
        kind, url = "text", None
        for block in blocks or []:
            if block.get("type") == "image":
                kind, url = "image", block.get("image_url")
            elif block.get("type") == "actions":
                kind = "buttons"
        if user is None:
            app.sent.add(Sent(channel, kind, text, url, False, "channel_not_found", fields))
            return ApiResponse(200, {"ok": False, "error": "channel_not_found"})
        if not text and not blocks:
            app.sent.add(Sent(user, kind, text, url, False, "no_text", fields))
            return ApiResponse(200, {"ok": False, "error": "no_text"})
        app.sent.add(Sent(user, kind, text, url, True, None, fields))
        ts = f"{time.time():.6f}"
        message = {"type": "message", "text": text or "", "user": app.bot_user_id, "ts": ts}
        return ApiResponse(200, {"ok": True, "channel": channel, "ts": ts, "message": message})
