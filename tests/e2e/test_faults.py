"""Faults, end to end: a process killed or restarted, the database gone, a channel failing.

Each test breaks one real thing in the running stack (Rasa, the action server, the handoff service,
their database, the customer's channel) in the middle of a handoff, then checks the same three
promises: no customer or attendant message is lost, none is duplicated, and the ticket is not stuck
(it can still be claimed, replied to and handed back, and the bot answers again).

They share the session's stack (`bot_stack`) and put back whatever they stopped, so the other
end-to-end tests find it running. Waits are for events, never timed assertions; the one fixed wait
is the 30 s database outage, which is the scenario itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import sqlite3
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from scripts.local_services import pg_execute
from tests.e2e.clients import DEFAULT_TIMEOUT_S, Attendant, SocketCustomer
from tests.e2e.fault_injection import TcpProxy, ensure_running, kill_hard
from tests.loud import skip_loudly
from tests.waiting import async_wait_until

pytestmark = pytest.mark.e2e

HANDOFF_TEXT = "bringing in a colleague"
HANDBACK_TEXT = "back with the Northwind assistant"
SHIPPING_ANSWER = "Standard delivery"
PG_HOST, PG_PORT = "127.0.0.1", 5432
OUTAGE_S = 30


def thread_texts(ticket: dict, author: str) -> list[str]:
    return [m["text"] for m in ticket["messages"] if m["author"] == author]


def assert_no_duplicates(texts: list[str]) -> None:
    assert len(texts) == len(set(texts)), texts


@pytest.fixture()
def stack(bot_stack) -> Iterator:
    """The session's stack, with every process running again after the test, whatever happened."""
    try:
        yield bot_stack
    finally:
        ensure_running(bot_stack)


async def hand_back(attendant: Attendant, customer: SocketCustomer, ticket_id: int) -> None:
    """Resume the bot: the customer is told, and the bot answers the next question."""
    await attendant.call("POST", f"/api/tickets/{ticket_id}/resume", {})
    assert HANDBACK_TEXT in (await customer.next_message())["text"]
    assert SHIPPING_ANSWER in await customer.say_and_hear("how long does shipping take?")
    assert customer.pending_texts() == []


# --- 1. the handoff service killed mid-handoff -------------------------------------------------


async def test_a_killed_service_loses_no_message_and_its_ticket_goes_on(
    stack, demo_attendant
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_url, conversation)
    attendant = Attendant(stack.service_url)
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
    try:
        assert HANDOFF_TEXT in await customer.say_and_hear("I want to talk to a human")
        ticket = await attendant.ticket_of(conversation)
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Hi, Ana."})
        first_reply = await customer.next_message()
        assert first_reply["text"].endswith("Hi, Ana.")

        kill_hard(stack, "service")  # SIGKILL: no shutdown handler, no flush
        await customer.say("My order is 48213, it never arrived.")
        await customer.say("Are you still there?")
        stack.start("service")

        await attendant.close()  # its kept-alive connections died with the service
        attendant = Attendant(stack.service_url)
        await attendant.sign_in(*demo_attendant)
        ticket = await attendant.wait_for_ticket(
            ticket["id"], lambda t: "Are you still there?" in thread_texts(t, "customer")
        )
        customer_texts = thread_texts(ticket, "customer")
        assert customer_texts[-3:] == [
            "I want to talk to a human",
            "My order is 48213, it never arrived.",
            "Are you still there?",
        ]
        assert_no_duplicates(customer_texts)
        assert thread_texts(ticket, "attendant") == ["Hi, Ana."]
        assert ticket["status"] == "in_progress"
        assert customer.pending_texts() == []  # the paused bot said nothing

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Found it."})
        assert (await customer.next_message())["text"].endswith("Found it.")
        await hand_back(attendant, customer, ticket["id"])
        closed = await attendant.wait_for_ticket(ticket["id"], lambda t: t["status"] == "closed")
        assert thread_texts(closed, "attendant") == ["Hi, Ana.", "Found it."]
    finally:
        await customer.close()
        await attendant.close()


