"""The attendant's Inbox in headless Chromium, against the real service started by its CLI.

Tickets and customer messages come in as Rasa's side sends them (signed `/api/handoffs` and
`/api/events`); commands to Rasa land in a local listener standing for the HandoffConnector.
Screenshots of each key step are saved under test-artifacts/inbox/.
"""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests import sample_files
from tests.browser.pages import sign_in
from tests.waiting import wait_until

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)><script>alert(2)</script>"
ANGRY_TURNS = [
    (
        "My order 55120 is three weeks late and nobody answers my emails.",
        {"sentiment": -0.64, "complexity": 0.35, "uncertainty": 0.12},
    ),
    (
        "I am furious. Third time I contact you, worst service ever!!!",
        {"sentiment": -0.72, "frustration": 0.86, "complexity": 0.2, "uncertainty": 0.05},
    ),
]


def new_conversation(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def row_of(page, conversation_id: str):
    return page.locator(".ticket-row", has_text=conversation_id)


def test_signing_in_shows_the_queue_with_the_open_ticket_count(inbox_world, screens) -> None:
    conversation = new_conversation("count")
    inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
    screen = screens("signin", inbox_world.inbox)
    page = screen.page

    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#signin-error")).to_have_text("Wrong username or password.")
    screen.shot("01-wrong-password")
    sign_in(screen, "ana")

    open_count = inbox_world.as_attendant("ana").get("/api/tickets/counts")["counts"]["open"]
    expect(page.locator("#open-indicator")).to_have_text(f"{open_count} open")
    expect(page.locator('[data-count="open"]')).to_have_text(str(open_count))
    expect(row_of(page, conversation)).to_be_visible()
    expect(row_of(page, conversation).locator(".priority")).to_have_text("high")
    expect(row_of(page, conversation).locator(".sla")).to_have_text(re.compile(r"waiting"))
    expect(row_of(page, conversation).locator(".channel")).to_contain_text("Web chat")
    expect(page.get_by_role("button", name="Take over a conversation")).to_be_hidden()
    expect(page.get_by_role("tab", name="All")).to_be_hidden()
    screen.shot("02-queue")
    assert screen.unexpected_errors == []


def test_a_new_ticket_appears_live_with_a_title_badge(inbox_world, screens) -> None:
    screen = screens("live", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")
    expect(page).to_have_title("Inbox")
    page.locator("#open-indicator[data-open]").wait_for()
    page.evaluate("window.loadedOnce = true")
    before = int(page.locator("#open-indicator").get_attribute("data-open"))

    conversation = new_conversation("live")
    inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)

    expect(row_of(page, conversation)).to_be_visible()
    expect(page).to_have_title("(1) Inbox")
    expect(page.locator("#open-indicator")).to_have_text(f"{before + 1} open")
    expect(row_of(page, conversation).locator(".unread-dot")).to_have_text("1")
    assert page.evaluate("window.loadedOnce") is True, "the page reloaded instead of updating"
    screen.shot("01-new-ticket")

    row_of(page, conversation).click()
    expect(page).to_have_title("Inbox")
    expect(row_of(page, conversation).locator(".unread-dot")).to_have_count(0)


def test_an_attendant_works_a_ticket_from_claim_to_resuming_the_bot(inbox_world, screens) -> None:
    conversation = new_conversation("work")
    ticket = inbox_world.rasa.hand_off(
        conversation, customer_turns=ANGRY_TURNS, topics=["order", "delivery"]
    )
    screen = screens("journey", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")

    row_of(page, conversation).click()
    expect(page).to_have_url(re.compile(rf"#/tickets/{ticket['id']}$"))
    summary = page.locator("#summary")
    expect(summary.locator(".summary-reason")).to_have_text("The customer is upset")
    expect(summary.locator(".rule-chip")).to_have_text("angry_sentiment")
    expect(summary.locator(".condition")).to_have_text("sentiment <= -0.6 and message count >= 2")
    expect(summary).to_contain_text("sentiment -0.72")
    last_turn = page.locator(".msg-customer").last.locator(".chip")
    expect(last_turn).to_have_text(
        ["frustration 0.86", "sentiment -0.72", "complexity 0.20", "uncertainty 0.05"]
    )
    expect(last_turn.first).to_have_class(re.compile("chip-high"))
    expect(summary.locator(".chip-topic")).to_have_text(["order", "delivery"])
    expect(page.locator(".msg-customer")).to_have_count(2)
    expect(page.locator(".msg-bot")).to_have_count(2)
    expect(page.locator("#timeline")).to_contain_text("Ticket opened")
    expect(page.locator("#send")).to_be_disabled()
    screen.shot("01-ticket")

    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    expect(page.locator("#facts")).to_contain_text("Ana Lima")
    expect(page.locator("#timeline")).to_contain_text("Claimed")

    page.get_by_label("Canned replies").select_option(label="Greeting")
    composer = page.get_by_label("Message", exact=True)
    expect(composer).to_have_value(re.compile(r"^Hello, I'm taking over"))
    composer.press_sequentially(" Let me check order 55120.")
    typing = wait_until(
        lambda: inbox_world.connector.of("typing", conversation), what="a typing indicator"
    )
    assert typing[0]["typing"] is True
    composer.press("Control+Enter")
    reply = page.locator(".msg-attendant").last
    expect(reply.locator(".msg-text")).to_have_text(
        "Hello, I'm taking over from our assistant. I've read your conversation. "
        "Let me check order 55120."
    )
    expect(reply.locator(".delivery")).to_have_text("Delivered")
    expect(reply).to_contain_text("Ana Lima")
    expect(page.locator("#ticket-status")).to_have_text("Awaiting customer")
    sent = inbox_world.connector.of("reply", conversation)
    assert sent[-1]["attendant_name"] == "Ana Lima"
    screen.shot("02-replied")

    page.locator("#attachment-file").set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": sample_files.png()}
    )
    expect(page.locator(".attachment-preview.ready img")).to_have_attribute("alt", "receipt.png")
    composer.fill("Here is the receipt.")
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".msg-attendant").last.locator("img")).to_have_attribute(
        "alt", "receipt.png"
    )
    expect(page.locator(".attachment-preview")).to_have_count(0)
    sent_file = inbox_world.connector.of("reply", conversation)[-1]["attachments"][0]
    assert "/files/" in sent_file["url"] and sent_file["mime_type"] == "image/png"

    inbox_world.rasa.customer_says(
        conversation, "Thanks, it is the rain jacket.", {"sentiment": 0.3}
    )
    expect(page.locator(".msg-customer").last).to_contain_text("Thanks, it is the rain jacket.")
    expect(page.locator("#ticket-status")).to_have_text("In progress")

    page.get_by_role("radio", name="Internal note").check()
    composer.fill("Carrier lost the parcel; refund approved by billing.")
    page.get_by_role("button", name="Add note").click()
    note = page.locator("#thread .note")
    expect(note).to_contain_text("Carrier lost the parcel; refund approved by billing.")
    expect(note).to_contain_text("Internal note")
    # Both colours are read in one script: the page rebuilds the thread on every live event, so
    # two separate reads may each land on a node that has just been replaced (and read '').
    note_colour, message_colour = page.evaluate(
        """() => {
          const customer = [...document.querySelectorAll('#thread .msg-customer')].pop();
          const note = document.querySelector('#thread .note');
          return [note, customer].map((n) => getComputedStyle(n).backgroundColor);
        }"""
    )
    assert note_colour and message_colour, (note_colour, message_colour)
    assert note_colour != message_colour, "a note must not look like a message"
    screen.shot("03-note")

    page.get_by_role("button", name="Close").click()
    expect(page.locator("#ticket-status")).to_have_text("Closed")
    expect(page.get_by_role("button", name="Reopen")).to_be_enabled()
    page.get_by_role("button", name="Reopen").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    page.get_by_role("button", name="Resume bot").click()
    expect(page.locator("#ticket-status")).to_have_text("Closed")
    expect(page.locator("#facts")).to_contain_text("handed back to bot")
    resumed = wait_until(lambda: inbox_world.connector.of("resume", conversation), what="resume")
    assert resumed[0]["reason"] == "resume_bot"
    timeline = page.locator("#timeline .timeline-action")
    expect(timeline).to_contain_text(
        ["Ticket opened", "Claimed", "Replied", "Closed", "Reopened", "Bot resumed"]
    )
    screen.shot("04-resumed")
    assert screen.dialogs == []
    assert screen.unexpected_errors == []


