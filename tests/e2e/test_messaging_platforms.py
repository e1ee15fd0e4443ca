"""The handoff on the platforms bots really run on, through Rasa's own channel code.

One stack (Rasa, action server, service: the session's `platform_stack` of tests/conftest.py,
shared with the Inbox's browser test of refusals), with Messenger (`facebook`), Instagram (the
plugin's `instagram`), WhatsApp through Twilio (the plugin's `twilio`, which checks
X-Twilio-Signature), Telegram (the plugin's `telegram`)
and Slack (`slack`) configured in tests/e2e/platforms/credentials.yml and pointed at local
stand-ins of each platform's API (tests/e2e/platforms/). Each journey is the customer's: they
write on their platform, the bot answers, a rule hands over, the attendant's typing, text and
image arrive in the platform's format, what the customer writes meanwhile reaches the ticket,
the hand-back arrives and the bot answers again. A platform's refusal (an expired window, a
revoked token, a blocked bot) is a failed delivery with the platform's reason, and a retry works
once the platform would accept it. No process looks up or connects to any host beyond 127.0.0.1
(a network guard in every process records and refuses it).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.clients import Attendant, tracker_of
from tests.e2e.platforms.customers import (
    MessengerCustomer,
    PlatformCustomer,
    SlackCustomer,
    TelegramCustomer,
    WhatsAppCustomer,
    rasa_remembers_older,
)
from tests.e2e.platforms.local_platforms import NETGUARD_DIR, LocalPlatforms
from tests.e2e.platforms.recording import Sent

pytestmark = pytest.mark.e2e

SHIPPING_ANSWER = "Standard delivery"
HANDOFF_TEXT = "colleague"
HANDBACK_TEXT = "back with the Northwind assistant"
IMAGE = {"url": "https://cdn.northwind.example/labels/55120.png", "mime_type": "image/png"}
DAY_S = 24 * 3600


@pytest.fixture
async def attendant(platform_stack, demo_attendant) -> Any:
    person = Attendant(platform_stack.service_url)
    await person.sign_in(*demo_attendant)
    try:
        yield person
    finally:
        await person.close()


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@dataclass
class Journey:
    """What the customer received at each step of a handoff, in the platform's format."""

    ticket: dict[str, Any]
    handoff: Sent
    typing: dict[str, Any]  # the service's answer to the attendant's typing indicator
    reply: Sent
    image: Sent
    handback: Sent


async def live_a_handoff(customer: PlatformCustomer, attendant: Attendant) -> Journey:
    """The customer's whole journey, from the bot to an attendant and back to the bot."""
    assert SHIPPING_ANSWER in await customer.say_and_hear("how long does shipping take?")

    await customer.say("I want to talk to a human")
    handoff = await customer.next(("text",))
    assert HANDOFF_TEXT in (handoff.text or "")
    ticket = await attendant.ticket_of(customer.conversation_id)
    assert ticket["channel"] == customer.channel
    await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})

    typing = await attendant.call(
        "POST", f"/api/tickets/{ticket['id']}/typing", {"typing": True}, expect=202
    )
    await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Hello!"})
    reply = await customer.next(("text",))
    await attendant.call(
        "POST", f"/api/tickets/{ticket['id']}/reply", {"text": "", "attachments": [IMAGE]}
    )
    image = await customer.next(("image",))

    await customer.say("thank you, I will wait")
    await attendant.wait_for_ticket(
        ticket["id"], lambda t: "thank you, I will wait" in [m["text"] for m in t["messages"]]
    )
    assert customer.unread(("text",)) == []  # the bot stays quiet while paused

    await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
    handback = await customer.next(("text",))
    assert HANDBACK_TEXT in (handback.text or "")
    assert SHIPPING_ANSWER in await customer.say_and_hear("how long does shipping take?")

    detail = (await attendant.call("GET", f"/api/tickets/{ticket['id']}"))["ticket"]
    replies = [m for m in detail["messages"] if m["author"] == "attendant"]
    assert [m["delivery"] for m in replies] == ["delivered", "delivered"]
    return Journey(ticket, handoff, typing, reply, image, handback)


