"""What a platform stand-in received from Rasa.

The stand-ins run in the gateway's threads; a test reads from them with `asyncio.to_thread` and
waits on a condition, never on a sleep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

DEFAULT_TIMEOUT_S = 60.0
CONTENT = ("text", "image", "file", "buttons")


@dataclass(frozen=True)
class Sent:
    """One call of a platform's send API, as the platform understood it."""

    recipient: str
    kind: str  # text, image, file, buttons, typing_on, typing_off, mark_seen, ...
    text: str | None = None
    url: str | None = None
    accepted: bool = True
    error: str | None = None  # the platform's refusal, when not accepted
    raw: dict[str, Any] = field(default_factory=dict)


class SentLog:
    """Everything a stand-in received, in order, with a cursor per recipient and kinds."""

    def __init__(self) -> None:
        self.items: list[Sent] = []
        self._cursors: dict[tuple[str, tuple[str, ...]], int] = {}
        self._changed = threading.Condition()

    def add(self, item: Sent) -> None:
        with self._changed:
            self.items.append(item)
            self._changed.notify_all()

    def of(self, recipient: str, kinds: Iterable[str] = CONTENT) -> list[Sent]:
        kinds = tuple(kinds)
        with self._changed:
            return [i for i in self.items if i.recipient == recipient and i.kind in kinds]

    def next(
        self,
        recipient: str,
        kinds: Iterable[str] = CONTENT,
        timeout: float = DEFAULT_TIMEOUT_S,
        accepted: bool | None = True,
    ) -> Sent:
        """The next item for `recipient` of one of `kinds` not returned before (accepted ones
        only, unless `accepted` is None or False)."""
        key = (recipient, tuple(kinds))
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                start = self._cursors.get(key, 0)
                for index in range(start, len(self.items)):
                    item = self.items[index]
                    if self._matches(item, key, accepted):
                        self._cursors[key] = index + 1
                        return item
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        (i.kind, i.text, i.error) for i in self.items if i.recipient == recipient
                    ]
                    raise TimeoutError(
                        f"no {'/'.join(key[1])} for {recipient} within {timeout} s; "
                        f"received for them: {seen}"
                    )
                self._changed.wait(remaining)

    def unread(self, recipient: str, kinds: Iterable[str] = CONTENT) -> list[Sent]:
        """Items for `recipient` after the cursor of `kinds`, without moving it."""
        key = (recipient, tuple(kinds))
        with self._changed:
            start = self._cursors.get(key, 0)
            return [i for i in self.items[start:] if self._matches(i, key, None)]

    @staticmethod
    def _matches(item: Sent, key: tuple[str, tuple[str, ...]], accepted: bool | None) -> bool:
        recipient, kinds = key
        return (
            item.recipient == recipient
            and item.kind in kinds
            and (accepted is None or item.accepted == accepted)
        )

    def wait_until(self, predicate: Callable[[list[Sent]], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.items):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition on sent items not met within {timeout} s")
                self._changed.wait(remaining)