# --- 2. the Rasa server restarted while a conversation is paused -------------------------------


async def queued_in_outbox(stack, text: str) -> bool:
    """Whether Rasa's event broker holds an event with `text` in its outbox file, undelivered."""

    def look() -> bool:
        path = stack.data_dir / "outbox.db"
        if not path.exists():
            return False
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            rows = db.execute("SELECT body FROM outbox WHERE kind = 'event'").fetchall()
        return any(json.loads(body).get("text") == text for (body,) in rows)

    return await asyncio.to_thread(look)


async def test_a_paused_conversation_stays_with_its_attendant_across_a_rasa_restart(
    stack, demo_attendant
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_url, conversation)
    attendant = Attendant(stack.service_url)
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
    try:
        assert HANDOFF_TEXT in await customer.say_and_hear("let me speak to a real person")
        ticket = await attendant.ticket_of(conversation)
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await customer.say("It is about a missing parcel.")
        await attendant.wait_for_ticket(
            ticket["id"], lambda t: "It is about a missing parcel." in thread_texts(t, "customer")
        )

        # One more message, held in Rasa's outbox (the service is away) when Rasa is killed.
        kill_hard(stack, "service")
        await customer.say("I am still waiting for it.")
        await async_wait_until(
            lambda: queued_in_outbox(stack, "I am still waiting for it."),
            timeout=DEFAULT_TIMEOUT_S,
            what="the message in Rasa's outbox",
        )
        kill_hard(stack, "rasa")  # the customer's socket drops with it
        await customer.close()
        await attendant.close()
        stack.start("service")
        stack.start("rasa")
        customer = SocketCustomer(stack.rasa_url, conversation)  # the widget reconnects
        await customer.connect()
        attendant = Attendant(stack.service_url)
        await attendant.sign_in(*demo_attendant)

        await customer.say("Hello? The page reloaded.")
        ticket = await attendant.wait_for_ticket(
            ticket["id"],
            lambda t: "Hello? The page reloaded." in thread_texts(t, "customer"),
        )
        # The message reached the ticket, so Rasa has finished with it: the bot stayed silent.
        assert customer.pending_texts() == []
        customer_texts = thread_texts(ticket, "customer")
        assert customer_texts[-4:] == [
            "let me speak to a real person",
            "It is about a missing parcel.",
            "I am still waiting for it.",
            "Hello? The page reloaded.",
        ]
        assert_no_duplicates(customer_texts)

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "I'm here."})
        reply = await customer.next_message()
        assert reply["text"] == f"{attendant.profile['display_name']}: I'm here."
        await hand_back(attendant, customer, ticket["id"])
    finally:
        await customer.close()
        await attendant.close()


# --- 3. the service's database unavailable for 30 s ---------------------------------------------


async def _pg(statement: str) -> None:
    await pg_execute(statement, f"postgresql://postgres@{PG_HOST}:{PG_PORT}/postgres", timeout=None)


def _skip_loudly(reason: str) -> None:
    skip_loudly(f"DATABASE OUTAGE NOT TESTED: {reason}")


@pytest.fixture()
def proxied_database() -> Iterator[tuple[str, TcpProxy]]:
    """A fresh PostgreSQL database, reached through a proxy that can cut it off."""
    database = f"handoff_faults_{uuid.uuid4().hex[:8]}"
    try:
        asyncio.run(asyncio.wait_for(_pg(f'CREATE DATABASE "{database}"'), 10))
    except Exception as error:
        _skip_loudly(
            f"PostgreSQL is not reachable at {PG_HOST}:{PG_PORT} with trust auth "
            f"({error.__class__.__name__}: {error})"
        )
    proxy = TcpProxy(PG_HOST, PG_PORT)
    try:
        yield f"postgresql://postgres@127.0.0.1:{proxy.port}/{database}", proxy
    finally:
        proxy.close()
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))


