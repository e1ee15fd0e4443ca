"""How an attendant's message reaches the customer, on each channel Rasa has.

The bot's own turns go out through the OutputChannel Rasa builds for each incoming request. An
attendant writes later, with no request pending, so the connector asks the customer's input
channel for an output channel (`get_output_channel()`), and a `CustomerChannel` adds what each
platform needs on top of Rasa's own channel code:

- a refusal is an error, not a log line: Rasa's MessengerBot discards the Send API's answer,
  TwilioOutput logs a TwilioRestException and returns, CallbackOutput logs a 4xx. Here the
  platform's answer is read and a refusal raised as `ChannelRefused` with the platform's reason,
  so the Inbox can show it and keep the reply for a retry;
- a platform's rule is checked where the platform would otherwise fail silently: WhatsApp's
  24-hour customer-service window (Twilio accepts a free-form message outside it and fails it
  later, asynchronously, with error 63016);
- the right destination: a Slack reply goes to the channel (and thread) the customer last wrote
  in, as the bot's own answer did, not to the conversation id;
- files and the typing indicator where the platform has them, a reason where it has not;
- text within the platform's ceiling per message (`core/message_parts.py`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fbmessenger.attachments import File, Image
from fbmessenger.elements import Text as FBText
from rasa.core.channels.callback import CallbackInput, CallbackOutput
from rasa.core.channels.channel import InputChannel, OutputChannel
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from rasa.core.channels.slack import SlackInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.channels.telegram import TelegramInput as RasaTelegramInput
from rasa.core.channels.twilio import TwilioInput, TwilioOutput

from handoff_component.bot.instagram_channel import InstagramInput
from handoff_component.core.message_parts import Measure, characters, split_for_limit, utf8_bytes

SEND_TIMEOUT_S = 10.0
WHATSAPP_WINDOW_S = 24 * 3600
# Meta's codes for "try again later" (temporary failure, rate limits); every other is a refusal.
GRAPH_TRANSIENT_CODES = {1, 2, 4, 17, 32, 613, 1200}
GRAPH_OUTSIDE_WINDOW = (10, 2018278)
SLACK_TRANSIENT_ERRORS = {"ratelimited", "service_unavailable", "fatal_error", "internal_error"}


class ChannelRefused(Exception):
    """The platform answered and said no: the same message sent again would be refused again
    until something changes (the customer writes, a token is fixed)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChannelUnavailable(Exception):
    """No output channel can be built for the customer's channel, so nothing can be sent."""


class CustomerChannel:
    """The customer's own channel, as the connector uses it for one conversation."""

    platform = "the channel"
    text_limit: tuple[int, Measure] | None = None

    def __init__(self, name: str, output: OutputChannel, recipient: str) -> None:
        self.name = name
        self.output = output
        self.recipient = recipient

    def refusal_before_sending(self, last_customer_message_at: float | None) -> str | None:
        """Why the platform would refuse (or silently drop) a message now, if it would."""
        return None

    def text_parts(self, text: str) -> list[str]:
        if self.text_limit is None:
            return [text]
        limit, measure = self.text_limit
        return split_for_limit(text, limit, measure)

    async def send_text(self, text: str) -> None:
        await self.output.send_text_message(self.recipient, text)

    async def send_image(self, url: str) -> None:
        await self.output.send_image_url(self.recipient, url)

    async def send_file(self, url: str, name: str | None) -> None:
        await self.output.send_attachment(self.recipient, url)

    async def typing(self, on: bool) -> str | None:
        """Show or hide the typing indicator; the reason it cannot be, if it cannot."""
        return f"channel '{self.name}' has no typing indicator"


