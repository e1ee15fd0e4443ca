"""A short conversation with the real example bot over Rasa's rest channel."""

from __future__ import annotations

import json
import urllib.request
import uuid

import pytest

from tests.e2e.clients import rest_say

pytestmark = pytest.mark.e2e


def say(stack, sender: str, text: str) -> list[str]:
    return rest_say(stack.rasa_url, sender, text, timeout=30)


def test_the_bot_greets_and_looks_up_an_order_through_the_action_server(bot_stack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"

    greeting = say(bot_stack, sender, "hello")
    asked = say(bot_stack, sender, "where is my order?")
    answered = say(bot_stack, sender, "it's 48213")

    assert any("Northwind Store assistant" in text for text in greeting)
    assert any("order number" in text for text in asked)
    assert answered == ["Your order 48213 (rain jacket) is shipped: arrives Thursday."]


def test_the_bot_answers_faq_and_says_goodbye(bot_stack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"

    shipping = say(bot_stack, sender, "how long does shipping take?")
    goodbye = say(bot_stack, sender, "bye")

    assert any("Standard delivery" in text for text in shipping)
    assert any("Goodbye" in text for text in goodbye)


def test_the_tracker_is_kept_in_the_sqlite_tracker_store(bot_stack) -> None:
    sender = f"rest-{uuid.uuid4().hex[:8]}"
    say(bot_stack, sender, "hi")

    with urllib.request.urlopen(f"{bot_stack.rasa_url}/conversations/{sender}/tracker") as r:
        tracker = json.load(r)

    assert (bot_stack.data_dir / "tracker.db").stat().st_size > 0
    assert [e["text"] for e in tracker["events"] if e["event"] == "user"] == ["hi"]
