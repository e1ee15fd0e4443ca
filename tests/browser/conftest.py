"""Fixtures of the Inbox's browser tests: Debian's Chromium driven by Playwright, the service.

Chromium is Debian's (`apt-get install chromium chromium-driver`; `make test` installs it), since
Playwright's own browser download is not used. Without it these tests fail, saying how to install
it: a browser suite that silently skipped would hide a broken Inbox.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from scripts.stack import PROJECT_DIR
from tests.browser.pages import ACCOUNTS, Screen
from tests.browser.peers import AttendantApi, ConnectorListener, RasaSide, ServiceProcess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_DIR / "test-artifacts" / "inbox"

SEED = """\
teams:
  - name: support
    display_name: Customer support
  - name: billing
    display_name: Billing
attendants:
  - username: ana
    display_name: Ana Lima
    password: ana-password-123
    teams: [support]
  - username: bruno
    display_name: Bruno Costa
    password: bruno-password-123
    teams: [billing, support]
  - username: sam
    display_name: Sam Supervisor
    password: sam-password-123
    role: supervisor
    teams: [support, billing]
canned_replies:
  support:
    - title: Greeting
      text: Hello, I'm taking over from our assistant. I've read your conversation.
    - title: Closing
      text: Anything else I can help with? If not, I'll hand you back to our assistant.
"""

# The example bot's rules, with a short waiting-time target for the callback channel so a test
# can watch a ticket pass it.
RULES = """\
version: "1"
safety_net:
  default:
    auto_pause: true
    cooldown: 10m
    unclaimed_timeout: 10m
  socketio:
    unclaimed_timeout: 5m
  callback:
    unclaimed_timeout: 2s
rules:
  - name: explicit_request
    description: The customer asked for a person
    when:
      any:
        - intent: request_human
        - human_request: ">= 0.7"
    team: support
    priority: high
  - name: angry_sentiment
    description: The customer is upset
    when:
      all:
        - sentiment: "<= -0.6"
        - message_count: ">= 2"
    team: support
    priority: high
    channels: [socketio, callback]
  - name: legal_chargeback
    description: Legal threat or payment dispute
    when:
      keywords: [chargeback*, lawyer*]
    team: support
    priority: urgent
"""


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            "Debian's Chromium is missing at /usr/bin/chromium; the Inbox's browser tests need it. "
            "Install it with `sudo apt-get install -y chromium chromium-driver` "
            "(`make test` does this when run as root).",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="module")
def browser(chromium_path: Path) -> Iterator[Any]:
    """One Chromium for the browser tests, stopped when they are done.

    Module scope, not session: Playwright's sync API keeps its event loop registered as running
    in the main thread while it is alive, and every asyncio test collected after this folder
    would then fail with "cannot be called from a running event loop".
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@dataclass
class InboxWorld:
    """The service, its connector listener and Rasa's side, shared by the Inbox tests."""

    service: ServiceProcess
    connector: ConnectorListener
    rasa: RasaSide
    rules_file: Path

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def inbox(self) -> str:
        return f"{self.service.url}/inbox/"

    def as_attendant(self, username: str) -> AttendantApi:
        return AttendantApi(self.service.url, username, ACCOUNTS[username])


@pytest.fixture(scope="session")
def inbox_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxWorld]:
    folder = tmp_path_factory.mktemp("inbox-service")
    secret = secrets.token_hex(16)
    seed = folder / "seed.yml"
    seed.write_text(SEED)
    rules_file = folder / "handoff.yml"
    rules_file.write_text(RULES)
    connector = ConnectorListener(secret)
    service = ServiceProcess(folder, seed, secret, connector.url, rules_file)
    service.start()
    try:
        yield InboxWorld(service, connector, RasaSide(service.url, secret), rules_file)
    finally:
        service.stop()
        connector.close()
        print(f"service log: {service.log_path}")


@pytest.fixture
def screens(browser: Any, artifacts: Path) -> Iterator[Any]:
    """open(name, url, fake_clock=False) -> Screen, each in its own browser context (its own
    cookies); with `fake_clock` the page's time moves only by `screen.page.clock`.

    `name` prefixes the screenshots (test-artifacts/inbox/<name>-<step>.png); the last state of
    every page is saved too, which is what to look at when a test fails.
    """
    contexts = []
    opened: list[Screen] = []

    def open_screen(
        name: str, url: str, viewport: tuple[int, int] = (1440, 900), fake_clock: bool = False
    ) -> Screen:
        context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
        contexts.append(context)
        page = context.new_page()
        if fake_clock:  # the page's Date and timers, moved on by page.clock instead of waiting
            page.clock.install()
        page.set_default_timeout(10_000)
        screen = Screen(page, name, artifacts)

        def on_dialog(dialog: Any) -> None:
            screen.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("pageerror", lambda error: screen.errors.append(str(error)))
        page.on(
            "console",
            lambda message: screen.errors.append(message.text) if message.type == "error" else None,
        )
        page.goto(url)
        opened.append(screen)
        return screen

    yield open_screen
    for screen in opened:
        if not screen.page.is_closed():
            screen.shot("last")
    for context in contexts:
        context.close()