def assert_stayed_on_this_machine(platforms: LocalPlatforms, platform_stack, host: str) -> None:
    """Nothing was looked up or reached beyond 127.0.0.1, and the platform's traffic came here."""
    assert platforms.netguard_refusals() == []
    assert platforms.gateway.refused == []
    pids = {process.popen.pid for process in platform_stack.processes}
    assert pids <= platforms.armed_processes(), "a process ran without the network guard"
    if host:
        assert f"{host}:443" in platforms.gateway.tunnels


async def failed_then_retried(
    attendant: Attendant, ticket_id: int, text: str, fix: Any, reason: str
) -> dict[str, Any]:
    """An attendant's reply the platform refuses: kept as failed with the platform's reason;
    after `fix()` (the platform would accept it now) a retry delivers it."""
    refused = await attendant.call(
        "POST", f"/api/tickets/{ticket_id}/reply", {"text": text}, expect=502
    )
    stored = refused["error"]["stored_message"]
    assert stored["delivery"] == "failed"
    assert reason in stored["delivery_error"], stored["delivery_error"]
    await fix()
    retried = await attendant.call(
        "POST", f"/api/tickets/{ticket_id}/messages/{stored['id']}/retry", {}
    )
    assert retried["message"]["delivery"] == "delivered"
    return stored


async def hand_over(customer: PlatformCustomer, attendant: Attendant) -> dict[str, Any]:
    await customer.say("I want to talk to a human")
    assert HANDOFF_TEXT in ((await customer.next(("text",))).text or "")
    ticket = await attendant.ticket_of(customer.conversation_id)
    await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
    return ticket


# --- Messenger ----------------------------------------------------------------------------


async def test_a_messenger_customer_is_handed_to_an_attendant_and_back(
    platforms, platform_stack, attendant
) -> None:
    customer = MessengerCustomer(platforms.graph, platforms.messenger, new_id("psid-"))

    journey = await live_a_handoff(customer, attendant)

    name = attendant.profile["display_name"]
    assert journey.reply.text == f"{name}: Hello!"
    # The connector's human_agent_tag: attendants write with Meta's HUMAN_AGENT tag.
    assert journey.reply.raw["messaging_type"] == "MESSAGE_TAG"
    assert journey.reply.raw["tag"] == "HUMAN_AGENT"
    assert journey.image.raw["message"] == {
        "attachment": {"type": "image", "payload": {"url": IMAGE["url"]}}
    }
    typing = [s for s in customer.sent.of(customer.recipient, ("typing_on",))]
    assert typing and typing[-1].raw == {
        "recipient": {"id": customer.recipient},
        "sender_action": "typing_on",
    }
    assert_stayed_on_this_machine(platforms, platform_stack, "graph.facebook.com")


async def test_a_messenger_reply_after_the_window_is_refused_with_metas_reason_and_retried(
    platforms, platform_stack, attendant
) -> None:
    customer = MessengerCustomer(platforms.graph, platforms.messenger, new_id("psid-"))
    ticket = await hand_over(customer, attendant)
    customer.went_quiet(8 * DAY_S)  # beyond even the HUMAN_AGENT tag's 7 days

    async def customer_writes_again() -> None:
        await customer.say("are you still there?")

    await failed_then_retried(
        attendant, ticket["id"], "Sorry for the wait!", customer_writes_again,
        "Messenger refused the message: (#10) This message is sent outside of allowed window.",
    )  # fmt: skip

    delivered = await customer.next(("text",))
    assert delivered.text == f"{attendant.profile['display_name']}: Sorry for the wait!"
    refusals = [s for s in customer.sent.of(customer.recipient) if not s.accepted]
    assert [s.error for s in refusals] == [
        "(#10) This message is sent outside of allowed window."
    ]  # refused once: a platform's refusal is not retried automatically


async def test_a_messenger_webhook_with_a_forged_signature_reaches_no_conversation(
    platforms, platform_stack
) -> None:
    customer = MessengerCustomer(platforms.graph, platforms.messenger, new_id("psid-"))

    status, body = await asyncio.to_thread(
        platforms.graph.customer_writes,
        platforms.messenger,
        customer.recipient,
        "I want to talk to a human",
        "not-the-app-secret",
    )

    assert (status, body) == (200, "not validated")  # Rasa's facebook channel's answer
    tracker = await asyncio.to_thread(tracker_of, platform_stack.rasa_url, customer.conversation_id)
    assert [e for e in tracker["events"] if e["event"] == "user"] == []


