"""Sign-in throttling: after N failed sign-ins in a window, refuse more for that name or address.

Two keys are counted, so neither a guesser spraying many usernames from one address nor a botnet
aiming at one username gets unlimited tries: the username (case-folded) and the client address.
A refused attempt is not even checked against the password, so a correct guess made while locked
out learns nothing. A successful sign-in clears its username's count but not its address's (an
attacker holding one valid account must not be able to reset their address's count with it).

The counts live in this process's memory: with several replicas each keeps its own, so the limit
a client meets is at most N per replica. Memory is bounded: old failures are pruned on each call
and at most `max_keys` keys are kept (the stalest dropped first).
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import datetime, timedelta

from handoff_component.service.errors import TooManyRequests


class LoginLimiter:
    def __init__(
        self,
        *,
        max_failures: int,
        window: timedelta,
        clock: Callable[[], datetime],
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[datetime]] = OrderedDict()

    @staticmethod
    def keys(username: str, address: str | None) -> list[str]:
        keys = [f"user:{username.casefold()}"]
        if address:
            keys.append(f"ip:{address}")
        return keys

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and now - failures[0] >= self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def check(self, username: str, address: str | None) -> None:
        """Raise `TooManyRequests` (with the seconds to wait) if either key is locked out."""
        if self.max_failures <= 0:
            return
        now = self.clock()
        wait = 0.0
        for key in self.keys(username, address):
            failures = self._recent(key, now)
            if len(failures) >= self.max_failures:
                # Free again when the oldest failure that keeps the count at the limit expires.
                oldest = failures[len(failures) - self.max_failures]
                wait = max(wait, (oldest + self.window - now).total_seconds())
        if wait > 0:
            raise TooManyRequests(
                "too many failed sign-ins; wait before trying again",
                field="username",
                retry_after=max(1, math.ceil(wait)),
            )

    def failed(self, username: str, address: str | None) -> None:
        now = self.clock()
        for key in self.keys(username, address):
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            self._failures.move_to_end(key)
        while len(self._failures) > self.max_keys:
            self._failures.popitem(last=False)

    def succeeded(self, username: str) -> None:
        self._failures.pop(self.keys(username, None)[0], None)
