"""A rule firing again while a ticket is open, with every real process: a customer on Rasa's rest
channel (its safety net says `auto_pause: false`: the bot keeps talking), Rasa, the action server,
the handoff service, and a supervisor's Inbox in Chromium that sees the change live.

The journey is the one issue 18 reported: a billing complaint opens a `billing` ticket; the
customer's later messages fire other rules. The customer is told the team the ticket is really
with, the timeline records each firing, a more urgent rule raises the priority (and, since
`legal_chargeback` says `move_open_ticket: true`, moves the ticket), a milder one never lowers it,
and an explicit request on this channel does what its safety net says: alert, keep talking.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.clients import rest_say, tracker_of

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RASA_TIMEOUT_MS = 45_000


def say(stack, sender: str, text: str) -> list[str]:
    return rest_say(stack.rasa_url, sender, text)


def tracker_paused(stack, sender: str) -> bool:
    return bool(tracker_of(stack.rasa_url, sender)["paused"])


def test_later_triggers_escalate_the_open_ticket_and_name_its_real_team(bot_stack, screens) -> None:
    inbox = screens("second-trigger-inbox", f"{bot_stack.service_url}/inbox/")
    inbox.page.get_by_label("Username").fill("sam")
    inbox.page.get_by_label("Password").fill("demo-password-sam")
    inbox.page.get_by_role("button", name="Sign in").click()
    inbox.page.locator("#stream-state.connected").wait_for()
    customer = f"rest-{uuid.uuid4().hex[:10]}"

    # A billing complaint: a billing ticket, and the customer hears Billing, not "support".
    told = say(bot_stack, customer, "you charged me twice for my invoice and nobody cares")
    assert "I've also asked a colleague from Billing to look at this" in " ".join(told), told
    assert "support" not in " ".join(told).lower()
    assert not tracker_paused(bot_stack, customer)

    row = inbox.page.locator(".ticket-row", has_text=customer)
    expect(row).to_be_visible(timeout=RASA_TIMEOUT_MS)
    row.click()
    facts = inbox.page.locator("#facts")
    expect(facts).to_contain_text("billing")
    expect(facts.locator(".priority")).to_have_text("high")
    inbox.shot("01-billing-ticket")

    # A legal threat within the safety net's cooldown still reaches the ticket: urgent, moved.
    told = say(bot_stack, customer, "I will file a chargeback, this is fraud")
    assert "I've also asked a colleague from Legal and complaints" in " ".join(told), told
    expect(facts.locator(".priority")).to_have_text("urgent", timeout=RASA_TIMEOUT_MS)
    expect(facts).to_contain_text("legal")
    trigger = inbox.page.locator('#timeline .timeline-item[data-action="trigger"]')
    expect(trigger).to_have_count(1)
    expect(trigger).to_contain_text("Rule fired again")
    expect(trigger).to_contain_text("legal_chargeback")
    expect(trigger).to_contain_text("high → urgent")
    inbox.shot("02-escalated-to-legal")

    # An explicit request on this channel alerts and keeps the bot talking; never silence, and
    # the ticket keeps its urgent priority and its team.
    told = say(bot_stack, customer, "I want to talk to a human")
    assert "I've also asked a colleague from Legal and complaints" in " ".join(told), told
    assert not tracker_paused(bot_stack, customer)
    expect(trigger).to_have_count(2, timeout=RASA_TIMEOUT_MS)
    expect(trigger.last).to_contain_text("urgent (kept)")
    expect(facts.locator(".priority")).to_have_text("urgent")
    expect(facts).to_contain_text("legal")
    inbox.shot("03-explicit-request-recorded")

    answered = say(bot_stack, customer, "how long does shipping take?")
    assert any("Standard delivery" in text for text in answered), answered
    # The page asks who is signed in before the sign-in form: that 401 is expected (pages.py).
    assert inbox.dialogs == [] and inbox.unexpected_errors == []