class SocketIOCustomer(CustomerChannel):
    """Images go as Rasa's own image message (`send_image_url`), which the rasa-webchat widget
    shows inline. Any other file goes as a text message holding a Markdown link: the widget
    renders text, buttons, images, videos and carousels, and drops any other `attachment`
    message (seen in rasa-webchat 1.0.1's `dispatchMessage`), so the customer would get
    nothing. A link works in every client that shows text."""

    platform = "socket.io"

    async def send_file(self, url: str, name: str | None) -> None:
        await self.output.send_text_message(self.recipient, file_link(url, name))

    async def typing(self, on: bool) -> str | None:
        sio = getattr(self.output, "sio", None)
        if sio is None:
            return "the socket.io server is not running"
        await sio.emit("handoff_typing", {"typing": on}, room=self.recipient)
        return None


def file_link(url: str, name: str | None) -> str:
    """A Markdown link to a file: its name (brackets escaped) and its URL (parentheses and
    spaces percent-encoded, so neither ends the link early)."""
    label = (name or url.rsplit("/", 1)[-1].split("?", 1)[0] or "file").replace("\\", "\\\\")
    for character in "[]":
        label = label.replace(character, "\\" + character)
    target = url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
    return f"\N{PAPERCLIP} [{label}]({target})"


class CallbackCustomer(CustomerChannel):
    platform = "the callback URL"

    def __init__(self, name: str, output: CallbackOutput, recipient: str) -> None:
        super().__init__(name, ReportingCallbackOutput(output.callback_endpoint), recipient)

    async def send_text(self, text: str) -> None:
        await _callback_refusal(self.output.send_text_message(self.recipient, text))

    async def send_image(self, url: str) -> None:
        await _callback_refusal(self.output.send_image_url(self.recipient, url))

    async def send_file(self, url: str, name: str | None) -> None:
        await _callback_refusal(self.output.send_attachment(self.recipient, url))


class ReportingCallbackOutput(CallbackOutput):
    """Rasa's callback output, except that a refusal by the customer's server is an error.

    Rasa's own CallbackOutput logs a 4xx or 5xx answer from the callback URL and carries on, so an
    attendant's reply the customer's server refused would count as delivered and be lost. Here
    the error reaches the service, which keeps the reply marked undelivered for a retry.
    """

    async def _persist_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        await self.callback_endpoint.request("post", content_type="application/json", json=message)


async def _callback_refusal(sending: Awaitable[Any]) -> None:
    from rasa.utils.endpoints import ClientResponseError

    try:
        await sending
    except ClientResponseError as error:
        if 400 <= error.status < 500:
            raise ChannelRefused(
                f"the callback URL refused the message: HTTP {error.status} {error.text!r:.200}"
            ) from error
        raise


class MessengerCustomer(CustomerChannel):
    """Messenger and Instagram: the Send API's answer is read, and a refusal raised with it.

    With `human_agent_tag`, an attendant's message carries Meta's HUMAN_AGENT tag, which lets it
    through for 7 days after the customer's last message instead of 24 hours (the app needs
    Meta's Human Agent permission; without it the tag is refused like an expired window).
    """

    platform = "Messenger"
    text_limit = (2000, characters)

    def __init__(
        self, name: str, output: MessengerBot, recipient: str, human_agent_tag: bool = False
    ) -> None:
        super().__init__(name, output, recipient)
        self.client = output.messenger_client
        self.human_agent_tag = human_agent_tag

    async def send_text(self, text: str) -> None:
        await self._send(FBText(text=text).to_dict())

    async def send_image(self, url: str) -> None:
        await self._send(Image(url=url).to_dict())

    async def send_file(self, url: str, name: str | None) -> None:
        await self._send(File(url=url).to_dict())

    async def typing(self, on: bool) -> str | None:
        action = "typing_on" if on else "typing_off"
        answer = await asyncio.to_thread(
            self.client.send_action, action, self.recipient, SEND_TIMEOUT_S
        )
        try:
            self._check(answer)
        except ChannelRefused as refused:
            return refused.reason
        return None

    async def _send(self, message: dict[str, Any]) -> None:
        if self.human_agent_tag:
            kind, tag = "MESSAGE_TAG", "HUMAN_AGENT"
        else:
            kind, tag = "RESPONSE", None
        answer = await asyncio.to_thread(
            self.client.send, message, self.recipient, kind, "REGULAR", SEND_TIMEOUT_S, tag
        )
        self._check(answer)

    def _check(self, answer: Any) -> None:
        error = answer.get("error") if isinstance(answer, dict) else None
        if error is None:
            return
        code, subcode = error.get("code"), error.get("error_subcode")
        reason = f"{error.get('message', 'no message')} (code {code}"
        reason += f", subcode {subcode})" if subcode else ")"
        if code in GRAPH_TRANSIENT_CODES:
            raise RuntimeError(f"{self.platform} failed for now: {reason}")
        if (code, subcode) == GRAPH_OUTSIDE_WINDOW:
            reason += (
                f"; {self.platform} takes a reply within 24 hours of the customer's last message"
                + (
                    " (7 days with the HUMAN_AGENT tag)"
                    if self.human_agent_tag
                    else ", or 7 days with `human_agent_tag: true` on the connector (needs Meta's"
                    " Human Agent permission)"
                )
                + "; it will be accepted once the customer writes again"
            )
        raise ChannelRefused(f"{self.platform} refused the message: {reason}")


