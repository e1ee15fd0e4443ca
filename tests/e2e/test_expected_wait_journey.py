"""The customer is told how long they will wait, with real processes: Rasa, the action server and
the handoff service, a socket.io customer, attendants on the service's API.

These tests need a queue whose every figure they know (who is signed in, which tickets wait, the
team's recent claims), so they run their own stack of the example bot, started once for the
module, instead of the session's shared `bot_stack`, where other tests sign attendants in and
leave tickets open. Support's history is arranged as `tests/queue_history.py` says.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.clients import Attendant, SocketCustomer
from tests.queue_history import claimed_history, hand_off, sign_in, sign_out

pytestmark = pytest.mark.e2e

HANDOFF_TEXT = "bringing in"


def thread_texts(ticket: dict, author: str) -> list[str]:
    return [m["text"] for m in ticket["messages"] if m["author"] == author]


@pytest.fixture(scope="module")
def wait_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from scripts.stack import Ports, Stack

    stack = Stack(
        model=trained_model,
        ports=Ports.free(),
        data_dir=tmp_path_factory.mktemp("wait-stack"),
        extra_env={"HANDOFF_AUTOMATION_INTERVAL_SECONDS": "0.5"},
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


async def test_with_nobody_to_ask_the_customer_hears_the_plain_handoff(wait_stack) -> None:
    """Billing has no recent claims and nobody signed in: the wait is unknown."""
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(wait_stack.rasa_url, conversation)
    await customer.connect()
    try:
        told = await customer.say_and_hear("You charged me twice for my invoice, this is wrong.")
    finally:
        await customer.close()

    assert "I'm bringing in a colleague from Billing. They will see our whole conversation" in told
    assert "expected wait" not in told
    attendant = Attendant(wait_stack.service_url)
    await attendant.sign_in("sam", "demo-password-sam")
    try:
        ticket = await attendant.ticket_of(conversation)
        # Signed out again: sam is a member of every team, and must not count for the others.
        await attendant.call("POST", "/api/auth/logout", {})
    finally:
        await attendant.close()
    assert ticket["team"]["name"] == "billing"
    assert ticket["expected_wait_seconds"] is None


async def test_behind_a_queue_the_customer_hears_about_how_many_minutes(wait_stack) -> None:
    """Support took 3 minutes to claim each of its latest tickets, ana alone is signed in, and
    two tickets as urgent as this one wait ahead: this customer is in round 3, 9 minutes."""
    ana = sign_in(wait_stack.service_url, "ana", "demo-password-ana")
    claimed_history(
        wait_stack.service_url,
        wait_stack.secret,
        wait_stack.data_dir / "handoff.db",
        ana,
        team="support",
        minutes=3,
    )
    for n in range(2):
        hand_off(
            wait_stack.service_url,
            wait_stack.secret,
            f"ahead-{uuid.uuid4().hex[:8]}-{n}",
            "support",
            priority="high",
        )
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(wait_stack.rasa_url, conversation)
    attendant = Attendant(wait_stack.service_url)
    await customer.connect()
    await attendant.sign_in("ana", "demo-password-ana")
    try:
        told = await customer.say_and_hear("I want to talk to a human")
        ticket = await attendant.ticket_of(conversation)
    finally:
        await customer.close()
        await attendant.close()

    assert HANDOFF_TEXT in told
    assert "a colleague from Customer support; the expected wait is about 9 minutes." in told
    assert ticket["rule"] == "explicit_request"
    assert ticket["expected_wait_seconds"] == 9 * 60
    assert ticket["expected_wait_minutes"] == 9


async def test_a_customer_waiting_hears_once_when_the_wait_has_doubled(wait_stack) -> None:
    """Legal claimed its latest tickets 4 minutes after they opened; carla and sam are signed in
    and three urgent tickets wait ahead: the customer is told 8 minutes. Sam signs out, the wait
    is now 16 minutes, and the service's automation pass tells the customer through socket.io."""
    url, secret = wait_stack.service_url, wait_stack.secret
    carla = sign_in(url, "carla", "demo-password-carla")
    sam = sign_in(url, "sam", "demo-password-sam")
    claimed_history(url, secret, wait_stack.data_dir / "handoff.db", carla, team="legal", minutes=4)
    for n in range(3):
        hand_off(url, secret, f"legal-ahead-{uuid.uuid4().hex[:8]}-{n}", "legal", "urgent")
    conversation = f"sio-{uuid.uuid4().hex[:10]}"
    customer = SocketCustomer(wait_stack.rasa_url, conversation)
    attendant = Attendant(url)
    await customer.connect()
    await attendant.sign_in("carla", "demo-password-carla")
    try:
        told = await customer.say_and_hear("I am calling my lawyer about this order.")
        assert (
            "a colleague from Legal and complaints; the expected wait is about 8 minutes." in told
        )

        sign_out(url, sam)
        update = await customer.next_message()
        # The update reaches the ticket's thread too, as the bot's message (the event broker).
        ticket = await attendant.wait_for_ticket(
            (await attendant.ticket_of(conversation))["id"],
            lambda t: t["wait_update_sent"] and update["text"] in thread_texts(t, "bot"),
        )
        assert customer.pending_texts() == []
    finally:
        await customer.close()
        await attendant.close()

    assert (
        "It is taking longer than I said: the expected wait is now about 15 minutes."
        in (update["text"])
    )
    assert ticket["status"] == "open"
    assert ticket["expected_wait_minutes"] == 15
    assert [t["action"] for t in ticket["timeline"]][-1] == "wait_update"