@pytest.mark.postgres
async def test_a_30_s_database_outage_loses_and_duplicates_nothing(
    stack, demo_attendant, proxied_database
) -> None:
    db_url, proxy = proxied_database
    # The same service (port, secret, seed), on PostgreSQL through the proxy.
    on_postgres = dataclasses.replace(
        stack, extra_env={**stack.extra_env, "HANDOFF_DB_URL": db_url}, processes=[]
    )
    stack.stop("service")
    on_postgres.start("service")
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_url, conversation)
    attendant = Attendant(stack.service_url)
    try:
        await customer.connect()
        await attendant.sign_in(*demo_attendant)
        assert SHIPPING_ANSWER in await customer.say_and_hear("how long does shipping take?")

        proxy.cut()
        # The bot keeps answering; the handoff is accepted honestly and queued.
        assert SHIPPING_ANSWER in await customer.say_and_hear("do you offer express delivery?")
        told = await customer.say_and_hear("I want to talk to a human")
        assert "saved" in told
        await customer.say("My parcel 77310 is lost.")
        await customer.say("Please call me back.")
        # The Inbox's API says it failed (a 5xx with the JSON error body) rather than hanging.
        async with attendant.session.get(
            f"{stack.service_url}/api/tickets?conversation_id={conversation}",
            headers=attendant.headers,
        ) as response:
            assert response.status >= 500
            assert "error" in await response.json(content_type=None)
        await asyncio.sleep(OUTAGE_S)  # the outage itself, not a wait for a result
        assert proxy.dropped > 0
        proxy.restore()

        ticket = await attendant.ticket_of(conversation, timeout=120)
        ticket = await attendant.wait_for_ticket(
            ticket["id"],
            lambda t: "Please call me back." in thread_texts(t, "customer"),
            timeout=120,
        )
        customer_texts = thread_texts(ticket, "customer")
        assert customer_texts[-3:] == [
            "I want to talk to a human",
            "My parcel 77310 is lost.",
            "Please call me back.",
        ]
        assert_no_duplicates(customer_texts)
        assert ticket["rule"] == "explicit_request"
        listing = await attendant.call("GET", f"/api/tickets?conversation_id={conversation}")
        assert len(listing["tickets"]) == 1
        assert customer.pending_texts() == []

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Back now."})
        assert (await customer.next_message())["text"].endswith("Back now.")
        await hand_back(attendant, customer, ticket["id"])
    finally:
        proxy.restore()
        await customer.close()
        await attendant.close()
        on_postgres.stop()
        stack.start("service")


# --- 4. the action server down when a rule fires ------------------------------------------------


async def test_a_handoff_while_the_action_server_is_down_tells_the_customer_to_ask_again(
    stack, demo_attendant
) -> None:
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(stack.rasa_url, conversation)
    attendant = Attendant(stack.service_url)
    await customer.connect()
    await attendant.sign_in(*demo_attendant)
    try:
        assert SHIPPING_ANSWER in await customer.say_and_hear("how long does shipping take?")

        kill_hard(stack, "actions")
        told = await customer.say_and_hear("I want to talk to a human")
        assert "could not reach a colleague" in told
        assert "ask for a person again" in told
        listing = await attendant.call("GET", f"/api/tickets?conversation_id={conversation}")
        assert listing["tickets"] == []  # no ticket pretends to exist
        # Not paused, not stuck: the bot still answers what it can without the action server.
        assert SHIPPING_ANSWER in await customer.say_and_hear("do you ship to Canada?")
        assert customer.pending_texts() == []

        stack.start("actions")
        # The failed attempt holds no cooldown back: asking again hands over.
        assert HANDOFF_TEXT in await customer.say_and_hear("Can I talk to a person now?")
        ticket = await attendant.ticket_of(conversation)
        listing = await attendant.call("GET", f"/api/tickets?conversation_id={conversation}")
        assert len(listing["tickets"]) == 1
        assert ticket["rule"] == "explicit_request"
        customer_texts = thread_texts(ticket, "customer")
        assert "I want to talk to a human" in customer_texts
        assert customer_texts[-1] == "Can I talk to a person now?"

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/reply", {"text": "Hello!"})
        assert (await customer.next_message())["text"].endswith("Hello!")
        await hand_back(attendant, customer, ticket["id"])
    finally:
        await customer.close()
        await attendant.close()


