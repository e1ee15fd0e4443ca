"""The Inbox keeps its state from the live stream, pages past its first 100 tickets, and is a
complete tablist with a polite live region, in headless Chromium against the real service."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import sign_in

pytestmark = pytest.mark.browser

TURNS = [("My parcel never came and I want it sorted today.", {"sentiment": -0.7})]


def _conversation(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _row(page, conversation_id: str):
    return page.locator(".ticket-row", has_text=conversation_id)


def test_a_customer_message_is_added_live_without_reloading_anything(inbox_world, screens) -> None:
    conversation = _conversation("inplace")
    ticket = inbox_world.rasa.hand_off(conversation, customer_turns=TURNS)
    screen = screens("inplace", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")
    _row(page, conversation).click()
    expect(page.locator(".msg-customer")).to_have_count(1)
    fetched: list[str] = []
    page.on(
        "request",
        lambda request: fetched.append(request.url) if "/api/tickets" in request.url else None,
    )

    inbox_world.rasa.customer_says(conversation, "Hello? Is anyone there?")

    expect(page.locator(".msg-customer .msg-text").last).to_have_text("Hello? Is anyone there?")
    expect(page.locator("#thread-announcer")).to_have_text("Customer: Hello? Is anyone there?")
    expect(page.locator("#thread-announcer")).to_have_attribute("aria-live", "polite")
    expect(_row(page, conversation)).to_be_visible()
    assert [url for url in fetched if f"/api/tickets/{ticket['id']}" in url] == []
    assert [url for url in fetched if re.search(r"/api/tickets\?", url)] == []
    screen.shot("01-live-message")
    assert screen.unexpected_errors == []


def test_the_queue_filters_are_a_tablist_moved_with_the_arrow_keys(inbox_world, screens) -> None:
    screen = screens("tablist", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")
    tabs = page.get_by_role("tablist", name="Queue filter").get_by_role("tab")
    panel = page.get_by_role("tabpanel")
    expect(tabs.filter(has_text="Open")).to_have_attribute("aria-selected", "true")
    expect(panel).to_have_attribute("aria-labelledby", "tab-open")
    # One tab stop: only the selected tab is in the page's tab order.
    expect(page.locator("#queue-tabs [role=tab][tabindex='0']")).to_have_count(1)

    page.locator("#tab-open").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-mine")).to_be_focused()
    expect(page.locator("#tab-mine")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#tab-mine")).to_have_attribute("tabindex", "0")
    expect(page.locator("#tab-open")).to_have_attribute("tabindex", "-1")
    expect(panel).to_have_attribute("aria-labelledby", "tab-mine")
    page.keyboard.press("End")
    expect(page.locator("#tab-closed")).to_be_focused()  # "All" is hidden from attendants
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-open")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#tab-closed")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Home")
    expect(page.locator("#tab-open")).to_have_attribute("aria-selected", "true")
    assert screen.unexpected_errors == []


def test_the_queue_says_how_far_it_goes_and_pages_past_the_first_100(inbox_world, screens) -> None:
    # Low priority, so they sort after every other test's tickets.
    for _ in range(101):
        inbox_world.rasa.hand_off(_conversation("bulk"), priority="low")
    total = inbox_world.as_attendant("sam").get("/api/tickets/counts")["counts"]["open"]
    assert total > 100
    screen = screens("paging", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "sam")

    expect(page.locator(".ticket-row")).to_have_count(100)
    expect(page.locator("#queue-shown")).to_have_text(f"First 100 of {total}")
    screen.shot("01-first-page")
    page.get_by_role("button", name="Show more").click()

    expect(page.locator(".ticket-row")).to_have_count(min(total, 200))
    if total <= 200:
        expect(page.locator("#queue-more-row")).to_be_hidden()
    assert screen.unexpected_errors == []


def test_an_expanded_summary_leaves_the_conversation_in_view(inbox_world, screens) -> None:
    conversation = _conversation("summary")
    inbox_world.rasa.hand_off(
        conversation,
        customer_turns=TURNS * 3,
        topics=[f"topic {n} with a fairly long name" for n in range(30)],
    )
    screen = screens("summary", inbox_world.inbox)
    page = screen.page
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(screen, "ana")
    _row(page, conversation).click()
    expect(page.locator("#summary .summary-reason")).to_be_visible()
    expect(page.locator(".msg-customer")).to_have_count(3)
    details = page.locator("#summary details")
    if details.count():
        details.first.locator("summary").click()

    summary = page.locator("#summary").bounding_box()
    thread = page.locator("#thread").bounding_box()
    assert summary is not None and thread is not None
    assert summary["height"] <= 0.30 * 900 + 1
    assert thread["y"] >= summary["y"] + summary["height"]  # below the summary, not under it
    assert thread["height"] > 200
    screen.shot("01-summary-expanded")
    assert screen.unexpected_errors == []
