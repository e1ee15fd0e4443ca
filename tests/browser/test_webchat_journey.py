"""The whole journey in two browser pages: a customer in the rasa-webchat widget, an attendant in
the Inbox, against the real Rasa server, action server and handoff service (`bot_stack`).

The widget is the npm package `rasa-webchat` at a pinned version, installed once into .data/npm
by `npm install` and loaded from its UMD bundle by a small page on a local HTTP server, as a shop
would embed it (`params: {storage: "session"}`; credentials.yml turns on session persistence).
The widget always sends an init payload when the chat opens (an empty message if none is set), so
the page sets `/greet`, as the widget's own README does.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from playwright.sync_api import expect

from scripts.stack import PROJECT_DIR
from tests import sample_files
from tests.browser.pages import Screen
from tests.local_http import ThreadedPeer

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

WEBCHAT_VERSION = "1.0.1"
NPM_DIR = PROJECT_DIR / ".data" / "npm"
RASA_TIMEOUT_MS = 45_000
# The bot's messages; the widget's own "bot is typing" bubble is a .rw-response too.
BOT_MESSAGES = ".rw-message:not(.rw-typing-indication) .rw-response"

ANGRY_1 = "My order 55120 is three weeks late and nobody answers my emails. This is ridiculous!"
ANGRY_2 = "I am furious. Third time I contact you, worst service ever!!!"
HANDOFF_TEXT = "bringing in a colleague"
HANDBACK_TEXT = "back with the Northwind assistant"
GREETING = "Northwind Store assistant"

SHOP_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Northwind Store</title></head>
<body>
<h1>Northwind Store</h1>
<div id="webchat"></div>
<script src="webchat.js"></script>
<script>
  window.typingEvents = [];
  WebChat.default({
    selector: "#webchat",
    socketUrl: %(socket_url)s,
    socketPath: "/socket.io/",
    initPayload: "/greet",
    title: "Northwind Store",
    subtitle: "We usually answer at once",
    inputTextFieldHint: "Type a message",
    customData: {language: "en"},
    params: {storage: "session"},
    showMessageDate: true,
    onSocketEvent: {
      handoff_typing: function (data) { window.typingEvents.push(data); },
    },
  }, null);
</script>
</body>
</html>
"""


@pytest.fixture(scope="session")
def webchat_bundle() -> Path:
    """rasa-webchat's UMD bundle, installed with npm at the pinned version (cached)."""
    package = NPM_DIR / "node_modules" / "rasa-webchat"
    bundle = package / "lib" / "index.js"
    if (
        bundle.exists()
        and json.loads((package / "package.json").read_text())["version"] == WEBCHAT_VERSION
    ):
        return bundle
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(
            "npm is missing: the widget journey installs the rasa-webchat widget with it "
            "(`apt-get install -y npm`, or Node.js 20 from nodejs.org)",
            pytrace=False,
        )
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", f"rasa-webchat@{WEBCHAT_VERSION}", "--prefix", str(NPM_DIR)]
    command += ["--no-audit", "--no-fund", "--ignore-scripts", "--no-package-lock"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0 or not bundle.exists():
        pytest.fail(
            f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stderr[-2000:]}",
            pytrace=False,
        )
    return bundle