# --- Instagram ----------------------------------------------------------------------------


async def test_an_instagram_customer_is_handed_to_an_attendant_and_back(
    platforms, platform_stack, attendant
) -> None:
    customer = MessengerCustomer(platforms.graph, platforms.instagram, new_id("igsid-"))

    journey = await live_a_handoff(customer, attendant)

    assert journey.ticket["channel"] == "instagram"  # the plugin's channel, by its own name
    assert journey.reply.text == f"{attendant.profile['display_name']}: Hello!"
    assert journey.reply.raw["recipient"] == {"id": customer.recipient}
    assert journey.image.raw["message"] == {
        "attachment": {"type": "image", "payload": {"url": IMAGE["url"]}}
    }
    assert journey.typing["typing"] == {"delivered": True, "reason": None}
    typing = customer.sent.of(customer.recipient, ("typing_on",))
    assert typing and typing[-1].raw["sender_action"] == "typing_on"
    assert_stayed_on_this_machine(platforms, platform_stack, "graph.facebook.com")


async def test_an_instagram_reply_with_a_revoked_token_is_refused_with_metas_reason_and_retried(
    platforms, platform_stack, attendant
) -> None:
    customer = MessengerCustomer(platforms.graph, platforms.instagram, new_id("igsid-"))
    ticket = await hand_over(customer, attendant)
    token = platforms.instagram.access_token
    platforms.graph.revoked.add(token)  # Meta answers 400, error 190, to every call

    async def token_renewed() -> None:
        platforms.graph.revoked.discard(token)

    try:
        await failed_then_retried(
            attendant, ticket["id"], "Let me check that for you.", token_renewed,
            "Instagram refused the message: Invalid OAuth access token - Cannot parse access "
            "token (code 190)",
        )  # fmt: skip
    finally:
        platforms.graph.revoked.discard(token)

    delivered = await customer.next(("text",))
    assert delivered.text == f"{attendant.profile['display_name']}: Let me check that for you."


# --- WhatsApp through Twilio --------------------------------------------------------------


def whatsapp_customer(platforms: LocalPlatforms) -> WhatsAppCustomer:
    return WhatsAppCustomer(platforms.twilio, f"+1555{uuid.uuid4().int % 10**7:07d}")


async def test_a_whatsapp_customer_is_handed_to_an_attendant_and_back(
    platforms, platform_stack, attendant
) -> None:
    customer = whatsapp_customer(platforms)

    journey = await live_a_handoff(customer, attendant)

    number = platforms.twilio.account.number
    assert journey.ticket["channel"] == "twilio"
    assert journey.reply.text == f"{attendant.profile['display_name']}: Hello!"
    assert journey.reply.raw["To"] == [customer.recipient]
    assert journey.reply.raw["From"] == [number]
    assert journey.image.raw["MediaUrl"] == [IMAGE["url"]]
    assert journey.handback.raw["From"] == [number]
    # Twilio has no typing indicator: the attendant is told, nothing is sent.
    assert journey.typing["typing"] == {
        "delivered": False,
        "reason": "Twilio's Messaging API has no typing indicator (for SMS or WhatsApp)",
    }
    assert customer.sent.of(customer.recipient, ("typing_on",)) == []
    assert_stayed_on_this_machine(platforms, platform_stack, "api.twilio.com")


