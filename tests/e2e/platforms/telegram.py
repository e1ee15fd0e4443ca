"""A stand-in for a local Telegram Bot API server (`telegram-bot-api --local`), and Telegram's
updates into Rasa.

What it holds to, from the Bot API's public contract:
- methods are `POST {server}/bot{token}/{method}` with form or multipart fields; every answer is
  `{"ok": true, "result": ...}` or `{"ok": false, "error_code": N, "description": "..."}`;
  an unknown token is 401 "Unauthorized"; a user who blocked the bot is 403 "Forbidden: bot was
  blocked by the user"; text is 1-4,096 characters;
- `setWebhook(url, secret_token)` registers where updates go: each update is POSTed there as
  JSON, with the secret in `X-Telegram-Bot-Api-Secret-Token` (a local server may use http).
"""

from __future__ import annotations

import hmac
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.platforms.gateway import ApiRequest, ApiResponse
from tests.e2e.platforms.meta import post
from tests.e2e.platforms.recording import Sent, SentLog

PREFIX = "telegram"
METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")


def telegram_error(status: int, description: str) -> ApiResponse:
    return ApiResponse(status, {"ok": False, "error_code": status, "description": description})


@dataclass
class TelegramBot:
    token: str  # "123456:ABC..." as @BotFather gives it
    username: str
    sent: SentLog = field(default_factory=SentLog)
    webhook_url: str | None = None
    secret_token: str | None = None
    blocked_by: set[str] = field(default_factory=set)

    @property
    def bot_id(self) -> int:
        return int(self.token.split(":", 1)[0])


class Telegram:
    prefix = PREFIX

    def __init__(self, bot: TelegramBot) -> None:
        self.bot = bot
        self.webhooks_set: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def customer_writes(
        self, chat_id: int, text: str, secret: str | None = None
    ) -> tuple[int, str]:
        """The user sends `text` to the bot; Telegram posts the update to the webhook set."""
        bot = self.bot
        if bot.webhook_url is None:
            raise AssertionError("no webhook was set: Rasa never called setWebhook")
        update = {
            "update_id": next(self._ids),
            "message": {
                "message_id": next(self._ids),
                "from": {"id": chat_id, "is_bot": False, "first_name": "Customer"},
                "chat": {"id": chat_id, "first_name": "Customer", "type": "private"},
                "date": int(time.time()),
                "text": text,
            },
        }
        headers = {"Content-Type": "application/json"}
        token = bot.secret_token if secret is None else secret
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        return post(bot.webhook_url, json.dumps(update).encode(), headers)

    def handle(self, request: ApiRequest) -> ApiResponse:
        match = METHOD_PATH.match(request.path)
        if match is None:
            return telegram_error(404, "Not Found")
        bot = self.bot
        if not hmac.compare_digest(match["token"], bot.token):
            return telegram_error(401, "Unauthorized")
        method, fields = match["method"], request.fields()
        if method == "getMe":
            user = {"id": bot.bot_id, "is_bot": True, "first_name": "Northwind"}
            return ApiResponse(200, {"ok": True, "result": {**user, "username": bot.username}})
        if method == "setWebhook":
            with self._lock:
                self.webhooks_set.append(dict(fields))
                bot.webhook_url = fields.get("url") or None
                bot.secret_token = fields.get("secret_token") or None
            return ApiResponse(200, {"ok": True, "result": True, "description": "Webhook was set"})
        senders = {
            "sendMessage": ("text", "text"),
            "sendPhoto": ("image", "photo"),
            "sendDocument": ("file", "document"),
            "sendChatAction": ("typing_on", "action"),
        }
        if method not in senders:
            return telegram_error(404, f"Not Found: method {method} not found")
        kind, field_name = senders[method]
        chat = str(fields.get("chat_id", ""))
        value = fields.get(field_name)
        text = value if kind == "text" else None
        url = value if kind in ("image", "file") else None
        refusal = None
        if chat in bot.blocked_by:
            refusal = telegram_error(403, "Forbidden: bot was blocked by the user")
        elif kind == "text" and not 1 <= len(value or "") <= 4096:
            refusal = telegram_error(400, "Bad Request: message is too long")
        elif kind == "typing_on" and value != "typing":
            refusal = telegram_error(400, "Bad Request: wrong parameter action in request")
        error = refusal.body["description"] if refusal else None
        bot.sent.add(Sent(chat, kind, text, url, refusal is None, error, dict(fields)))
        if refusal is not None:
            return refusal
        if kind == "typing_on":
            return ApiResponse(200, {"ok": True, "result": True})
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": {"id": bot.bot_id, "is_bot": True, "first_name": "Northwind"},
            "chat": {"id": int(chat) if chat.lstrip("-").isdigit() else chat, "type": "private"},
            "date": int(time.time()),
        }
        if kind == "text":
            message["text"] = text
        elif kind == "image":
            message["photo"] = [
                {"file_id": "photo-1", "file_unique_id": "p1", "width": 1, "height": 1}
            ]
        else:
            message["document"] = {"file_id": "doc-1", "file_unique_id": "d1"}
        return ApiResponse(200, {"ok": True, "result": message})
