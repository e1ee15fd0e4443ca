"""`twilio`: Rasa's Twilio channel (SMS and WhatsApp), checking Twilio's request signature.

Rasa 3.6's TwilioInput takes any form POSTed to /webhooks/twilio/webhook as a message of the
customer named in `From`: whoever knows the URL can write as any customer, into their open
ticket. Twilio signs every webhook in `X-Twilio-Signature` (base64 HMAC-SHA1, keyed with the
account's auth token, of the URL Twilio called followed by each form field's name and value,
sorted by name). This subclass checks it with the twilio library's own `RequestValidator` and
answers a missing or wrong one with 403; otherwise it is Rasa's channel (same name, same
TwilioOutput), so tickets, rules and safety nets still say `twilio`.

    # credentials.yml
    handoff_component.TwilioInput:
      account_sid: ${TWILIO_ACCOUNT_SID}
      auth_token: ${TWILIO_AUTH_TOKEN}
      twilio_number: ${TWILIO_NUMBER}          # +1..., or whatsapp:+1... for WhatsApp
      webhook_url: https://bot.example.com/webhooks/twilio/webhook   # optional, see below

Twilio signs the URL as set in its console. Behind a proxy or load balancer the URL Rasa sees
differs (another host, http instead of https), so set `webhook_url` to the console's URL;
without it the request's own URL is checked.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput as RasaTwilioInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from handoff_component.bot.channel_credentials import checked_credentials

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Signature"
REQUIRED = ("account_sid", "auth_token", "twilio_number")
KNOWN_OPTIONS = {*REQUIRED, "webhook_url"}


class TwilioInput(RasaTwilioInput):
    """Rasa's `twilio` channel that takes only webhooks signed by Twilio."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = checked_credentials("twilio", credentials, REQUIRED, KNOWN_OPTIONS)
        webhook_url = credentials.get("webhook_url") or None
        if webhook_url is not None and not str(webhook_url).startswith(("http://", "https://")):
            raise ValueError(
                f"credentials.yml, twilio: webhook_url must be an http(s) URL, got {webhook_url!r}"
            )
        return cls(
            credentials["account_sid"],
            credentials["auth_token"],
            credentials["twilio_number"],
            webhook_url=webhook_url,
        )

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        debug_mode: bool = True,
        *,
        webhook_url: str | None = None,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode)
        self.webhook_url = webhook_url
        self.validator = RequestValidator(auth_token or "")

    def signed_by_twilio(self, request: Request) -> bool:
        """Whether the request carries Twilio's signature of its URL and form fields."""
        url = self.webhook_url or request.url
        signature = request.headers.get(SIGNATURE_HEADER, "")
        if signature and self.validator.validate(url, request.form, signature):
            return True
        logger.warning(
            "twilio: a webhook without a valid %s was refused (checked against %s; behind a "
            "proxy, set webhook_url to the URL configured in Twilio)",
            SIGNATURE_HEADER,
            url,
        )
        return False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.middleware("request")
        async def twilio_only(request: Request) -> HTTPResponse | None:
            if request.method == "POST" and not self.signed_by_twilio(request):
                return response.text(f"bad {SIGNATURE_HEADER}", status=403)
            return None

        return webhook
