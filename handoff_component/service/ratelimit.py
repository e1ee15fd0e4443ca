"""Sign-in throttling: after N failed sign-ins in a window, refuse more for that name or address.

Two keys are counted, so neither a guesser spraying many usernames from one address nor a botnet
aiming at one username gets unlimited tries: the username (case-folded) and the client address.
A refused attempt is not even checked against the password, so a correct guess made while locked
out learns nothing. A successful sign-in clears its username's count but not its address's (an
attacker holding one valid account must not be able to reset their address's count with it).

The failures are rows of `login_failures` in the service's database, shared by every replica: a
guesser whose attempts a load balancer spreads over N replicas meets the same limit as with one.
Rows older than the window are deleted as new failures arrive, so the table stays small.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select

from handoff_component.service.db import Database
from handoff_component.service.errors import TooManyRequests
from handoff_component.service.models import login_failures


def keys_of(username: str, address: str | None) -> list[str]:
    keys = [f"user:{username.casefold()}"[:300]]
    if address:
        keys.append(f"ip:{address}"[:300])
    return keys


class LoginLimiter:
    def __init__(
        self,
        db: Database,
        *,
        max_failures: int,
        window: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.max_failures = max_failures
        self.window = window
        self.clock = clock

    async def check(self, username: str, address: str | None) -> None:
        """Raise `TooManyRequests` (with the seconds to wait) if either key is locked out."""
        if self.max_failures <= 0:
            return
        now = self.clock()
        wait = 0.0
        async with self.db.read() as conn:
            for key in keys_of(username, address):
                recent = (
                    await conn.execute(
                        select(login_failures.c.failed_at)
                        .where(
                            login_failures.c.key == key,
                            login_failures.c.failed_at > now - self.window,
                        )
                        .order_by(login_failures.c.failed_at.desc())
                        .limit(self.max_failures)
                    )
                ).all()
                if len(recent) >= self.max_failures:
                    # Free again when the oldest failure that keeps the count at the limit expires.
                    oldest = recent[-1].failed_at
                    wait = max(wait, (oldest + self.window - now).total_seconds())
        if wait > 0:
            raise TooManyRequests(
                "too many failed sign-ins; wait before trying again",
                field="username",
                retry_after=max(1, math.ceil(wait)),
            )

    async def failed(self, username: str, address: str | None) -> None:
        if self.max_failures <= 0:
            return
        now = self.clock()
        async with self.db.write() as conn:
            await conn.execute(
                delete(login_failures).where(login_failures.c.failed_at <= now - self.window)
            )
            await conn.execute(
                insert(login_failures),
                [{"key": key, "failed_at": now} for key in keys_of(username, address)],
            )

    async def succeeded(self, username: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                delete(login_failures).where(login_failures.c.key == keys_of(username, None)[0])
            )
