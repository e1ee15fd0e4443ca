"""The handoff over other channels, and the attendant's manual takeover, with real processes."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid

import pytest

from tests import sample_files
from tests.e2e.clients import Attendant, SocketCustomer

pytestmark = pytest.mark.e2e

HANDOFF_TEXT = "bringing in a colleague"


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def post_json(url: str, payload: dict) -> bytes:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


async def test_a_callback_customer_is_handed_over_and_receives_the_attendants_reply(
    bot_stack, callback_listener, demo_attendant
) -> None:
    conversation = f"cb-{uuid.uuid4().hex[:10]}"

    def say(text: str) -> None:
        post_json(
            f"{bot_stack.rasa_url}/webhooks/callback/webhook",
            {"sender": conversation, "message": text},
        )

    await asyncio.to_thread(say, "I need to speak to a human about my order")
    told = await asyncio.to_thread(callback_listener.next_message, conversation)
    assert "colleague" in told["text"]

    attendant = Attendant(bot_stack.service_url)
    await attendant.sign_in(*demo_attendant)
    try:
        ticket = await attendant.ticket_of(conversation)
        assert ticket["channel"] == "callback"
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Hello!"})
        reply = await asyncio.to_thread(callback_listener.next_message, conversation)
        assert reply["text"] == f"{attendant.profile['display_name']}: Hello!"

        # Files: the customer's server gets each as a URL in Rasa's callback payload (`image`,
        # `attachment`), a signed link to the service that fetches the very bytes.
        receipt, invoice = sample_files.png(), sample_files.pdf()
        image = await attendant.upload(ticket["id"], "receipt.png", receipt, "image/png")
        document = await attendant.upload(ticket["id"], "invoice.pdf", invoice, "application/pdf")
        await attendant.call(
            "POST",
            f"/api/tickets/{ticket['id']}/reply",
            {"text": "", "attachments": [{"file_id": image["id"]}, {"file_id": document["id"]}]},
        )
        got_image = await asyncio.to_thread(callback_listener.next_message, conversation)
        got_file = await asyncio.to_thread(callback_listener.next_message, conversation)
        assert got_image["image"].startswith(f"{bot_stack.service_url}/files/{image['id']}?")
        assert got_file["attachment"].startswith(f"{bot_stack.service_url}/files/{document['id']}?")
        assert await asyncio.to_thread(fetch, got_image["image"]) == receipt
        assert await asyncio.to_thread(fetch, got_file["attachment"]) == invoice

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        handback = await asyncio.to_thread(callback_listener.next_message, conversation)
        assert "back with the Northwind assistant" in handback["text"]
    finally:
        await attendant.close()


async def test_a_reply_to_a_rest_customer_is_refused_clearly_and_kept(
    bot_stack, demo_attendant
) -> None:
    conversation = f"rest-{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(
        post_json,
        f"{bot_stack.rasa_url}/webhooks/rest/webhook",
        {"sender": conversation, "message": "get me a real human"},
    )
    attendant = Attendant(bot_stack.service_url)
    await attendant.sign_in(*demo_attendant)
    try:
        ticket = await attendant.ticket_of(conversation)
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})

        refused = await attendant.call(
            "POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Hi there"}, expect=502
        )

        assert "cannot send a message unless the customer has a request pending" in json.dumps(
            refused
        )
        detail = (await attendant.call("GET", f"/api/tickets/{ticket['id']}"))["ticket"]
        kept = [m for m in detail["messages"] if m["author"] == "attendant"]
        assert [m["text"] for m in kept] == ["Hi there"]
        assert kept[0]["delivery"] == "failed"
    finally:
        await attendant.close()


async def test_a_supervisor_takes_over_a_live_conversation_and_hands_it_back(
    bot_stack,
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(bot_stack.rasa_url, conversation)
    supervisor = Attendant(bot_stack.service_url)
    await customer.connect()
    await supervisor.sign_in("sam", "demo-password-sam")
    try:
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")

        taken = await supervisor.call(
            "POST",
            "/api/takeovers",
            {"conversation_id": conversation, "channel": "socketio", "reason": "VIP customer"},
            expect=201,
        )
        joined = await customer.next_message()
        assert "joined the conversation" in joined["text"]

        await customer.say("Oh, hello?")
        ticket_id = taken["ticket"]["id"]
        await supervisor.wait_for_ticket(
            ticket_id, lambda t: "Oh, hello?" in [m["text"] for m in t["messages"]]
        )
        assert customer.pending_texts() == []

        await supervisor.call("POST", f"/api/tickets/{ticket_id}/resume", {})
        assert "back with the Northwind assistant" in (await customer.next_message())["text"]
        assert "Standard delivery" in await customer.say_and_hear("how long does shipping take?")
    finally:
        await customer.close()
        await supervisor.close()
