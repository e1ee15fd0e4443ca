"""The real peers of an end-to-end journey: a socket.io customer, a callback customer, an attendant.

Each waits for an event (a message arriving, a ticket changing) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import queue
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

import aiohttp
import socketio

from tests.local_http import QuietHandler, ThreadedPeer
from tests.waiting import async_wait_until

DEFAULT_TIMEOUT_S = 60.0


class SocketCustomer:
    """A customer on Rasa's socket.io channel, as the web widget is, with a persistent session."""

    def __init__(self, rasa_url: str, session_id: str) -> None:
        self.rasa_url = rasa_url
        self.session_id = session_id
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.typing: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._confirmed = asyncio.Event()
        self.sio.on("bot_uttered", self._on_bot_uttered)
        self.sio.on("session_confirm", self._on_session_confirm)
        self.sio.on("handoff_typing", self._on_typing)

    async def _on_bot_uttered(self, data: dict[str, Any]) -> None:
        await self.received.put(data)

    async def _on_typing(self, data: dict[str, Any]) -> None:
        await self.typing.put(data)

    async def _on_session_confirm(self, *_: Any) -> None:
        self._confirmed.set()

    async def connect(self) -> None:
        await self.sio.connect(self.rasa_url, socketio_path="/socket.io", transports=["websocket"])
        await self.sio.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(self._confirmed.wait(), DEFAULT_TIMEOUT_S)

    async def say(self, text: str) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})

    async def next_message(self, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
        return await asyncio.wait_for(self.received.get(), timeout)

    async def say_and_hear(self, text: str, timeout: float = DEFAULT_TIMEOUT_S) -> str:
        """Say something and return the text of the first message that comes back."""
        await self.say(text)
        return (await self.next_message(timeout)).get("text", "")

    def pending_texts(self) -> list[str]:
        texts = []
        while not self.received.empty():
            texts.append(self.received.get_nowait().get("text", ""))
        return texts

    async def close(self) -> None:
        await self.sio.disconnect()


class CallbackListener:
    """The customer's side of Rasa's callback channel: an HTTP server Rasa posts bot messages to.

    `failing[recipient] = 500` makes it answer that status for one conversation, as a customer's
    server that is failing would; those messages are counted in `refused`, never received.
    """

    def __init__(self) -> None:
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        self.failing: dict[str, int] = {}
        self.refused: list[dict[str, Any]] = []
        listener = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                message = json.loads(self.rfile.read(length) or b"{}")
                status = listener.failing.get(str(message.get("recipient_id")), 200)
                if status == 200:
                    listener.messages.put(message)
                else:
                    listener.refused.append(message)
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"failing")

        self.peer = ThreadedPeer(Handler)
        self.url = f"{self.peer.url}/bot"

    def next_message(self, recipient: str, timeout: float = DEFAULT_TIMEOUT_S) -> dict[str, Any]:
        """The next message for `recipient` (messages for other conversations are kept aside)."""
        deadline = time.monotonic() + timeout
        aside = []
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no callback message for {recipient} in {timeout} s")
                message = self.messages.get(timeout=remaining)
                if message.get("recipient_id") == recipient:
                    return message
                aside.append(message)
        except queue.Empty:
            raise TimeoutError(f"no callback message for {recipient} in {timeout} s") from None
        finally:
            for message in aside:
                self.messages.put(message)

    def texts_for(self, recipient: str) -> list[str]:
        """Every message received so far for `recipient`, taken off the queue, in order."""
        texts, aside = [], []
        while not self.messages.empty():
            message = self.messages.get_nowait()
            if message.get("recipient_id") == recipient:
                texts.append(message.get("text", ""))
            else:
                aside.append(message)
        for message in aside:
            self.messages.put(message)
        return texts

    def close(self) -> None:
        self.peer.close()


class Attendant:
    """An attendant using the handoff service's HTTP API, as the Inbox does."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url
        self.session = aiohttp.ClientSession()
        self.headers: dict[str, str] = {}
        self.profile: dict[str, Any] = {}

    async def sign_in(self, username: str, password: str) -> None:
        body = await self.call(
            "POST", "/api/auth/login", {"username": username, "password": password}
        )
        self.headers = {"Authorization": f"Bearer {body['token']}"}
        self.profile = body["attendant"]

    async def call(
        self, method: str, path: str, payload: Any = None, expect: int | None = None
    ) -> Any:
        async with self.session.request(
            method, self.service_url + path, json=payload, headers=self.headers
        ) as response:
            body = await response.json(content_type=None)
            if expect is not None:
                assert response.status == expect, (response.status, body)
            elif response.status >= 400:
                raise AssertionError(f"{method} {path} -> {response.status}: {body}")
            return body

    async def upload(self, ticket_id: int, name: str, content: bytes, declared: str) -> dict:
        """Upload a file to the ticket, as the Inbox does; the stored file's JSON."""
        query = urllib.parse.urlencode({"name": name})
        async with self.session.post(
            f"{self.service_url}/api/tickets/{ticket_id}/attachments?{query}",
            data=content,
            headers={**self.headers, "Content-Type": declared},
        ) as response:
            body = await response.json(content_type=None)
            assert response.status == 201, (response.status, body)
            return dict(body["attachment"])

    async def ticket_of(self, conversation_id: str, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
        """Wait until the conversation has a ticket; return its detail."""

        async def find() -> dict | None:
            query = urllib.parse.urlencode({"conversation_id": conversation_id})
            listing = await self.call("GET", f"/api/tickets?{query}")
            tickets = listing.get("tickets", [])
            return tickets[0] if tickets else None

        ticket = await async_wait_until(
            find, timeout=timeout, what=f"a ticket of {conversation_id}"
        )
        return (await self.call("GET", f"/api/tickets/{ticket['id']}"))["ticket"]

    async def wait_for_ticket(
        self, ticket_id: int, predicate: Callable[[dict], bool], timeout: float = DEFAULT_TIMEOUT_S
    ) -> dict:
        async def check() -> dict | None:
            ticket = (await self.call("GET", f"/api/tickets/{ticket_id}"))["ticket"]
            return ticket if predicate(ticket) else None

        return await async_wait_until(check, timeout=timeout, what=f"ticket {ticket_id}")

    async def close(self) -> None:
        await self.session.close()


def tracker_of(rasa_url: str, conversation_id: str) -> dict[str, Any]:
    """The conversation's tracker, as Rasa's HTTP API gives it (every event, all sessions)."""
    sender = urllib.parse.quote(conversation_id, safe="")
    url = f"{rasa_url}/conversations/{sender}/tracker?include_events=ALL"
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def rest_say(
    rasa_url: str, sender: str, text: str, timeout: float = DEFAULT_TIMEOUT_S
) -> list[str]:
    """What the bot answers a customer on Rasa's rest channel, as texts in order."""
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return [message.get("text", "") for message in json.load(response)]
