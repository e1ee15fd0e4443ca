"""`telegram`: Rasa's Telegram channel, able to send an attendant's reply from a running server.

Rasa 3.6's TelegramInput sets its webhook with `asyncio.run()` every time it builds an output
channel. That works once, at start-up, before the server's loop runs; later, when the handoff
connector asks for an output channel to send an attendant's reply, `asyncio.run()` raises
inside the running loop and the reply cannot be sent. This subclass sets the webhook at start-up
only, and otherwise behaves as Rasa's channel (same webhook handling, same TelegramOutput), with
two documented options of Telegram's Bot API that Rasa does not pass on:

- `secret_token`: registered with `setWebhook`; Telegram then sends it in the
  `X-Telegram-Bot-Api-Secret-Token` header of every update, and an update without it is refused
  with 403 (Rasa's channel accepts any POST that names a chat);
- `api_server`: the base URL of a local Bot API server (`telegram-bot-api --local`), instead of
  https://api.telegram.org.

    # credentials.yml
    handoff_component.TelegramInput:
      access_token: ${TELEGRAM_TOKEN}          # from @BotFather
      verify: ${TELEGRAM_BOT_USERNAME}         # the bot's username, as Rasa's channel checks it
      webhook_url: https://bot.example.com/webhooks/telegram/webhook
      secret_token: ${TELEGRAM_SECRET_TOKEN}   # optional, recommended: 1-256 of A-Z a-z 0-9 _ -
      api_server: http://127.0.0.1:8081        # optional
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.bot.api import TELEGRAM_PRODUCTION, TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.telegram import TelegramOutput as RasaTelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_component.bot.channel_credentials import checked_credentials

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
REQUIRED = ("access_token", "verify", "webhook_url")
KNOWN_OPTIONS = {*REQUIRED, "secret_token", "api_server"}


class TelegramOutput(RasaTelegramOutput):
    """Rasa's TelegramOutput on a chosen Bot API server."""

    def __init__(self, access_token: str, server: TelegramAPIServer = TELEGRAM_PRODUCTION) -> None:
        Bot.__init__(self, access_token, server=server)


class TelegramInput(RasaTelegramInput):
    """Rasa's `telegram` channel whose output channel can be built inside a running server."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = checked_credentials("telegram", credentials, REQUIRED, KNOWN_OPTIONS)
        secret_token = credentials.get("secret_token") or None
        if secret_token is not None and not SECRET_TOKEN.fullmatch(str(secret_token)):
            raise ValueError(
                "credentials.yml, telegram: secret_token must be 1-256 characters of "
                "A-Z, a-z, 0-9, _ and - (Telegram's rule)"
            )
        api_server = credentials.get("api_server") or None
        if api_server is not None and not str(api_server).startswith(("http://", "https://")):
            raise ValueError(
                f"credentials.yml, telegram: api_server must be an http(s) URL, got {api_server!r}"
            )
        return cls(
            credentials["access_token"],
            credentials["verify"],
            credentials["webhook_url"],
            secret_token=secret_token,
            api_server=api_server,
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        debug_mode: bool = True,
        *,
        secret_token: str | None = None,
        api_server: str | None = None,
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        self.secret_token = secret_token
        self.server = TelegramAPIServer.from_base(api_server) if api_server else TELEGRAM_PRODUCTION

    def get_output_channel(self) -> TelegramOutput:
        """An output channel; at start-up (no loop running yet) the webhook is set first."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            try:
                asyncio.run(self._set_webhook())
            except TelegramAPIError as error:
                raise RasaException(f"Failed to set channel webhook: {error}") from error
        # A fresh Bot: its HTTP session is made on first use, on the loop that uses it.
        return TelegramOutput(self.access_token or "", self.server)

    async def _set_webhook(self) -> bool:
        bot = TelegramOutput(self.access_token or "", self.server)
        try:
            data: dict[str, Any] = {"url": self.webhook_url}
            if self.secret_token:
                data["secret_token"] = self.secret_token
            return bool(await bot.request("setWebhook", data))
        finally:
            await bot.session.close()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def telegram_only(request: Request) -> HTTPResponse | None:
            if request.path.endswith("/set_webhook"):
                # Rasa's own route would register the webhook without the secret token.
                done = await self._set_webhook()
                return response.text("Webhook setup successful" if done else "Invalid webhook")
            if self.secret_token and request.method == "POST":
                sent = request.headers.get(SECRET_HEADER, "")
                if not hmac.compare_digest(sent, self.secret_token):
                    return response.text(f"bad {SECRET_HEADER}", status=403)
            return None

        return webhook
