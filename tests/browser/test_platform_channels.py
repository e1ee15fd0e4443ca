"""The Inbox in Chromium on the messaging platforms: each channel with its own icon, and a reply
a platform refuses shown as not delivered with the platform's reason, then retried.

The stack is the session's `platform_stack` (tests/conftest.py), shared with
tests/e2e/test_messaging_platforms.py: a real Rasa with WhatsApp through Twilio, Telegram and
Slack pointed at local stand-ins of their APIs (tests/e2e/platforms/). The customer writes
through the stand-in's signed webhook; the attendant works in the Inbox.
"""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.peers import AttendantApi
from tests.e2e.platforms.customers import (
    PlatformCustomer,
    SlackCustomer,
    TelegramCustomer,
    WhatsAppCustomer,
    rasa_remembers_older,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

HANDOFF_TEXT = "colleague"


@pytest.fixture(scope="module")
def api(platform_stack, demo_attendant) -> AttendantApi:
    return AttendantApi(platform_stack.service_url, *demo_attendant)


def handed_over(customer: PlatformCustomer, api: AttendantApi) -> dict[str, Any]:
    """The customer asks for a person on their platform; the bot hands over; the ticket."""
    customer.writes("I want to talk to a human")
    handoff = customer.sent.next(customer.recipient, ("text",))
    assert HANDOFF_TEXT in (handoff.text or "")

    def ticket() -> dict[str, Any] | None:
        query = urllib.parse.urlencode({"conversation_id": customer.conversation_id})
        found = api.get(f"/api/tickets?{query}")
        return found["tickets"][0] if found["tickets"] else None

    return wait_until(ticket, timeout=60, what=f"a ticket of {customer.conversation_id}")


def inbox_on(screens, platform_stack, demo_attendant, name: str) -> Any:
    screen = screens(name, f"{platform_stack.service_url}/inbox/")
    page = screen.page
    username, password = demo_attendant
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator("#stream-state.connected").wait_for()
    return screen


def row_of(page: Any, conversation_id: str) -> Any:
    return page.locator(".ticket-row", has_text=conversation_id)


def claim_and_send(page: Any, conversation_id: str, text: str) -> Any:
    row_of(page, conversation_id).click()
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_role("button", name="Send").click()
    return page.locator(".msg-attendant").last


def test_each_platform_shows_its_own_icon_in_the_queue_and_the_ticket(
    platforms, platform_stack, demo_attendant, api, screens
) -> None:
    customers = {
        "whatsapp": WhatsAppCustomer(platforms.twilio, f"+1555{uuid.uuid4().int % 10**7:07d}"),
        "telegram": TelegramCustomer(platforms.telegram, 200_000_000 + uuid.uuid4().int % 10**8),
        "slack": SlackCustomer(platforms.slack, "U" + uuid.uuid4().hex[:10].upper()),
    }
    for customer in customers.values():
        handed_over(customer, api)

    screen = inbox_on(screens, platform_stack, demo_attendant, "platform-icons")
    page = screen.page

    labels = {"whatsapp": "WhatsApp", "telegram": "Telegram", "slack": "Slack"}
    for icon, customer in customers.items():
        channel = row_of(page, customer.conversation_id).locator(".channel")
        expect(channel.locator("use")).to_have_attribute("href", f"#i-{icon}")
        expect(channel).to_have_attribute("title", labels[icon])
    screen.shot("01-queue")
    row_of(page, customers["whatsapp"].conversation_id).click()
    expect(page.locator("#ticket-subtitle use")).to_have_attribute("href", "#i-whatsapp")
    expect(page.locator("#ticket-subtitle")).to_contain_text("WhatsApp")
    # Every icon is drawn from the page's own sprite: one <symbol> per channel.
    for icon in customers:
        assert page.locator(f"symbol#i-{icon}").count() == 1
    assert screen.unexpected_errors == []


def test_a_whatsapp_reply_after_24_hours_shows_why_and_is_retried_once_the_customer_writes(
    platforms, platform_stack, demo_attendant, api, screens
) -> None:
    customer = WhatsAppCustomer(platforms.twilio, f"+1555{uuid.uuid4().int % 10**7:07d}")
    handed_over(customer, api)
    quiet_s = 25 * 3600
    rasa_remembers_older(platform_stack, customer.conversation_id, quiet_s)
    platforms.twilio.customer_went_quiet(customer.recipient, quiet_s)
    screen = inbox_on(screens, platform_stack, demo_attendant, "whatsapp-window")
    page = screen.page

    reply = claim_and_send(page, customer.conversation_id, "Sorry for the wait!")

    delivery = reply.locator(".delivery")
    expect(delivery).to_contain_text("Not delivered")
    expect(delivery).to_contain_text(
        "WhatsApp takes a free-form message only within 24 hours of the customer's last "
        "message, and they last wrote 25 hours ago (Twilio would accept it and fail it later "
        "with error 63016)"
    )
    screen.shot("01-refused")
    customer.writes("hello? is anyone there?")
    expect(page.locator(".msg-customer").last).to_contain_text("hello? is anyone there?")
    reply.get_by_role("button", name="Retry").click()
    expect(reply.locator(".delivery")).to_have_text("Delivered")
    screen.shot("02-retried")
    delivered = customer.sent.next(customer.recipient, ("text",))
    assert delivered.text is not None and delivered.text.endswith(": Sorry for the wait!")
    # The refused send itself is answered 502 by the service (the platform refused it), which
    # the browser logs; it is the one error the page may show.
    assert [e for e in screen.unexpected_errors if "status of 502" not in e] == []
    assert sum("status of 502" in e for e in screen.unexpected_errors) == 1


def test_a_telegram_refusal_is_shown_with_telegrams_reason_and_retried_once_unblocked(
    platforms, platform_stack, demo_attendant, api, screens
) -> None:
    customer = TelegramCustomer(platforms.telegram, 300_000_000 + uuid.uuid4().int % 10**8)
    handed_over(customer, api)
    platforms.telegram.bot.blocked_by.add(customer.recipient)
    screen = inbox_on(screens, platform_stack, demo_attendant, "telegram-blocked")
    page = screen.page

    reply = claim_and_send(page, customer.conversation_id, "Your parcel left the depot.")

    delivery = reply.locator(".delivery")
    expect(delivery).to_contain_text("Not delivered")
    expect(delivery).to_contain_text(
        "Telegram refused the message: Forbidden: bot was blocked by the user"
    )
    screen.shot("01-refused")
    platforms.telegram.bot.blocked_by.discard(customer.recipient)
    reply.get_by_role("button", name="Retry").click()
    expect(reply.locator(".delivery")).to_have_text("Delivered")
    delivered = customer.sent.next(customer.recipient, ("text",))
    assert delivered.text is not None and delivered.text.endswith(": Your parcel left the depot.")
    # The refused send itself is answered 502 by the service (the platform refused it), which
    # the browser logs; it is the one error the page may show.
    assert [e for e in screen.unexpected_errors if "status of 502" not in e] == []
    assert sum("status of 502" in e for e in screen.unexpected_errors) == 1