class InstagramCustomer(MessengerCustomer):
    platform = "Instagram"
    text_limit = (1000, utf8_bytes)

    async def send_file(self, url: str, name: str | None) -> None:
        # Instagram's freeform messages take images, audio and video, not documents: a link.
        await self.send_text(f"{name}: {url}" if name else url)


class TwilioCustomer(CustomerChannel):
    """SMS and WhatsApp through Twilio; a Twilio refusal (an HTTP 4xx) is raised with its code."""

    platform = "Twilio"
    text_limit = (1600, characters)

    def __init__(self, name: str, output: TwilioOutput, recipient: str) -> None:
        super().__init__(name, output, recipient)
        self.twilio: TwilioOutput = output
        if hasattr(output, "http_client"):
            output.http_client.timeout = SEND_TIMEOUT_S

    @property
    def is_whatsapp(self) -> bool:
        return self.recipient.startswith("whatsapp:")

    def refusal_before_sending(self, last_customer_message_at: float | None) -> str | None:
        if not self.is_whatsapp:
            return None
        if last_customer_message_at is None:
            return "WhatsApp takes a free-form message only after the customer has written"
        quiet_s = time.time() - last_customer_message_at
        if quiet_s <= WHATSAPP_WINDOW_S:
            return None
        return (
            "WhatsApp takes a free-form message only within 24 hours of the customer's last "
            f"message, and they last wrote {quiet_s / 3600:.0f} hours ago (Twilio would accept it "
            "and fail it later with error 63016); it will be accepted once the customer writes "
            "again; outside the window WhatsApp takes only pre-approved templates"
        )

    async def send_text(self, text: str) -> None:
        await self._create(body=text)

    async def send_image(self, url: str) -> None:
        await self._create(media_url=[url])

    async def send_file(self, url: str, name: str | None) -> None:
        # WhatsApp delivers a PDF as a document; an MMS carries it where the carrier allows.
        await self._create(media_url=[url])

    async def typing(self, on: bool) -> str | None:
        return "Twilio's Messaging API has no typing indicator (for SMS or WhatsApp)"

    async def _create(self, **fields: Any) -> None:
        from twilio.base.exceptions import TwilioRestException

        message = {"to": self.recipient, "from_": self.twilio.twilio_number, **fields}
        try:
            await asyncio.to_thread(self.twilio.messages.create, **message)
        except TwilioRestException as error:
            reason = f"{error.msg} (Twilio error {error.code}, HTTP {error.status})"
            if error.status is not None and 400 <= error.status < 500 and error.status != 429:
                raise ChannelRefused(f"Twilio refused the message: {reason}") from error
            raise RuntimeError(f"Twilio failed for now: {reason}") from error


