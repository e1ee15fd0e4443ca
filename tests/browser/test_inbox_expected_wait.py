"""The Inbox shows the expected wait the customer was told, on the queue row and in the ticket's
summary, in headless Chromium against the real service; and nothing when it is unknown.

Billing's history is arranged as `tests/queue_history.py` says (each of its latest five tickets
claimed six minutes after it opened); billing's two members (bruno, sam) are signed in.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SEED
from tests.browser.pages import ACCOUNTS, sign_in
from tests.browser.peers import ConnectorListener, RasaSide, ServiceProcess
from tests.queue_history import claimed_history
from tests.queue_history import sign_in as api_sign_in
from tests.queue_history import sign_out as api_sign_out

pytestmark = pytest.mark.browser

TURNS = [("I was charged twice for my order.", {"sentiment": -0.7})]


def test_the_queue_row_and_the_summary_show_the_expected_wait(inbox_world, screens) -> None:
    service = inbox_world.service
    bruno = api_sign_in(service.url, "bruno", ACCOUNTS["bruno"])
    api_sign_in(service.url, "sam", ACCOUNTS["sam"])
    claimed_history(
        service.url,
        service.secret,
        service.data_dir / "handoff.db",
        bruno,
        team="billing",
        minutes=6,
    )
    run = uuid.uuid4().hex[:6]
    first, second, third = (
        inbox_world.rasa.hand_off(
            f"wait-{run}-{n}", team="billing", priority="normal", customer_turns=TURNS
        )
        for n in (1, 2, 3)
    )
    unknown = inbox_world.rasa.hand_off(f"wait-{run}-none", team=None, customer_turns=TURNS)
    # Two attendants: the first two wait one round of six minutes, the third two (12 -> 10).
    assert [t["expected_wait_minutes"] for t in (first, second, third)] == [6, 6, 10]
    assert unknown["expected_wait_seconds"] is None  # no team: no claims to learn a pace from

    screen = screens("expected-wait", inbox_world.inbox)
    page = screen.page
    sign_in(screen, "sam")
    row = page.locator(".ticket-row", has_text=f"wait-{run}-1")
    expect(row.locator(".expected-wait")).to_have_text("expected wait about 6 min")
    last = page.locator(".ticket-row", has_text=f"wait-{run}-3")
    expect(last.locator(".expected-wait")).to_have_text("expected wait about 10 min")
    none = page.locator(".ticket-row", has_text=f"wait-{run}-none")
    expect(none).to_be_visible()
    expect(none.locator(".expected-wait")).to_have_count(0)
    screen.shot("01-queue")

    last.click()
    expect(page.locator("#ticket-title")).to_have_text(f"Ticket #{third['id']}")
    summary = page.locator("#summary")
    wait = summary.locator(".pair", has=page.locator(".expected-wait"))
    expect(wait.locator("dt")).to_have_text("Expected wait")
    expect(wait.locator("dd")).to_have_text("about 10 min (as the customer was told)")
    screen.shot("02-summary")
    none.click()
    expect(page.locator("#ticket-title")).to_have_text(f"Ticket #{unknown['id']}")
    expect(page.locator("#summary .summary-reason")).to_be_visible()
    expect(page.locator("#summary .expected-wait")).to_have_count(0)
    assert screen.unexpected_errors == []


@pytest.fixture(scope="module")
def quick_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A service of its own whose automation passes run twice a second, with a connector
    listener that answers the wait update as Rasa's connector does when it told the customer."""
    folder = tmp_path_factory.mktemp("wait-service")
    secret = secrets.token_hex(16)
    seed = folder / "seed.yml"
    seed.write_text(SEED)
    connector = ConnectorListener(secret, answers={"wait": {"notice": "delivered"}})
    service = ServiceProcess(
        folder,
        seed,
        secret,
        connector.url,
        extra_env={"HANDOFF_AUTOMATION_INTERVAL_SECONDS": "0.3"},
    )
    service.start()
    try:
        yield service
    finally:
        service.stop()
        connector.close()


def test_a_wait_that_grew_changes_live_on_the_row(quick_service, screens) -> None:
    """Told 12 minutes (three ahead, bruno and sam signed in, a 6-minute pace); bruno signs out,
    the wait is 24 minutes, the customer is told "about 25 minutes": the row and the timeline
    change while sam looks at them."""
    url, secret = quick_service.url, quick_service.secret
    bruno = api_sign_in(url, "bruno", ACCOUNTS["bruno"])
    api_sign_in(url, "sam", ACCOUNTS["sam"])
    claimed_history(
        url, secret, quick_service.data_dir / "handoff.db", bruno, team="billing", minutes=6
    )
    rasa = RasaSide(url, secret)
    for n in range(3):
        rasa.hand_off(f"ahead-{n}", team="billing", priority="normal", customer_turns=TURNS)
    ticket = rasa.hand_off("grows", team="billing", priority="normal", customer_turns=TURNS)
    assert ticket["expected_wait_minutes"] == 10  # 12 minutes, in steps of five

    screen = screens("wait-update", f"{url}/inbox/")
    page = screen.page
    sign_in(screen, "sam")
    row = page.locator(".ticket-row", has_text="grows")
    expect(row.locator(".expected-wait")).to_have_text("expected wait about 10 min")
    row.click()
    expect(page.locator("#ticket-title")).to_have_text(f"Ticket #{ticket['id']}")

    api_sign_out(url, bruno)

    expect(row.locator(".expected-wait")).to_have_text("expected wait about 25 min")
    expect(page.locator("#summary .expected-wait")).to_have_text("about 25 min")
    expect(page.locator("#summary")).to_contain_text("updated; as the customer was told")
    expect(page.locator('.timeline-item[data-action="wait_update"]')).to_contain_text(
        "Customer told a longer wait"
    )
    screen.shot("01-updated")
    assert screen.unexpected_errors == []