def test_a_ticket_is_transferred_to_another_attendant_with_a_note(inbox_world, screens) -> None:
    conversation = new_conversation("transfer")
    inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
    screen = screens("transfer", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")
    row_of(page, conversation).click()
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")

    page.get_by_label("Transfer to").select_option(label="Bruno Costa")
    page.get_by_label("Note for the next attendant").fill("Refund question: yours, Bruno.")
    page.get_by_role("button", name="Transfer", exact=True).click()

    expect(page.locator("#facts")).to_contain_text("Bruno Costa")
    expect(page.locator("#timeline")).to_contain_text("to: Bruno Costa")
    expect(page.locator("#thread .note")).to_contain_text("Refund question: yours, Bruno.")
    expect(page.locator("#send")).to_be_disabled()
    screen.shot("01-transferred")

    bruno = screens("transfer-bruno", inbox_world.inbox)
    sign_in(bruno, "bruno")
    bruno.page.get_by_role("tab", name="Mine").click()
    expect(row_of(bruno.page, conversation)).to_be_visible()


def test_an_undelivered_reply_is_kept_and_can_be_retried(inbox_world, screens) -> None:
    conversation = new_conversation("retry")
    inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
    screen = screens("retry", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")
    row_of(page, conversation).click()
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")

    inbox_world.connector.failing["reply"] = 3  # every attempt of the service's first delivery
    page.get_by_label("Message", exact=True).fill("Are you still there?")
    page.get_by_role("button", name="Send").click()

    reply = page.locator(".msg-attendant").last
    expect(reply.locator(".delivery")).to_contain_text("Not delivered")
    expect(page.locator(".toast-error")).to_contain_text("retry delivery")
    expect(page.get_by_label("Message", exact=True)).to_have_value("")
    screen.shot("01-undelivered")
    reply.get_by_role("button", name="Retry").click()
    expect(reply.locator(".delivery")).to_have_text("Delivered")
    assert [c["text"] for c in inbox_world.connector.of("reply", conversation)] == [
        "Are you still there?"
    ]


# The page's EventSource, recording what the stream delivered, so a test can tell the moment
# a live event has reached the page.
RECORD_STREAM = """
const Native = window.EventSource;
window.streamed = [];
window.EventSource = class extends Native {
  constructor(...args) {
    super(...args);
    for (const type of ["ticket.created", "message.created"]) {
      this.addEventListener(type, (event) => window.streamed.push(`${type} ${event.data}`));
    }
  }
};
"""


def test_a_message_that_arrives_while_the_ticket_loads_is_shown(inbox_world, screens) -> None:
    """The service reads the ticket, then the customer writes and the stream delivers it, then
    the (older) answer reaches the page: the message must still appear, not be overwritten."""
    conversation = new_conversation("race")
    ticket = inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
    screen = screens("load-race", inbox_world.inbox)
    page = screen.page
    page.add_init_script(RECORD_STREAM)
    page.reload()
    sign_in(screen, "ana")

    answered: list[int] = []

    def answer_from_before_the_message(route) -> None:
        if answered:
            route.continue_()
            return
        answered.append(1)
        before = route.fetch()  # the ticket as the service read it, before the message
        inbox_world.rasa.customer_says(conversation, "Hello? Is anyone there?", {"sentiment": -0.5})
        page.wait_for_function("() => window.streamed.some((e) => e.includes('anyone there'))")
        route.fulfill(response=before)

    page.route(re.compile(rf"/api/tickets/{ticket['id']}$"), answer_from_before_the_message)
    row_of(page, conversation).click()

    expect(page.locator(".msg-customer").last).to_contain_text("Hello? Is anyone there?")
    assert answered, "the ticket's load was not the one held back"
    assert screen.unexpected_errors == []


def test_a_ticket_opened_while_the_queue_loads_is_listed(inbox_world, screens) -> None:
    """The same race for the queue: its first page is read before a new ticket opens."""
    screen = screens("queue-race", inbox_world.inbox)
    page = screen.page
    page.add_init_script(RECORD_STREAM)
    page.reload()
    conversation = new_conversation("queue-race")
    answered: list[int] = []

    def answer_from_before_the_ticket(route) -> None:
        if answered or "/api/tickets?" not in route.request.url:
            route.continue_()
            return
        before = route.fetch()  # the queue as the service read it, before the ticket
        answered.append(1)
        expect(page.locator("#stream-state")).to_have_text("Live")
        inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
        page.wait_for_function(
            "(id) => window.streamed.some((e) => e.startsWith('ticket.created') && e.includes(id))",
            arg=conversation,
        )
        route.fulfill(response=before)

    page.route(re.compile(r"/api/tickets\?"), answer_from_before_the_ticket)
    sign_in(screen, "ana")

    expect(row_of(page, conversation)).to_be_visible()
    assert answered, "the queue's load was not the one held back"
    assert screen.unexpected_errors == []


def test_customer_html_and_script_are_shown_as_text_and_never_run(inbox_world, screens) -> None:
    conversation = new_conversation("xss")
    inbox_world.rasa.hand_off(
        conversation,
        reason=f"The customer wrote {XSS}",
        customer_turns=[(XSS, {"sentiment": -0.8}), ("still waiting", {"sentiment": -0.7})],
        topics=[XSS],
    )
    screen = screens("escaping", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "ana")
    row_of(page, conversation).click()
    inbox_world.rasa.customer_says(conversation, f"again: {XSS}", {"sentiment": -0.9})

    customer = page.locator(".msg-customer .msg-text")
    expect(customer.first).to_have_text(XSS)
    expect(customer.last).to_have_text(f"again: {XSS}")
    expect(page.locator("#summary .summary-reason")).to_have_text(f"The customer wrote {XSS}")
    expect(page.locator("#summary .chip-topic")).to_have_text(XSS)
    expect(row_of(page, conversation).locator(".row-summary")).to_have_text(
        f"The customer wrote {XSS}"
    )
    # Nothing the customer wrote became an element, so no handler can ever fire.
    assert page.locator('img[src="x"]').count() == 0
    assert page.locator("script").count() == 1  # app.js itself
    assert screen.dialogs == []
    screen.shot("01-literal")


def test_a_waiting_time_past_the_channel_target_is_flagged(inbox_world, screens) -> None:
    fast = new_conversation("cb")
    inbox_world.rasa.hand_off(fast, channel="callback", customer_turns=ANGRY_TURNS)
    slow = new_conversation("sio")
    inbox_world.rasa.hand_off(slow, channel="socketio", customer_turns=ANGRY_TURNS)
    screen = screens("sla", inbox_world.inbox, fake_clock=True)
    sign_in(screen, "ana")
    # The test rules give the callback channel a 2 s target (the web chat has 5 min). The
    # page's clock, not the test, lets 31 s pass: the queue re-renders its SLA every 30 s.
    screen.page.clock.fast_forward(31_000)

    expect(row_of(screen.page, fast).locator(".sla")).to_have_class(re.compile(r"\bsla-breach\b"))
    expect(row_of(screen.page, slow).locator(".sla")).to_have_class(re.compile(r"\bsla-ok\b"))
    expect(row_of(screen.page, fast).locator(".channel")).to_contain_text("Callback")
    screen.shot("01-queue")


def test_the_rules_page_shows_each_rule_with_its_firings_and_outcomes(inbox_world, screens) -> None:
    sam = inbox_world.as_attendant("sam")
    ticket = inbox_world.rasa.hand_off(
        new_conversation("rules"),
        rule="explicit_request",
        reason="The customer asked for a person",
        customer_turns=[("I want to talk to a human", {"human_request": 0.93})],
    )
    sam.post(f"/api/tickets/{ticket['id']}/claim")
    sam.post(f"/api/tickets/{ticket['id']}/resume")
    inbox_world.rasa.hand_off(new_conversation("rules"), customer_turns=ANGRY_TURNS)
    stats = {entry["rule"]: entry for entry in sam.get("/api/stats/rules")["rules"]}

    screen = screens("rules", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "sam")
    page.get_by_role("link", name="Rules").click()

    rows = page.locator("#rules-body tr")
    expect(rows.locator(".rule-name")).to_contain_text(
        ["explicit_request", "angry_sentiment", "legal_chargeback"]
    )
    explicit = page.locator('tr[data-rule="explicit_request"]')
    expect(explicit.locator(".condition")).to_have_text(
        "intent in [request_human] or human_request >= 0.7"
    )
    expect(explicit.locator("td.num").first).to_have_text(str(stats["explicit_request"]["tickets"]))
    expect(explicit.locator(".outcomes")).to_contain_text("handed back to bot")
    angry = page.locator('tr[data-rule="angry_sentiment"]')
    expect(angry.locator("td.num").first).to_have_text(str(stats["angry_sentiment"]["tickets"]))
    expect(angry).to_contain_text("Callback, Web chat")
    expect(page.locator('tr[data-rule="legal_chargeback"]')).to_contain_text("never fired")
    expect(page.locator("#safety-body")).to_contain_text("Callback")
    screen.shot("01-rules")


def test_a_supervisor_takes_over_a_live_bot_conversation(inbox_world, screens) -> None:
    conversation = new_conversation("takeover")
    screen = screens("takeover", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "sam")
    expect(page.get_by_role("tab", name="All")).to_be_visible()

    page.get_by_role("button", name="Take over a conversation").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Conversation id").fill(conversation)
    dialog.get_by_label("Channel").fill("socketio")
    dialog.get_by_label("Team").select_option(label="Customer support")
    dialog.get_by_label("Reason").fill("Customer mentioned a lawyer in the bot chat")
    screen.shot("01-dialog")
    dialog.get_by_role("button", name="Take over", exact=True).click()

    expect(page.locator("#ticket-status")).to_have_text("In progress")
    expect(page.locator("#summary .rule-chip")).to_have_text("manual_takeover")
    expect(page.locator("#facts")).to_contain_text("Sam Supervisor")
    paused = wait_until(lambda: inbox_world.connector.of("pause", conversation), what="a pause")
    assert paused[0]["reason"] == "takeover"
    screen.shot("02-ticket")


def test_a_supervisor_takes_over_a_conversation_from_the_live_list(inbox_world, screens) -> None:
    conversation = new_conversation("live")
    inbox_world.rasa.customer_says(conversation, "Can I change my delivery address?")
    screen = screens("takeover-live", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "sam")
    expect(page.get_by_role("tab", name="All")).to_be_visible()

    page.get_by_role("button", name="Take over a conversation").click()
    dialog = page.get_by_role("dialog")
    row = dialog.locator("#live-conversations li", has_text=conversation)
    expect(row).to_contain_text("Web chat")
    expect(row).to_contain_text("seen just now")
    expect(row.locator(".live-text")).to_have_text("Can I change my delivery address?")
    # the list refreshes while the dialog is open; the customer's text stays text
    inbox_world.rasa.customer_says(conversation, XSS)
    expect(row.locator(".live-text")).to_have_text(XSS, timeout=15_000)
    expect(dialog.locator("#live-conversations img, #live-conversations script")).to_have_count(0)
    dialog.get_by_label("Reason").fill("The customer needs an address change the bot cannot do")
    screen.shot("01-live-list")
    dialog.get_by_role("button", name=f"Take over {conversation}").click()

    expect(page.locator("#ticket-status")).to_have_text("In progress")
    expect(page.locator("#summary .rule-chip")).to_have_text("manual_takeover")
    expect(page.locator("#facts")).to_contain_text("Sam Supervisor")
    paused = wait_until(lambda: inbox_world.connector.of("pause", conversation), what="a pause")
    assert paused[0]["reason"] == "takeover"
    assert paused[0]["channel"] == "socketio"
    screen.shot("02-ticket")

    # with its ticket open, the conversation leaves the live list
    page.get_by_role("button", name="Take over a conversation").click()
    expect(page.locator("#live-status")).not_to_have_text("Loading live conversations…")
    expect(dialog.locator("#live-conversations li", has_text=conversation)).to_have_count(0)
    dialog.get_by_role("button", name="Cancel").click()


def test_the_queue_and_a_ticket_work_from_the_keyboard(inbox_world, screens) -> None:
    conversation = new_conversation("keys")
    ticket = inbox_world.rasa.hand_off(conversation, priority="urgent", customer_turns=ANGRY_TURNS)
    screen = screens("keyboard", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "bruno")
    expect(row_of(page, conversation)).to_be_visible()

    row_of(page, conversation).focus()
    page.keyboard.press("Enter")
    expect(page.locator("#ticket-title")).to_have_text(f"Ticket #{ticket['id']}")
    page.locator("body").press("c")
    expect(page.locator("#ticket-status")).to_have_text("In progress")
    page.locator("body").press("r")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    page.keyboard.type("On it.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".msg-attendant .msg-text").last).to_have_text("On it.")


def test_on_a_phone_the_ticket_takes_the_whole_screen(inbox_world, screens) -> None:
    conversation = new_conversation("phone")
    inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
    screen = screens("phone", inbox_world.inbox, viewport=(390, 844))
    page = screen.page
    sign_in(screen, "ana")
    screen.shot("01-queue")
    row_of(page, conversation).click()

    expect(page.locator("#thread")).to_be_visible()
    expect(page.locator("#ticket-list")).to_be_hidden()
    expect(page.get_by_role("link", name="← Queue")).to_be_visible()
    screen.shot("02-ticket")
    page.get_by_role("link", name="← Queue").click()
    expect(page.locator("#ticket-list")).to_be_visible()


def test_each_customer_message_shows_its_own_scores(inbox_world, screens) -> None:
    conversation = new_conversation("scores")
    ticket = inbox_world.rasa.hand_off(conversation, customer_turns=ANGRY_TURNS)
    inbox_world.rasa.customer_says(conversation, "Still nothing?!", {"sentiment": -0.81})
    detail = inbox_world.as_attendant("ana").get(f"/api/tickets/{ticket['id']}")["ticket"]
    customer_scores = [m["scores"] for m in detail["messages"] if m["author"] == "customer"]
    assert [s["sentiment"] for s in customer_scores] == [-0.64, -0.72, -0.81]
    screen = screens("scores", inbox_world.inbox)
    sign_in(screen, "ana")
    row_of(screen.page, conversation).click()

    chips = screen.page.locator('.msg-customer [data-score="sentiment"]')
    expect(chips).to_have_text(["sentiment -0.64", "sentiment -0.72", "sentiment -0.81"])
