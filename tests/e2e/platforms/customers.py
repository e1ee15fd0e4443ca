"""A customer on each platform, as the tests talk to them: say something, see what arrived.

`say` goes through the platform's webhook into Rasa (signed as the platform signs it); what
Rasa sent back is read from the stand-in's log, in the platform's own format.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from tests.e2e.platforms.meta import MetaAccount, MetaGraph
from tests.e2e.platforms.recording import CONTENT, Sent, SentLog
from tests.e2e.platforms.slack import Slack
from tests.e2e.platforms.telegram import Telegram
from tests.e2e.platforms.twilio import Twilio


@dataclass
class PlatformCustomer:
    channel: str  # Rasa's name of the channel, as the ticket shows it
    conversation_id: str  # Rasa's sender id
    recipient: str  # how the platform names them in its send API
    sent: SentLog

    def _say(self, text: str) -> tuple[int, str]:
        raise NotImplementedError

    def writes(self, text: str) -> None:
        """`say` for a test without an event loop (the browser tests)."""
        status, body = self._say(text)
        assert status == 200, f"the webhook answered {status}: {body}"

    async def say(self, text: str) -> None:
        await asyncio.to_thread(self.writes, text)

    async def next(self, kinds: Iterable[str] = CONTENT, accepted: bool | None = True) -> Sent:
        return await asyncio.to_thread(self.sent.next, self.recipient, tuple(kinds), 60.0, accepted)

    async def say_and_hear(self, text: str) -> str:
        await self.say(text)
        return (await self.next(("text",))).text or ""

    def unread(self, kinds: Iterable[str] = CONTENT) -> list[Sent]:
        return self.sent.unread(self.recipient, kinds)


class MessengerCustomer(PlatformCustomer):
    def __init__(self, graph: MetaGraph, account: MetaAccount, user_id: str) -> None:
        super().__init__(account.channel, user_id, user_id, account.sent)
        self.graph, self.account = graph, account

    def _say(self, text: str) -> tuple[int, str]:
        return self.graph.customer_writes(self.account, self.recipient, text)

    def went_quiet(self, seconds: float) -> None:
        self.graph.customer_went_quiet(self.account, self.recipient, seconds)


class WhatsAppCustomer(PlatformCustomer):
    def __init__(self, twilio: Twilio, number: str) -> None:
        address = f"whatsapp:{number}"
        super().__init__("twilio", address, address, twilio.account.sent)
        self.twilio = twilio

    def _say(self, text: str) -> tuple[int, str]:
        status, body = self.twilio.customer_writes(self.recipient, text)
        return (200 if status == 204 else status), body  # Rasa's twilio channel answers 204


class TelegramCustomer(PlatformCustomer):
    def __init__(self, telegram: Telegram, chat_id: int) -> None:
        super().__init__("telegram", str(chat_id), str(chat_id), telegram.bot.sent)
        self.telegram, self.chat_id = telegram, chat_id

    def _say(self, text: str) -> tuple[int, str]:
        return self.telegram.customer_writes(self.chat_id, text)


class SlackCustomer(PlatformCustomer):
    def __init__(self, slack: Slack, user: str) -> None:
        super().__init__("slack", user, user, slack.app.sent)
        self.slack = slack

    def _say(self, text: str) -> tuple[int, str]:
        return self.slack.customer_writes(self.recipient, text)

    @property
    def dm_channel(self) -> str:
        return self.slack.dm_channel(self.recipient)


def rasa_remembers_older(stack: Any, conversation_id: str, seconds: float) -> None:
    """As if the whole conversation in Rasa's tracker store had happened `seconds` earlier: what
    a day of silence leaves there (the stack's SQL tracker store on SQLite). Every event moves,
    since Rasa finds the current session by its start's timestamp."""
    with closing(sqlite3.connect(stack.data_dir / "tracker.db", timeout=30)) as db, db:
        rows = db.execute(
            "SELECT id, data FROM events WHERE sender_id = ?", (conversation_id,)
        ).fetchall()
        assert rows, f"no event of {conversation_id} in the tracker store"
        for row_id, data in rows:
            event = json.loads(data)
            event["timestamp"] -= seconds
            db.execute(
                "UPDATE events SET data = ?, timestamp = ? WHERE id = ?",
                (json.dumps(event), event["timestamp"], row_id),
            )
