"""Files from the Inbox to a customer on socket.io, with every real process: Rasa trained from
data/, the action server, the handoff service (files in its directory storage), a socket.io
customer (python-socketio, as the widget) and an attendant's Inbox in Chromium.

The attendant attaches a file with the picker, drops a PDF and pastes an image onto the composer
(the browser's own drop and paste events: a DragEvent by `dispatch_event`, a ClipboardEvent),
removes one before sending, and sees a disguised file and an oversized one refused with a clear
message, nothing stored.
The customer receives the image as Rasa's image message (the widget shows it inline) and the PDF
as a link, and both links fetch the very bytes. A file the customer's channel delivered shows in
the thread as a reference, loaded only when the attendant clicks it.
"""

from __future__ import annotations

import asyncio
import base64
import threading
import urllib.request
import uuid
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from playwright.sync_api import expect

from tests import sample_files
from tests.e2e.clients import SocketCustomer

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RASA_TIMEOUT_MS = 45_000
HANDOFF_TEXT = "bringing in a colleague"
T = TypeVar("T")

# A browser-made DataTransfer holding one file, as a drop or a paste carries it.
DATA_TRANSFER = """([name, type, b64]) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const transfer = new DataTransfer();
  transfer.items.add(new File([bytes], name, { type }));
  return transfer;
}"""


