"""HandoffConnector: the attendant's way back to the customer, as one more Rasa input channel.

Configured in `credentials.yml`:

    handoff_component.HandoffConnector:
      secret: ${HANDOFF_SECRET}            # shared with the handoff service
      reply_format: "{attendant}: {text}"  # how an attendant's reply reads to the customer

The handoff service posts signed commands (defined once in `handoff_component.contract`) to
`/webhooks/handoff/{reply,typing,pause,resume}`. Each reply goes out through the OutputChannel of
the channel the customer is on, and is recorded in the tracker with the attendant in its metadata.
Channels that cannot send without a pending request (rest, for one) get a clear error rather than
a reply that silently goes nowhere. A `secret` the service would refuse (missing, a placeholder,
under 32 bytes: `contract.shared_secret`) stops Rasa's start with a message naming the key.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_component.bot.channel_credentials import checked_credentials
from handoff_component.bot.customer_channels import (
    SEND_TIMEOUT_S,
    ChannelRefused,
    ChannelUnavailable,
    customer_channel,
)
from handoff_component.contract import (
    CONNECTOR_PAUSE_PATH,
    CONNECTOR_REPLY_PATH,
    CONNECTOR_RESUME_PATH,
    CONNECTOR_TYPING_PATH,
    CONNECTOR_WAIT_PATH,
    REPLY_METADATA_KEY,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Attachment,
    ContractError,
    PauseCommand,
    ReplyCommand,
    ResumeCommand,
    SignatureError,
    TypingAnswer,
    TypingCommand,
    WaitUpdateCommand,
    checked_secret,
    verify,
    wait_phrase,
)
from handoff_component.contract.slots import (
    HANDOFF_ACTIVE_SLOT,
    HANDOFF_CHANNEL_SLOT,
    HANDOFF_HISTORY_SLOT,
    HANDOFF_STATE_SLOTS,
    HANDOFF_TICKET_SLOT,
)

logger = logging.getLogger(__name__)

# What the connector's endpoints accept, each read by its own `from_dict`.
CommandT = TypeVar(
    "CommandT", ReplyCommand, TypingCommand, PauseCommand, ResumeCommand, WaitUpdateCommand
)

HANDBACK_RESPONSES = {
    "resume_bot": "utter_handback",
    "closed": "utter_handback",
    "inactivity": "utter_handback_inactivity",
    "unclaimed": "utter_handoff_unclaimed",
}
TAKEOVER_RESPONSE = "utter_handoff_takeover"
WAIT_UPDATE_RESPONSE = "utter_handoff_wait_update"
KNOWN_OPTIONS = {"secret", "reply_format", "human_agent_tag"}
MAX_REMEMBERED_REPLIES = 10_000
MAX_COMMAND_BYTES = 1_000_000


class CommandError(Exception):
    """A command that cannot be carried out; `status` is the HTTP answer to the service."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> HTTPResponse:
        error = {"code": self.code, "message": self.message, "field": self.field}
        return response.json({"error": error}, status=self.status)