# --- 5. the customer's channel fails to deliver an attendant's reply ----------------------------


def _post_json(url: str, payload: dict) -> None:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def _bot_texts_in_tracker(rasa_url: str, conversation: str) -> list[str]:
    url = f"{rasa_url}/conversations/{conversation}/tracker"
    with urllib.request.urlopen(url, timeout=60) as response:
        tracker = json.loads(response.read())
    return [e.get("text") for e in tracker["events"] if e.get("event") == "bot"]


async def test_a_reply_the_callback_channel_refused_is_kept_failed_and_retried_once(
    stack, callback_listener, demo_attendant
) -> None:
    conversation = f"cb-{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(
        _post_json,
        f"{stack.rasa_url}/webhooks/callback/webhook",
        {"sender": conversation, "message": "I need to speak to a human"},
    )
    told = await asyncio.to_thread(callback_listener.next_message, conversation)
    assert "colleague" in told["text"]
    attendant = Attendant(stack.service_url)
    await attendant.sign_in(*demo_attendant)
    try:
        ticket = await attendant.ticket_of(conversation)
        await attendant.call("POST", f"/api/tickets/{ticket['id']}/claim", {})
        expected = f"{attendant.profile['display_name']}: Your refund is on its way."

        callback_listener.failing[conversation] = 500  # the customer's server is failing
        refused = await attendant.call(
            "POST",
            f"/api/tickets/{ticket['id']}/reply",
            {"text": "Your refund is on its way."},
            expect=502,
        )
        assert refused["error"]["stored_message"]["delivery"] == "failed"
        detail = (await attendant.call("GET", f"/api/tickets/{ticket['id']}"))["ticket"]
        kept = [m for m in detail["messages"] if m["author"] == "attendant"]
        assert [(m["text"], m["delivery"]) for m in kept] == [
            ("Your refund is on its way.", "failed")
        ]
        assert [m["text"] for m in callback_listener.refused if m["recipient_id"] == conversation]
        assert callback_listener.texts_for(conversation) == []

        del callback_listener.failing[conversation]  # the channel works again
        retried = await attendant.call(
            "POST", f"/api/tickets/{ticket['id']}/messages/{kept[0]['id']}/retry", {}
        )
        assert retried["message"]["delivery"] == "delivered"
        again = await attendant.call(
            "POST", f"/api/tickets/{ticket['id']}/messages/{kept[0]['id']}/retry", {}
        )
        assert again["message"]["delivery"] == "delivered"  # already delivered: not re-sent
        assert callback_listener.texts_for(conversation) == [expected]
        bot_texts = await asyncio.to_thread(_bot_texts_in_tracker, stack.rasa_url, conversation)
        assert bot_texts.count(expected) == 1

        await attendant.call("POST", f"/api/tickets/{ticket['id']}/resume", {})
        handback = await asyncio.to_thread(callback_listener.next_message, conversation)
        assert HANDBACK_TEXT in handback["text"]
        detail = (await attendant.call("GET", f"/api/tickets/{ticket['id']}"))["ticket"]
        assert thread_texts(detail, "attendant") == ["Your refund is on its way."]
        assert detail["status"] == "closed"
    finally:
        callback_listener.failing.pop(conversation, None)
        await attendant.close()