class CustomerThread:
    """The async socket.io customer on an event loop of its own, for a synchronous browser test."""

    def __init__(self, rasa_url: str, session_id: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = SocketCustomer(rasa_url, session_id)

    def run(self, work: Coroutine[Any, Any, T], timeout: float = 90) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(timeout)

    def close(self) -> None:
        self.run(self.client.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def customer(bot_stack: Any) -> Iterator[CustomerThread]:
    running = CustomerThread(bot_stack.rasa_url, f"sio-files-{uuid.uuid4().hex[:10]}")
    running.run(running.client.connect())
    try:
        yield running
    finally:
        running.close()


def transfer(page: Any, name: str, mime_type: str, content: bytes) -> Any:
    return page.evaluate_handle(
        DATA_TRANSFER, [name, mime_type, base64.b64encode(content).decode()]
    )


def fetch(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers["Content-Type"]


def test_an_attendant_sends_files_from_the_inbox_to_a_socketio_customer(
    bot_stack: Any, screens: Any, customer: CustomerThread
) -> None:
    conversation = customer.client.session_id
    said = customer.run(customer.client.say_and_hear("I want to talk to a human"))
    assert HANDOFF_TEXT in said, said
    # The customer's channel delivers a photo of their own, by URL in the message's metadata.
    photo_url = f"{bot_stack.service_url}/inbox/favicon.svg"
    customer.run(
        customer.client.sio.emit(
            "user_uttered",
            {
                "message": "here is a photo of the parcel",
                "session_id": conversation,
                "metadata": {"attachments": [{"type": "image", "payload": {"url": photo_url}}]},
            },
        )
    )

    inbox = screens("attachments-inbox", f"{bot_stack.service_url}/inbox/")
    page = inbox.page
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("demo-password-ana")
    page.get_by_role("button", name="Sign in").click()
    page.locator("#stream-state.connected").wait_for()
    page.locator(".ticket-row", has_text=conversation).click(timeout=RASA_TIMEOUT_MS)
    page.get_by_role("button", name="Claim").click()
    expect(page.locator("#ticket-status")).to_have_text("In progress")

    # The customer's own photo is a reference: nothing is fetched until the attendant clicks.
    theirs = page.locator(".msg-customer", has_text="here is a photo of the parcel")
    expect(theirs).to_be_visible(timeout=RASA_TIMEOUT_MS)
    expect(theirs.locator("img")).to_have_count(0)
    theirs.get_by_role("button", name="Show image from").click()
    expect(theirs.locator("img")).to_have_attribute("src", photo_url)
    inbox.shot("01-customer-photo-on-click")

    # Picked, dropped, pasted: each uploaded at once and previewed.
    receipt, invoice, pasted = (
        sample_files.png(),
        sample_files.pdf(),
        sample_files.png(rgb=(0, 90, 200)),
    )
    page.locator("#attachment-file").set_input_files(
        {"name": "receipt.png", "mimeType": "image/png", "buffer": receipt}
    )
    page.locator("#composer").dispatch_event(
        "drop", {"dataTransfer": transfer(page, "invoice.pdf", "application/pdf", invoice)}
    )
    # Playwright's dispatch_event makes a plain Event for "paste" (its clipboardData is lost),
    # so the page dispatches the ClipboardEvent a real paste of a copied image is.
    page.locator("#composer-text").evaluate(
        "(box, transfer) => box.dispatchEvent(new ClipboardEvent('paste', "
        "{clipboardData: transfer, bubbles: true, cancelable: true}))",
        transfer(page, "pasted.png", "image/png", pasted),
    )
    previews = page.locator(".attachment-preview.ready")
    expect(previews).to_have_count(3)
    expect(page.locator('.attachment-preview[data-name="receipt.png"] img')).to_be_visible()
    expect(page.locator('.attachment-preview[data-name="invoice.pdf"]')).to_contain_text("bytes")
    inbox.shot("02-three-previews")
    page.get_by_role("button", name="Remove pasted.png").click()
    expect(previews).to_have_count(2)

    # A program named photo.png and a file over the limit: refused, said plainly, not stored.
    page.locator("#attachment-file").set_input_files(
        {"name": "photo.png", "mimeType": "image/png", "buffer": sample_files.windows_program()}
    )
    error = page.locator("#attachment-error")
    expect(error).to_contain_text("photo.png (sent as image/png) is a Windows program")
    expect(error).to_contain_text("nothing was stored")
    page.locator("#attachment-file").set_input_files(
        {"name": "scan.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-" + b"0" * 12_000_000}
    )
    expect(error).to_contain_text("scan.pdf is 12.0 MB; the limit is 10.0 MB")
    expect(previews).to_have_count(2)
    inbox.shot("03-refusals")
    ticket_id = int(page.url.rsplit("/", 1)[-1])
    listed = page.evaluate(
        "async (id) => (await (await fetch(`/api/tickets/${id}/attachments`)).json()).attachments",
        ticket_id,
    )
    assert sorted(f["name"] for f in listed) == ["invoice.pdf", "receipt.png"]

    page.get_by_label("Message", exact=True).fill("Here are your receipt and invoice.")
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".msg-attendant").last
    expect(sent.locator(".delivery")).to_have_text("Delivered", timeout=RASA_TIMEOUT_MS)
    expect(sent.locator("img")).to_have_attribute("alt", "receipt.png")
    expect(sent.locator("a.file")).to_contain_text("invoice.pdf")
    expect(page.locator(".attachment-preview")).to_have_count(0)
    inbox.shot("04-sent")

    # The customer: the text, the image as Rasa's image message, the PDF as a Markdown link.
    messages = [customer.run(customer.client.next_message()) for _ in range(3)]
    assert messages[0]["text"].endswith(": Here are your receipt and invoice.")
    image_url = messages[1]["attachment"]["payload"]["src"]
    assert messages[1]["attachment"]["type"] == "image"
    link = messages[2]["text"]
    assert link.startswith("\N{PAPERCLIP} [invoice.pdf](") and link.endswith(")")
    pdf_url = link[link.index("](") + 2 : -1]
    assert fetch(image_url) == (receipt, "image/png")
    assert fetch(pdf_url) == (invoice, "application/pdf")
    assert f"{bot_stack.service_url}/files/" in image_url

    # The page asks who is signed in first (401, expected) and the disguised upload was
    # answered 415: those are the only failed requests it logs.
    assert inbox.dialogs == []
    assert [e for e in inbox.unexpected_errors if "status of 415" not in e] == []
    assert sum("status of 415" in e for e in inbox.unexpected_errors) == 1
