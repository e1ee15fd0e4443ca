"""The whole handoff, with real processes: Rasa, the action server, the handoff service.

The customer talks over socket.io (as the web widget does) or the callback channel; the
attendant uses the service's API, as the Inbox does. Nothing here is mocked.
"""

from __future__ import annotations

import uuid

import pytest

from tests.e2e.clients import Attendant, SocketCustomer

pytestmark = pytest.mark.e2e

CALM_1 = "My order 55120 is three weeks late, could you check where it is?"
ANGRY_2 = "I am furious. Third time I contact you, worst service ever!!!"
HANDOFF_TEXT = "bringing in a colleague"


def thread_texts(ticket: dict, author: str) -> list[str]:
    return [m["text"] for m in ticket["messages"] if m["author"] == author]


async def test_an_angry_socketio_customer_is_handed_to_a_person_and_back(
    bot_stack, demo_attendant
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(bot_stack.rasa_url, conversation)
    attendant = Attendant(bot_stack.service_url)
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
    try:
        # A calm problem report, then anger: the bot answers the first, steps back on the second.
        first = await customer.say_and_hear(CALM_1)
        second = await customer.say_and_hear(ANGRY_2)
        assert HANDOFF_TEXT not in first
        assert HANDOFF_TEXT in second

        ticket = await attendant.ticket_of(conversation)
        assert ticket["status"] == "open"
        assert ticket["channel"] == "socketio"
        assert ticket["rule"] == "angry_sentiment"
        assert ticket["priority"] == "high"
        assert ticket["team"]["name"] == "support"
        assert "frustration" in ticket["reason"]
        assert ticket["summary"]["message_count"] == 2
        assert ticket["summary"]["recent_scores"][-1]["frustration"] >= 0.7
        assert ticket["summary"]["recent_scores"][0]["frustration"] < 0.7
        assert thread_texts(ticket, "customer")[-2:] == [CALM_1, ANGRY_2]

        # The attendant claims and replies; the reply reaches the customer's open socket.
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call(
            "POST", f"/api/tickets/{ticket['id']}/reply", {"text": "I'm sorry, let me check."}
        )
        reply = await customer.next_message()
        assert reply["text"] == f"{attendant.profile['display_name']}: I'm sorry, let me check."

        # The customer answers: it reaches the ticket, and the paused bot says nothing.
        await customer.say("Thank you, it is order 55120.")
        ticket = await attendant.wait_for_ticket(
            ticket["id"], lambda t: "Thank you, it is order 55120." in thread_texts(t, "customer")
        )
        assert ticket["status"] == "in_progress"
        assert customer.pending_texts() == []

        # Resume: the customer is told, and the bot answers the next message.
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        handback = await customer.next_message()
        assert "back with the Northwind assistant" in handback["text"]
        answer = await customer.say_and_hear("how long does shipping take?")
        assert "Standard delivery" in answer

        closed = await attendant.wait_for_ticket(ticket["id"], lambda t: t["status"] == "closed")
        assert thread_texts(closed, "customer").count(ANGRY_2) == 1
    finally:
        await customer.close()
        await attendant.close()


async def test_a_customer_message_is_stored_once_when_the_service_restarts_mid_handoff(
    bot_stack, demo_attendant
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(bot_stack.rasa_url, conversation)
    await customer.connect()
    try:
        assert HANDOFF_TEXT in await customer.say_and_hear("I want to talk to a human")

        bot_stack.stop("service")
        await customer.say("Are you still there? My order is 48213.")
        await customer.say("Hello??")
        bot_stack.start("service")

        attendant = Attendant(bot_stack.service_url)
        await attendant.sign_in(*demo_attendant)
        try:
            ticket = await attendant.ticket_of(conversation)
            ticket = await attendant.wait_for_ticket(
                ticket["id"], lambda t: "Hello??" in thread_texts(t, "customer")
            )
            customer_texts = thread_texts(ticket, "customer")
            assert customer_texts[-3:] == [
                "I want to talk to a human",
                "Are you still there? My order is 48213.",
                "Hello??",
            ]
            assert len(customer_texts) == len(set(customer_texts))
            assert customer.pending_texts() == []
        finally:
            await attendant.close()
    finally:
        await customer.close()


async def test_a_handoff_while_the_service_is_down_becomes_a_ticket_when_it_returns(
    bot_stack, demo_attendant
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(bot_stack.rasa_url, conversation)
    await customer.connect()
    bot_stack.stop("service")
    try:
        told = await customer.say_and_hear("let me speak to a real person")
        assert "saved" in told
        bot_stack.start("service")

        attendant = Attendant(bot_stack.service_url)
        await attendant.sign_in(*demo_attendant)
        try:
            ticket = await attendant.ticket_of(conversation)
            assert ticket["rule"] == "explicit_request"
            assert "let me speak to a real person" in thread_texts(ticket, "customer")
            listing = await attendant.call("GET", f"/api/tickets?conversation_id={conversation}")
            assert len(listing["tickets"]) == 1
        finally:
            await attendant.close()
    finally:
        if not any(p.name == "service" for p in bot_stack.processes):
            bot_stack.start("service")
        await customer.close()


async def test_a_hand_back_returns_to_the_form_the_customer_was_filling(
    bot_stack, demo_attendant
) -> None:
    """Asked for a person in the middle of the order form: after the hand-back the form's
    question is asked again and the customer's answer fills it (it used to get "I didn't quite
    understand that": the hand-back started a session without the form)."""
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(bot_stack.rasa_url, conversation)
    attendant = Attendant(bot_stack.service_url)
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
    try:
        assert "order number" in await customer.say_and_hear("where is my order?")
        assert HANDOFF_TEXT in await customer.say_and_hear("I want to talk to a human")
        ticket = await attendant.ticket_of(conversation)
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call(
            "POST", f"/api/tickets/{ticket['id']}/reply", {"text": "The assistant can look it up."}
        )
        reply = await customer.next_message()
        assert reply["text"].endswith("The assistant can look it up.")

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        handback = await customer.next_message()
        assert "back with the Northwind assistant" in handback["text"]
        question = await customer.next_message()
        assert "what's your order number" in question["text"]

        answer = await customer.say_and_hear("48213")
        assert "Your order 48213 (rain jacket) is shipped" in answer
    finally:
        await customer.close()
        await attendant.close()
