"""`instagram`: Instagram Direct messages as a Rasa input channel, over the Messenger Platform.

Rasa 3.6 has no Instagram channel, although Instagram messaging is the Messenger Platform: the
same webhooks (object `instagram`) signed with the app secret, and the same Send API
(`POST /me/messages` with the access token of the Facebook Page linked to the Instagram
account). So this channel is Rasa's facebook channel with Instagram's differences:

- the webhook's signature is checked on `X-Hub-Signature-256` (HMAC-SHA256) with a constant-time
  comparison, and a bad one is answered 403 (Rasa's facebook channel answers 200 and drops it);
- every event of a batched webhook is handled, not only the first; echoes, reads and reactions
  are skipped;
- buttons go out as quick replies (Instagram has no button template), at most 13;
- text is at most 1,000 bytes a message: longer text is sent in parts, cut at paragraph breaks
  where it can be (`core/message_parts.py`).

Configured in credentials.yml like the facebook channel:

    handoff_component.InstagramInput:
      verify: ${INSTAGRAM_VERIFY}                    # the verify token of the webhook set-up
      secret: ${INSTAGRAM_APP_SECRET}                # the Meta app's secret
      page-access-token: ${INSTAGRAM_PAGE_ACCESS_TOKEN}
      api_version: "21.0"                            # optional, the Graph API version
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fbmessenger import MessengerClient
from fbmessenger.elements import Text as FBText
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.facebook import MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_component.bot.channel_credentials import checked_credentials
from handoff_component.core.message_parts import split_for_limit, utf8_bytes

logger = logging.getLogger(__name__)

DEFAULT_API_VERSION = "21.0"
MAX_TEXT_BYTES = 1000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
REQUIRED = ("verify", "secret", "page-access-token")
KNOWN_OPTIONS = {*REQUIRED, "api_version"}


def graph_client(access_token: str, api_version: str = DEFAULT_API_VERSION) -> MessengerClient:
    """fbmessenger's client, as Rasa's facebook channel uses it, on a current Graph API version."""
    return MessengerClient(access_token, api_version=api_version)


class InstagramOutput(MessengerBot):
    """Rasa's MessengerBot for an Instagram conversation."""

    @classmethod
    def name(cls) -> str:
        return "instagram"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in split_for_limit(text, MAX_TEXT_BYTES, utf8_bytes):
            self.send(recipient_id, FBText(text=part))

    def send(self, recipient_id: str, element: Any) -> None:
        answer = self.messenger_client.send(element.to_dict(), recipient_id, "RESPONSE")
        if isinstance(answer, dict) and "error" in answer:
            # Rasa's MessengerBot drops this answer; a bot turn Instagram refused is logged.
            logger.warning("Instagram refused a message to %s: %s", recipient_id, answer["error"])

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Buttons as quick replies, Instagram's only kind of button on a text message."""
        if len(buttons) > MAX_QUICK_REPLIES:
            logger.warning(
                "Instagram takes at most %d quick replies; sending the text only", MAX_QUICK_REPLIES
            )
            await self.send_text_message(recipient_id, text)
            return
        quick_replies = [
            {
                "content_type": "text",
                "title": str(button["title"])[:MAX_QUICK_REPLY_TITLE],
                "payload": str(button.get("payload", button["title"])),
            }
            for button in buttons
        ]
        self.messenger_client.send(
            {"text": text, "quick_replies": quick_replies}, recipient_id, "RESPONSE"
        )


class InstagramInput(InputChannel):
    """Instagram Direct messages through the Messenger Platform's webhooks and Send API."""

    @classmethod
    def name(cls) -> str:
        return "instagram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = checked_credentials("instagram", credentials, REQUIRED, KNOWN_OPTIONS)
        api_version = str(credentials.get("api_version") or DEFAULT_API_VERSION)
        if not re.fullmatch(r"\d+\.\d+", api_version):
            raise ValueError(
                'credentials.yml, instagram: api_version must look like "21.0", '
                f"got {api_version!r}"
            )
        return cls(
            credentials["verify"],
            credentials["secret"],
            credentials["page-access-token"],
            api_version,
        )

    def __init__(
        self, verify: str, secret: str, access_token: str, api_version: str = DEFAULT_API_VERSION
    ) -> None:
        self.verify = verify
        self.secret = secret
        self.access_token = access_token
        self.api_version = api_version

    def get_output_channel(self) -> OutputChannel:
        return InstagramOutput(graph_client(self.access_token, self.api_version))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("instagram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verification(request: Request) -> HTTPResponse:
            if request.args.get("hub.mode") == "subscribe" and hmac.compare_digest(
                request.args.get("hub.verify_token", ""), self.verify
            ):
                return response.text(request.args.get("hub.challenge", ""))
            return response.text("the verify token does not match credentials.yml", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not signature_is_valid(
                self.secret, request.body or b"", request.headers.get("X-Hub-Signature-256")
            ):
                logger.warning("instagram webhook with a bad X-Hub-Signature-256 refused")
                return response.text("bad X-Hub-Signature-256", status=403)
            payload = request.json if isinstance(request.json, dict) else {}
            if payload.get("object") != "instagram":
                return response.text("not an instagram event; ignored")
            metadata = self.get_metadata(request)
            for sender, text in customer_messages(payload):
                message = UserMessage(
                    text,
                    self.get_output_channel(),
                    sender,
                    input_channel=self.name(),
                    metadata=metadata,
                )
                try:
                    await on_new_message(message)
                except Exception:  # one bad message must not lose the rest of the batch
                    logger.exception("instagram: handling a message from %s failed", sender)
            return response.text("EVENT_RECEIVED")

        return webhook


def signature_is_valid(secret: str, body: bytes, header: str | None) -> bool:
    """Meta's `X-Hub-Signature-256: sha256=<hex HMAC of the raw body with the app secret>`."""
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def customer_messages(payload: dict[str, Any]) -> Iterable[tuple[str, str]]:
    """(sender IGSID, text) of every message a customer sent in one webhook, in order.

    A quick reply or postback gives its payload; a media message its first attachment's URL,
    as Rasa's facebook channel does; echoes of the account's own messages are skipped.
    """
    for entry in payload.get("entry") or []:
        for event in (entry or {}).get("messaging") or []:
            sender = str(((event or {}).get("sender") or {}).get("id") or "")
            text = _text_of(event)
            if sender and text:
                yield sender, text


def _text_of(event: dict[str, Any]) -> str | None:
    if "postback" in event:
        postback = event["postback"] or {}
        return postback.get("payload") or postback.get("title")
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo") or message.get("is_deleted"):
        return None
    quick_reply = message.get("quick_reply") or {}
    if quick_reply.get("payload"):
        return str(quick_reply["payload"])
    if message.get("text"):
        return str(message["text"])
    for attachment in message.get("attachments") or []:
        url = ((attachment or {}).get("payload") or {}).get("url")
        if url:
            return str(url)
    return None