async def test_a_whatsapp_reply_after_24_hours_is_refused_before_twilio_would_drop_it(
    platforms, platform_stack, attendant
) -> None:
    customer = whatsapp_customer(platforms)
    ticket = await hand_over(customer, attendant)
    quiet_s = 25 * 3600
    rasa_remembers_older(platform_stack, customer.conversation_id, quiet_s)
    platforms.twilio.customer_went_quiet(customer.recipient, quiet_s)
    sent_before = len(customer.sent.of(customer.recipient))

    async def customer_writes_again() -> None:
        await customer.say("hello? anyone there?")
        await attendant.wait_for_ticket(
            ticket["id"], lambda t: "hello? anyone there?" in [m["text"] for m in t["messages"]]
        )

    stored = await failed_then_retried(
        attendant, ticket["id"], "Sorry for the wait!", customer_writes_again,
        "WhatsApp takes a free-form message only within 24 hours of the customer's last message",
    )  # fmt: skip

    assert "error 63016" in stored["delivery_error"]
    delivered = await customer.next(("text",))
    assert delivered.text == f"{attendant.profile['display_name']}: Sorry for the wait!"
    # Refused before sending: Twilio never got the message it would have accepted and dropped.
    assert len(customer.sent.of(customer.recipient)) == sent_before + 1
    assert [s for s in customer.sent.of(customer.recipient) if not s.accepted] == []


async def test_a_twilio_reply_with_a_bad_auth_token_is_refused_with_twilios_reason_and_retried(
    platforms, platform_stack, attendant
) -> None:
    customer = whatsapp_customer(platforms)
    ticket = await hand_over(customer, attendant)
    platforms.twilio.suspended = True  # every call answered 401, error 20003

    async def token_fixed() -> None:
        platforms.twilio.suspended = False

    try:
        await failed_then_retried(
            attendant, ticket["id"], "Your refund is on its way.", token_fixed,
            "Twilio refused the message: Unable to create record: Authenticate (Twilio error "
            "20003, HTTP 401)",
        )  # fmt: skip
    finally:
        platforms.twilio.suspended = False

    delivered = await customer.next(("text",))
    assert delivered.text == f"{attendant.profile['display_name']}: Your refund is on its way."


async def test_a_twilio_webhook_with_a_forged_signature_reaches_no_conversation(
    platforms, platform_stack
) -> None:
    customer = whatsapp_customer(platforms)

    status, body = await asyncio.to_thread(
        platforms.twilio.customer_writes, customer.recipient, "I want a human", "forged-token"
    )

    assert (status, body) == (403, "bad X-Twilio-Signature")  # the plugin's twilio channel
    tracker = await asyncio.to_thread(tracker_of, platform_stack.rasa_url, customer.conversation_id)
    assert [e for e in tracker["events"] if e["event"] == "user"] == []


# --- Telegram -----------------------------------------------------------------------------


def telegram_customer(platforms: LocalPlatforms) -> TelegramCustomer:
    return TelegramCustomer(platforms.telegram, 100_000_000 + uuid.uuid4().int % 10**8)


async def test_a_telegram_customer_is_handed_to_an_attendant_and_back(
    platforms, platform_stack, attendant
) -> None:
    customer = telegram_customer(platforms)

    journey = await live_a_handoff(customer, attendant)

    assert journey.ticket["channel"] == "telegram"
    assert journey.reply.text == f"{attendant.profile['display_name']}: Hello!"
    assert journey.reply.raw["chat_id"] == customer.recipient
    assert journey.image.raw["photo"] == IMAGE["url"]
    assert journey.typing["typing"] == {"delivered": True, "reason": None}
    typing = customer.sent.of(customer.recipient, ("typing_on",))
    assert typing and typing[-1].raw["action"] == "typing"
    # Rasa registered its webhook with the secret Telegram then sends with every update.
    registered = platforms.telegram.webhooks_set[-1]
    assert registered["url"] == platforms.telegram_webhook_url
    assert registered["secret_token"] == platforms.telegram_secret_token
    assert_stayed_on_this_machine(platforms, platform_stack, "")


async def test_a_telegram_reply_to_a_customer_who_blocked_the_bot_is_refused_and_retried(
    platforms, platform_stack, attendant
) -> None:
    customer = telegram_customer(platforms)
    ticket = await hand_over(customer, attendant)
    platforms.telegram.bot.blocked_by.add(customer.recipient)  # 403 to every send

    async def customer_unblocks_the_bot() -> None:
        platforms.telegram.bot.blocked_by.discard(customer.recipient)

    await failed_then_retried(
        attendant, ticket["id"], "Are you still there?", customer_unblocks_the_bot,
        "Telegram refused the message: Forbidden: bot was blocked by the user",
    )  # fmt: skip

    delivered = await customer.next(("text",))
    assert delivered.text == f"{attendant.profile['display_name']}: Are you still there?"
    refusals = [s for s in customer.sent.of(customer.recipient) if not s.accepted]
    assert [s.error for s in refusals] == ["Forbidden: bot was blocked by the user"]