@pytest.fixture(scope="session")
def shop_page(
    webchat_bundle: Path, bot_stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A shop's page embedding the widget, served from 127.0.0.1 on its own port."""
    folder = tmp_path_factory.mktemp("shop")
    shutil.copy(webchat_bundle, folder / "webchat.js")
    page = SHOP_PAGE % {"socket_url": json.dumps(bot_stack.rasa_url)}
    (folder / "index.html").write_text(page, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    shop = ThreadedPeer(functools.partial(Quiet, directory=str(folder)))
    try:
        yield f"{shop.url}/index.html"
    finally:
        shop.close()


def support_attendant() -> tuple[str, str, str]:
    """The example seed's first support attendant: username, password, display name."""
    seed = yaml.safe_load((PROJECT_DIR / "service.yml").read_text(encoding="utf-8"))
    for attendant in seed["attendants"]:
        if attendant.get("role", "attendant") == "attendant" and "support" in attendant["teams"]:
            return attendant["username"], attendant["password"], attendant["display_name"]
    raise AssertionError("service.yml has no support attendant")


class Customer:
    """The widget as a customer uses it."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen
        self.page = screen.page

    def open(self) -> None:
        self.page.locator(".rw-launcher").click()
        self.page.locator(".rw-new-message").wait_for()

    def say(self, text: str) -> None:
        box = self.page.locator(".rw-new-message")
        box.fill(text)
        box.press("Enter")
        expect(self.page.locator(".rw-client").last).to_contain_text(text)

    def hears(self, text: str | re.Pattern) -> None:
        expect(self.page.locator(BOT_MESSAGES).filter(has_text=text).last).to_be_visible(
            timeout=RASA_TIMEOUT_MS
        )

    def say_and_hear(self, text: str) -> str:
        """Say `text` and return the bot's first answer to it."""
        answers = self.page.locator(BOT_MESSAGES)
        before = answers.count()
        self.say(text)
        expect(answers).not_to_have_count(before, timeout=RASA_TIMEOUT_MS)
        return answers.nth(before).inner_text()

    @property
    def session_id(self) -> str:
        stored = self.page.evaluate("window.sessionStorage.getItem('chat_session')")
        assert stored, "the widget kept no session in sessionStorage"
        return json.loads(stored)["session_id"]


def test_a_customer_in_the_widget_is_helped_by_an_attendant_in_the_inbox(
    bot_stack, shop_page, screens
) -> None:
    username, password, display_name = support_attendant()
    inbox = screens("webchat-inbox", f"{bot_stack.service_url}/inbox/")
    inbox.page.get_by_label("Username").fill(username)
    inbox.page.get_by_label("Password").fill(password)
    inbox.page.get_by_role("button", name="Sign in").click()
    inbox.page.locator("#stream-state.connected").wait_for()

    customer = Customer(screens("webchat-customer", shop_page, viewport=(480, 820)))
    customer.open()
    customer.hears(GREETING)
    customer.say_and_hear(ANGRY_1)
    customer.say(ANGRY_2)
    customer.hears(HANDOFF_TEXT)
    customer.screen.shot("01-handed-off")
    conversation = customer.session_id

    # The ticket arrives in the Inbox live, with a title badge.
    row = inbox.page.locator(".ticket-row", has_text=conversation)
    expect(row).to_be_visible(timeout=RASA_TIMEOUT_MS)
    expect(inbox.page).to_have_title(re.compile(r"^\(\d+\) Inbox$"))
    inbox.shot("01-new-ticket")
    row.click()
    expect(inbox.page.locator("#summary .rule-chip")).to_have_text("angry_sentiment")
    expect(inbox.page.locator(".msg-customer .msg-text")).to_contain_text([ANGRY_1, ANGRY_2])
    thread = inbox.page.locator("#thread .msg-customer .msg-text").all_inner_texts()
    assert thread.count(ANGRY_1) == 1 and thread.count(ANGRY_2) == 1, thread
    inbox.page.get_by_role("button", name="Claim").click()
    expect(inbox.page.locator("#ticket-status")).to_have_text("In progress")

    # Typing reaches the widget; the reply shows there with the attendant's name.
    composer = inbox.page.get_by_label("Message", exact=True)
    composer.press_sequentially("Hi, I'm sorry about the delay. ")
    customer.page.wait_for_function("window.typingEvents.some(e => e.typing === true)")
    composer.press_sequentially("Let me check order 55120.")
    composer.press("Control+Enter")
    expect(inbox.page.locator(".msg-attendant .delivery").last).to_have_text("Delivered")
    customer.hears(f"{display_name}: Hi, I'm sorry about the delay. Let me check order 55120.")
    customer.screen.shot("02-attendant-reply")

    # Files: an image shows inline in the widget, a PDF as a link; both load from the service.
    inbox.page.locator("#attachment-file").set_input_files(
        [
            {"name": "receipt.png", "mimeType": "image/png", "buffer": sample_files.png(24, 16)},
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": sample_files.pdf()},
        ]
    )
    expect(inbox.page.locator(".attachment-preview.ready")).to_have_count(2)
    inbox.page.get_by_role("button", name="Send").click()
    expect(inbox.page.locator(".msg-attendant .delivery").last).to_have_text("Delivered")
    image = customer.page.locator(".rw-message img[src*='/files/']").last
    expect(image).to_be_visible(timeout=RASA_TIMEOUT_MS)
    assert image.evaluate("img => img.complete && img.naturalWidth") == 24
    link = customer.page.locator(".rw-response a", has_text="invoice.pdf").last
    expect(link).to_have_attribute("href", re.compile(r"/files/[A-Za-z0-9_-]+\?expires=\d+"))
    customer.screen.shot("02-files")

    # The customer's answer appears in the Inbox live.
    customer.say("Thank you, it is the rain jacket.")
    expect(inbox.page.locator(".msg-customer").last).to_contain_text(
        "Thank you, it is the rain jacket.", timeout=RASA_TIMEOUT_MS
    )
    inbox.shot("02-customer-answer")

    # Hand back: the widget says so, and the bot answers the next message.
    inbox.page.get_by_role("button", name="Resume bot").click()
    expect(inbox.page.locator("#ticket-status")).to_have_text("Closed")
    customer.hears(HANDBACK_TEXT)
    customer.say("how long does shipping take?")
    customer.hears("Standard delivery")
    customer.screen.shot("03-bot-again")
    inbox.shot("03-resumed")
    assert inbox.dialogs == [] and customer.screen.dialogs == []


def test_in_the_widget_the_bot_answers_the_first_angry_message_itself(shop_page, screens) -> None:
    """One angry message is not enough (angry_sentiment needs two customer messages)."""
    customer = Customer(screens("webchat-first-angry", shop_page, viewport=(480, 820)))
    customer.open()
    customer.hears(GREETING)

    first = customer.say_and_hear(ANGRY_1)
    # The widget's opening /greet is a payload, not a customer message: it does not count.
    assert HANDOFF_TEXT not in first
    second = customer.say_and_hear(ANGRY_2)

    assert HANDOFF_TEXT in second