class TelegramCustomer(CustomerChannel):
    platform = "Telegram"
    text_limit = (4096, characters)

    async def send_text(self, text: str) -> None:
        await self._call(self.output.send_message(self.recipient, text))

    async def send_image(self, url: str) -> None:
        await self._call(self.output.send_photo(self.recipient, url))

    async def send_file(self, url: str, name: str | None) -> None:
        await self._call(self.output.send_document(self.recipient, url))

    async def typing(self, on: bool) -> str | None:
        if not on:
            return None  # Telegram's indicator ends by itself (5 s) or with the next message
        try:
            await self._call(self.output.send_chat_action(self.recipient, "typing"))
        except ChannelRefused as refused:
            return refused.reason
        return None

    async def _call(self, call: Awaitable[Any]) -> None:
        from aiogram.utils import exceptions

        try:
            await call
        except (exceptions.RetryAfter, exceptions.NetworkError, exceptions.RestartingTelegram):
            raise
        except exceptions.TelegramAPIError as error:
            raise ChannelRefused(f"Telegram refused the message: {error}") from error


class SlackCustomer(CustomerChannel):
    platform = "Slack"
    text_limit = (40_000, characters)

    async def send_file(self, url: str, name: str | None) -> None:
        await self.send_text(f"<{url}|{name}>" if name else url)

    async def typing(self, on: bool) -> str | None:
        return "Slack's Web API has no typing indicator for apps"

    async def send_text(self, text: str) -> None:
        await self._call(self.output.send_text_message(self.recipient, text))

    async def send_image(self, url: str) -> None:
        await self._call(self.output.send_image_url(self.recipient, url))

    async def _call(self, call: Awaitable[Any]) -> None:
        from slack_sdk.errors import SlackApiError

        try:
            await call
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            if code in SLACK_TRANSIENT_ERRORS:
                raise
            raise ChannelRefused(f"Slack refused the message: {code or error}") from error


def customer_channel(
    input_channel: InputChannel,
    recipient: str,
    latest_metadata: Callable[[], dict[str, Any] | None],
    *,
    human_agent_tag: bool = False,
) -> CustomerChannel:
    """The customer's channel for `recipient`, or ChannelUnavailable saying why there is none.

    `latest_metadata` gives the metadata of the customer's latest message (Slack's channel and
    thread are in it).
    """
    name = input_channel.name()
    if isinstance(input_channel, InstagramInput):
        output = input_channel.get_output_channel()
        return InstagramCustomer(name, output, recipient, human_agent_tag)
    if isinstance(input_channel, FacebookInput):
        output = input_channel.get_output_channel()
        return MessengerCustomer(name, output, recipient, human_agent_tag)
    if isinstance(input_channel, SlackInput):
        metadata = latest_metadata() or {}
        thread = metadata.get("thread_id") if input_channel.use_threads else None
        output = input_channel.get_output_channel(metadata.get("out_channel"), thread)
        return SlackCustomer(name, output, recipient)
    output = _output_channel(input_channel)
    if isinstance(input_channel, TwilioInput):
        return TwilioCustomer(name, output, recipient)
    if isinstance(input_channel, RasaTelegramInput):
        return TelegramCustomer(name, output, recipient)
    if isinstance(input_channel, CallbackInput):
        return CallbackCustomer(name, output, recipient)
    if isinstance(input_channel, SocketIOInput):
        return SocketIOCustomer(name, output, recipient)
    return CustomerChannel(name, output, recipient)


def _output_channel(input_channel: InputChannel) -> Any:
    name = input_channel.name()
    try:
        output = input_channel.get_output_channel()
    except Exception as error:
        hint = ""
        if type(input_channel) is RasaTelegramInput:
            hint = (
                "; Rasa's own telegram channel sets its webhook with asyncio.run() whenever it "
                "builds an output channel, which fails inside a running server: configure "
                "`handoff_component.TelegramInput` instead (same options)"
            )
        raise ChannelUnavailable(
            f"channel '{name}' could not create an output channel: {error}{hint}"
        ) from error
    if output is None:
        raise ChannelUnavailable(
            f"channel '{name}' cannot send a message unless the customer has a request "
            "pending, so an attendant's reply cannot reach them; use socketio, callback or "
            "another channel that can push messages"
        )
    return output