async def test_a_telegram_update_without_the_secret_token_reaches_no_conversation(
    platforms, platform_stack
) -> None:
    customer = telegram_customer(platforms)

    status, _ = await asyncio.to_thread(
        platforms.telegram.customer_writes, customer.chat_id, "I want a human", "forged"
    )

    assert status == 403
    tracker = await asyncio.to_thread(tracker_of, platform_stack.rasa_url, customer.conversation_id)
    assert [e for e in tracker["events"] if e["event"] == "user"] == []


# --- Slack --------------------------------------------------------------------------------


def slack_customer(platforms: LocalPlatforms) -> SlackCustomer:
    return SlackCustomer(platforms.slack, "U" + uuid.uuid4().hex[:10].upper())


async def test_a_slack_customer_is_handed_to_an_attendant_and_back(
    platforms, platform_stack, attendant
) -> None:
    customer = slack_customer(platforms)

    journey = await live_a_handoff(customer, attendant)

    assert journey.ticket["channel"] == "slack"
    assert journey.reply.text == f"{attendant.profile['display_name']}: Hello!"
    # The attendant writes where the customer wrote: the app's direct messages with them.
    assert journey.reply.raw["channel"] == customer.dm_channel
    assert journey.image.url == IMAGE["url"]
    assert journey.handback.raw["channel"] == customer.dm_channel
    assert journey.typing["typing"] == {
        "delivered": False,
        "reason": "Slack's Web API has no typing indicator for apps",
    }
    assert_stayed_on_this_machine(platforms, platform_stack, "slack.com")


async def test_a_slack_reply_with_a_revoked_token_is_refused_with_slacks_reason_and_retried(
    platforms, platform_stack, attendant
) -> None:
    customer = slack_customer(platforms)
    ticket = await hand_over(customer, attendant)
    platforms.slack.revoked = True  # every call answered {"ok": false, "error": "token_revoked"}

    async def token_reinstalled() -> None:
        platforms.slack.revoked = False

    try:
        await failed_then_retried(
            attendant, ticket["id"], "I have found your order.", token_reinstalled,
            "Slack refused the message: token_revoked",
        )  # fmt: skip
    finally:
        platforms.slack.revoked = False

    delivered = await customer.next(("text",))
    assert delivered.text == f"{attendant.profile['display_name']}: I have found your order."


async def test_a_slack_event_with_a_forged_signature_reaches_no_conversation(
    platforms, platform_stack
) -> None:
    customer = slack_customer(platforms)

    status, body = await asyncio.to_thread(
        platforms.slack.customer_writes, customer.recipient, "I want a human", "forged-secret"
    )

    assert (status, body) == (  # Rasa's slack channel's answer
        400,
        "Message is not properly signed with a valid X-Slack-Signature header",
    )
    tracker = await asyncio.to_thread(tracker_of, platform_stack.rasa_url, customer.conversation_id)
    assert [e for e in tracker["events"] if e["event"] == "user"] == []


def test_the_network_guard_refuses_and_records_a_lookup_beyond_this_machine(tmp_path) -> None:
    """The guard the stack runs under works: what it would catch in Rasa, it catches here."""
    log = tmp_path / "netguard.log"
    probe = (
        "import socket\n"
        "socket.getaddrinfo('127.0.0.1', 80)\n"
        "try:\n"
        "    socket.getaddrinfo('graph.facebook.com', 443)\n"
        "except PermissionError as error:\n"
        "    print('refused:', error)\n"
    )
    env = {**os.environ, "NETGUARD_LOG": str(log), "PYTHONPATH": str(NETGUARD_DIR)}

    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )

    assert "refused: netguard: socket.getaddrinfo 'graph.facebook.com'" in done.stdout
    assert "graph.facebook.com" in log.read_text()
    assert "127.0.0.1" not in log.read_text()
    assert Path(f"{log}.armed").read_text().split() != []