class HandoffConnector(InputChannel):
    """Receives attendant replies, typing, pause and resume from the handoff service."""

    @classmethod
    def name(cls) -> str:
        return "handoff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = checked_credentials("handoff connector", credentials, known=KNOWN_OPTIONS)
        # The same rule as the service's (contract.shared_secret): a Rasa process holding a
        # placeholder or a short secret refuses to start, naming the key and the variable.
        secret = checked_secret(
            "credentials.yml, handoff connector: `secret` (HANDOFF_SECRET)",
            credentials.get("secret") or os.environ.get("HANDOFF_SECRET", ""),
        )
        reply_format = credentials.get("reply_format") or "{attendant}: {text}"
        try:
            reply_format.format(attendant="A", text="t")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"credentials.yml, handoff connector: bad reply_format {reply_format!r}: "
                "use only {attendant} and {text}"
            ) from error
        human_agent_tag = credentials.get("human_agent_tag", False)
        if not isinstance(human_agent_tag, bool):
            raise ValueError(
                "credentials.yml, handoff connector: human_agent_tag must be true or false, "
                f"got {human_agent_tag!r}"
            )
        return cls(secret=secret, reply_format=reply_format, human_agent_tag=human_agent_tag)

    def __init__(
        self,
        secret: str,
        reply_format: str = "{attendant}: {text}",
        human_agent_tag: bool = False,
    ) -> None:
        self.secret = checked_secret("the handoff connector's secret (HANDOFF_SECRET)", secret)
        self.reply_format = reply_format
        self.human_agent_tag = human_agent_tag
        # message id -> the indexes of its parts the platform took (a reply not yet complete).
        self._parts_sent: OrderedDict[int, set[int]] = OrderedDict()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("handoff_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route(f"/{CONNECTOR_REPLY_PATH}", methods=["POST"])
        async def reply(request: Request) -> HTTPResponse:
            return await self._handle(request, ReplyCommand, self.reply)

        @webhook.route(f"/{CONNECTOR_TYPING_PATH}", methods=["POST"])
        async def typing(request: Request) -> HTTPResponse:
            return await self._handle(request, TypingCommand, self.typing)

        @webhook.route(f"/{CONNECTOR_PAUSE_PATH}", methods=["POST"])
        async def pause(request: Request) -> HTTPResponse:
            return await self._handle(request, PauseCommand, self.pause)

        @webhook.route(f"/{CONNECTOR_RESUME_PATH}", methods=["POST"])
        async def resume(request: Request) -> HTTPResponse:
            return await self._handle(request, ResumeCommand, self.resume)

        @webhook.route(f"/{CONNECTOR_WAIT_PATH}", methods=["POST"])
        async def wait(request: Request) -> HTTPResponse:
            return await self._handle(request, WaitUpdateCommand, self.wait_update)

        return webhook

    async def _handle(
        self,
        request: Request,
        command_type: type[CommandT],
        handler: Callable[[Any, CommandT], Awaitable[dict[str, Any]]],
    ) -> HTTPResponse:
        try:
            command = self._verified_command(request, command_type)
            result = await handler(request.app, command)
        except CommandError as error:
            logger.warning("handoff command refused: %s", error.message)
            return error.response()
        return response.json(result)

    def _verified_command(self, request: Request, command_type: type[CommandT]) -> CommandT:
        # The largest real command (a 10,000-character reply with 10 attachments) is far below
        # this; refusing first keeps a flood of large bodies from costing an HMAC each.
        if len(request.body or b"") > MAX_COMMAND_BYTES:
            raise CommandError(
                413, "payload_too_large", f"the body is larger than {MAX_COMMAND_BYTES} bytes"
            )
        try:
            verify(
                self.secret,
                request.headers.get(TIMESTAMP_HEADER),
                request.body or b"",
                request.headers.get(SIGNATURE_HEADER),
            )
        except SignatureError as error:
            raise CommandError(401, "bad_signature", error.message, error.field) from error
        try:
            data = json.loads(request.body or b"")
        except ValueError as error:
            raise CommandError(400, "malformed_json", f"body is not JSON: {error}") from error
        except RecursionError as error:
            raise CommandError(400, "malformed_json", "body is JSON nested too deeply") from error
        try:
            return command_type.from_dict(data)
        except ContractError as error:
            raise CommandError(422, "invalid_field", error.message, error.field) from error

    # --- commands ---------------------------------------------------------------------------

    async def reply(self, app: Any, command: ReplyCommand) -> dict[str, Any]:
        """Send an attendant's message to the customer and record it in the tracker.

        A reply is its text parts and attachments, each one send. A part the platform took is
        remembered, so a retry after a later part failed does not send it twice.
        """
        input_channel = configured_channel(app, command.channel)
        tracker = await app.ctx.agent.processor.get_tracker(command.conversation_id)
        latest = await latest_customer_message(app.ctx.agent, tracker)
        customer = self._customer(input_channel, command.conversation_id, latest)
        refusal = customer.refusal_before_sending(latest.timestamp if latest else None)
        if refusal is not None:
            raise CommandError(422, "channel_refused", refusal, "channel")
        text = self.reply_format.format(attendant=command.attendant_name, text=command.text)
        sends: list[Callable[[], Awaitable[Any]]] = []
        if command.text.strip():
            sends += [functools.partial(customer.send_text, p) for p in customer.text_parts(text)]
        sends += [functools.partial(_send_attachment, customer, a) for a in command.attachments]
        done = self._parts_sent.setdefault(command.message_id, set())
        for index, send in enumerate(sends):
            if index not in done:
                await _send(customer, send)
                done.add(index)
        self._parts_sent.pop(command.message_id, None)
        while len(self._parts_sent) > MAX_REMEMBERED_REPLIES:
            self._parts_sent.popitem(last=False)
        metadata = {
            REPLY_METADATA_KEY: command.message_id,
            "handoff_ticket_id": command.ticket_id,
            "attendant": command.attendant_name,
        }
        data = {"attachments": [a.to_dict() for a in command.attachments]}
        event = BotUttered(text if command.text.strip() else None, data, metadata)
        await append_events(app, command.conversation_id, [event])
        return {"delivered": True, "channel": command.channel}

    async def typing(self, app: Any, command: TypingCommand) -> dict[str, Any]:
        """Show or hide a typing indicator, where the customer's channel has one."""
        input_channel = configured_channel(app, command.channel)
        tracker = await app.ctx.agent.processor.get_tracker(command.conversation_id)
        latest = await latest_customer_message(app.ctx.agent, tracker)
        customer = self._customer(input_channel, command.conversation_id, latest)
        try:
            reason = await customer.typing(command.typing)
        except Exception as error:
            reason = f"sending the typing indicator through '{command.channel}' failed: {error}"
        return TypingAnswer(delivered=reason is None, reason=reason).to_dict()

    async def pause(self, app: Any, command: PauseCommand) -> dict[str, Any]:
        """Pause the bot for a supervisor's takeover or a ticket reopened by the customer."""
        events: list[Event] = [
            SlotSet(HANDOFF_ACTIVE_SLOT, True),
            SlotSet(HANDOFF_CHANNEL_SLOT, command.channel),
            ConversationPaused(),
        ]
        if command.ticket_id is not None:  # a takeover pauses before its ticket exists
            events.insert(1, SlotSet(HANDOFF_TICKET_SLOT, str(command.ticket_id)))
        tracker = await append_events(app, command.conversation_id, events)
        if command.reason == "takeover":
            await self._say(app, command.conversation_id, command.channel, TAKEOVER_RESPONSE)
        return {"paused": tracker.is_paused()}

    async def resume(self, app: Any, command: ResumeCommand) -> dict[str, Any]:
        """Hand the conversation back to the bot as a fresh session, then say so. A form that
        was active is active again, asking for the same slot, and its question is asked again."""
        agent = app.ctx.agent
        async with agent.lock_store.lock(command.conversation_id):
            tracker = await agent.processor.get_tracker(command.conversation_id)
            kept = _slots_to_keep(tracker, agent.domain)
            form = _pending_form(tracker)
            events: list[Event] = [
                ConversationResumed(),
                SlotSet(HANDOFF_ACTIVE_SLOT, False),
                ActionExecuted("action_session_start"),
                SessionStarted(),
                *kept,
            ]
            if form is not None:
                # The form the customer was filling is active again, waiting for the same slot.
                events += [
                    ActionExecuted(form[0]),
                    ActiveLoop(form[0]),
                    SlotSet(REQUESTED_SLOT, form[1]),
                ]
            events.append(ActionExecuted("action_listen"))
            for event in events:
                tracker.update(event, agent.domain)
            await agent.processor.save_tracker(tracker)
        response_name = HANDBACK_RESPONSES[command.reason]
        notice = await self._say(app, command.conversation_id, command.channel, response_name)
        if form is not None and notice.get("notice") != "failed":
            # Then the form's pending question again, so the customer's next answer fits it.
            question = _question_of(agent.domain, *form)
            if question is not None:
                await self._say(app, command.conversation_id, command.channel, question)
        return {"resumed": not tracker.is_paused(), **notice}

    async def wait_update(self, app: Any, command: WaitUpdateCommand) -> dict[str, Any]:
        """Tell a customer still waiting for a claim the new expected wait, as the domain's
        `utter_handoff_wait_update` words it (`{wait}`: "about 15 minutes"). The answer says
        whether they were told (`notice`: delivered, failed with `notice_error`, or None when
        the domain has no such response)."""
        wait = wait_phrase(command.expected_wait_seconds)
        return await self._say(
            app, command.conversation_id, command.channel, WAIT_UPDATE_RESPONSE, wait=wait
        )

    def _customer(
        self, input_channel: InputChannel, recipient: str, latest: UserUttered | None
    ) -> Any:
        try:
            return customer_channel(
                input_channel,
                recipient,
                lambda: latest.metadata if latest is not None else None,
                human_agent_tag=self.human_agent_tag,
            )
        except ChannelUnavailable as error:
            raise CommandError(409, "channel_cannot_push", str(error), "channel") from error

    async def _say(
        self, app: Any, conversation_id: str, channel: str, response_name: str, **variables: Any
    ) -> dict[str, Any]:
        """Send one of the domain's responses through the customer's channel, and record it.

        The pause or resume has happened either way; what is returned says whether the customer
        was told, and if not, why.
        """
        agent = app.ctx.agent
        if response_name not in agent.domain.responses:
            return {"notice": None}
        try:
            input_channel = configured_channel(app, channel)
            tracker = await agent.processor.get_tracker(conversation_id)
            latest = await latest_customer_message(agent, tracker)
            customer = self._customer(input_channel, conversation_id, latest)
            message = await agent.processor.nlg.generate(
                response_name, tracker, customer.name, **variables
            )
            if not message or not message.get("text"):
                return {"notice": None}
            refusal = customer.refusal_before_sending(latest.timestamp if latest else None)
            if refusal is not None:
                raise CommandError(422, "channel_refused", refusal, "channel")
            for part in customer.text_parts(message["text"]):
                await _send(customer, functools.partial(customer.send_text, part))
        except CommandError as error:
            logger.warning("could not send %s to %s: %s", response_name, conversation_id, error)
            return {"notice": "failed", "notice_error": error.message}
        metadata = {"utter_action": response_name, "handoff": True}
        await append_events(app, conversation_id, [BotUttered(message["text"], {}, metadata)])
        return {"notice": "delivered"}


def configured_channel(app: Any, channel: str) -> InputChannel:
    """The customer's input channel as configured in credentials.yml, or a CommandError."""
    input_channels = getattr(app.ctx, "input_channels", None) or []
    match = next((c for c in input_channels if c.name() == channel), None)
    if match is None:
        configured = ", ".join(sorted(c.name() for c in input_channels)) or "none"
        raise CommandError(
            409,
            "channel_not_configured",
            f"the customer's channel '{channel}' is not configured in credentials.yml "
            f"(configured: {configured})",
            "channel",
        )
    return match


async def latest_customer_message(agent: Any, tracker: Any) -> UserUttered | None:
    """The customer's latest message: a platform's messaging window counts from it, and the
    channel's metadata (Slack's channel and thread) is on it.

    The tracker Rasa hands out holds only the current session, and a hand-back starts a new one
    before its notice is sent: then the message is in an earlier session (read from the store,
    only in that case). Without this the hand-back on WhatsApp was refused as if the customer
    had never written, and on Slack it went to the user instead of where they wrote.
    """
    latest = tracker.get_last_event_for(UserUttered)
    if latest is not None:
        return cast(UserUttered, latest)
    full = await agent.tracker_store.retrieve_full_tracker(tracker.sender_id)
    # Every event, not the applied ones: a session start clears those.
    earlier = [e for e in (full.events if full is not None else []) if isinstance(e, UserUttered)]
    return earlier[-1] if earlier else None


async def append_events(app: Any, conversation_id: str, events: list[Event]) -> Any:
    """Append events under the conversation lock; the tracker store publishes them to the broker."""
    agent = app.ctx.agent
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_with_initial_session(conversation_id)
        for event in events:
            tracker.update(event, agent.domain)
        await agent.processor.save_tracker(tracker)
    return tracker


async def _send(customer: Any, send: Callable[[], Awaitable[Any]]) -> None:
    """One send to the platform; its refusal (422, kept for a manual retry) or failure (502,
    which the service retries) as a CommandError that names the platform's reason."""
    try:
        # A platform that never answers must not hold the command (and the service waiting on
        # it) for as long as its HTTP client would: past the bound it is a failure to retry.
        await asyncio.wait_for(send(), timeout=SEND_TIMEOUT_S)
    except asyncio.TimeoutError as slow:
        raise CommandError(
            502,
            "channel_send_failed",
            f"'{customer.name}' did not answer within {SEND_TIMEOUT_S:g} s",
        ) from slow
    except ChannelRefused as refused:
        raise CommandError(422, "channel_refused", refused.reason, "channel") from refused
    except Exception as error:
        raise CommandError(
            502, "channel_send_failed", f"sending through '{customer.name}' failed: {error}"
        ) from error


async def _send_attachment(customer: Any, attachment: Attachment) -> None:
    if (attachment.mime_type or "").startswith("image/"):
        await customer.send_image(attachment.url)
    else:
        await customer.send_file(attachment.url, attachment.name)


REQUESTED_SLOT = "requested_slot"


def _pending_form(tracker: Any) -> tuple[str, str | None] | None:
    """The form that was active when the bot stepped back, and the slot it was asking for."""
    name = tracker.active_loop_name
    if not name:
        return None
    requested = tracker.get_slot(REQUESTED_SLOT)
    return name, requested if isinstance(requested, str) else None


def _question_of(domain: Any, form: str, slot: str | None) -> str | None:
    """The response a Rasa form asks `slot` with: `utter_ask_<form>_<slot>`, else
    `utter_ask_<slot>` (a custom `action_ask_*` needs the action server: not re-asked)."""
    if slot is None:
        return None
    for name in (f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"):
        if name in domain.responses:
            return name
    return None


def _slots_to_keep(tracker: Any, domain: Any) -> list[SlotSet]:
    """Slots carried into the bot's new session; the handoff's own state starts afresh."""
    if not domain.session_config.carry_over_slots:
        history = tracker.slots.get(HANDOFF_HISTORY_SLOT)
        return [SlotSet(HANDOFF_HISTORY_SLOT, history.value)] if history and history.value else []
    reset = set(HANDOFF_STATE_SLOTS) | {"requested_slot"}
    return [
        SlotSet(name, slot.value)
        for name, slot in tracker.slots.items()
        if slot.value is not None and name not in reset and name != "session_started_metadata"
    ]
