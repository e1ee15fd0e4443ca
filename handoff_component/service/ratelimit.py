"""Sign-in throttling: after N failed sign-ins in a window, refuse more for that account or address.

Two keys are counted, each with its own limit, so neither a guesser spraying many usernames from
one address nor a botnet aiming at one username gets unlimited tries: the account (username,
case-folded; `max_failures`, 5 by default) and the client address (`max_failures_per_address`, 20
by default, higher because an office behind one NAT shares it). A refused attempt is not even
checked against the password, so a correct guess made while locked out learns nothing. A
successful sign-in clears its account's count but not its address's (an attacker holding one
valid account must not be able to reset their address's count with it).

Atomic: an attempt first *reserves* a failure for each key, in one transaction that also counts
them (`reserve`), and only then is the password checked; a success takes the reservation back
(`succeeded`), a failure leaves it counted. The count and the reservation cannot be split by a
concurrent attempt: on PostgreSQL the transaction takes an advisory lock per key (in a fixed
order), on SQLite the write transaction holds the database's write lock. Sixty attempts sent at
once therefore get exactly `max_failures` password checks, not sixty.

The rows are in `login_failures`, shared by every replica: a guesser whose attempts a load
balancer spreads over N replicas meets the same limit as with one. Rows older than the window are
deleted as new attempts arrive, so the table stays small.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select, text

from handoff_component.service.db import Database
from handoff_component.service.errors import TooManyRequests
from handoff_component.service.models import login_failures

_LOCK_KEY = text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 4242))")


def account_key(username: str) -> str:
    return f"user:{username.casefold()}"[:300]


def address_key(address: str) -> str:
    return f"ip:{address}"[:300]


@dataclass(frozen=True)
class Reservation:
    """The failure rows counted for one attempt while its password is checked."""

    username: str
    row_ids: tuple[int, ...]
    address_row_id: int | None


class LoginLimiter:
    def __init__(
        self,
        db: Database,
        *,
        max_failures: int,
        window: timedelta,
        clock: Callable[[], datetime],
        max_failures_per_address: int | None = None,
    ) -> None:
        self.db = db
        self.max_failures = max_failures
        self.max_failures_per_address = (
            max_failures if max_failures_per_address is None else max_failures_per_address
        )
        self.window = window
        self.clock = clock

    def _limits(self, username: str, address: str | None) -> list[tuple[str, int]]:
        limits = [(account_key(username), self.max_failures)]
        if address:
            limits.append((address_key(address), self.max_failures_per_address))
        return [(key, limit) for key, limit in limits if limit > 0]

    async def reserve(self, username: str, address: str | None) -> Reservation:
        """Count this attempt as a failure until told otherwise; `TooManyRequests` if locked."""
        limits = self._limits(username, address)
        if not limits:
            return Reservation(username, (), None)
        now = self.clock()
        wait = 0.0
        async with self.db.write() as conn:
            if self.db.dialect == "postgresql":
                for key, _limit in sorted(limits):
                    await conn.execute(_LOCK_KEY, {"key": key})
            await conn.execute(
                delete(login_failures).where(login_failures.c.failed_at <= now - self.window)
            )
            for key, limit in limits:
                recent = (
                    await conn.execute(
                        select(login_failures.c.failed_at)
                        .where(
                            login_failures.c.key == key,
                            login_failures.c.failed_at > now - self.window,
                        )
                        .order_by(login_failures.c.failed_at.desc())
                        .limit(limit)
                    )
                ).all()
                if len(recent) >= limit:
                    # Free again when the oldest failure that keeps the count at the limit expires.
                    oldest = recent[-1].failed_at
                    wait = max(wait, (oldest + self.window - now).total_seconds(), 1.0)
            if wait > 0:
                raise TooManyRequests(
                    "too many failed sign-ins; wait before trying again",
                    field="username",
                    retry_after=max(1, math.ceil(wait)),
                )
            ids = []
            for key, _limit in limits:
                result = await conn.execute(insert(login_failures).values(key=key, failed_at=now))
                ids.append(int(result.inserted_primary_key[0]))
        address_row = ids[1] if len(ids) > 1 else None
        return Reservation(username, tuple(ids), address_row)

    async def succeeded(self, reservation: Reservation) -> None:
        """The password was right: clear the account's failures and this attempt's address row."""
        if not reservation.row_ids:
            return
        async with self.db.write() as conn:
            await conn.execute(
                delete(login_failures).where(
                    login_failures.c.key == account_key(reservation.username)
                )
            )
            if reservation.address_row_id is not None:
                await conn.execute(
                    delete(login_failures).where(login_failures.c.id == reservation.address_row_id)
                )

    async def release(self, reservation: Reservation) -> None:
        """The attempt never reached a verdict (the service was busy): count nothing for it."""
        if not reservation.row_ids:
            return
        async with self.db.write() as conn:
            await conn.execute(
                delete(login_failures).where(login_failures.c.id.in_(reservation.row_ids))
            )

    async def failures(self, key: str) -> int:
        """How many failures `key` has in the window now (for tests and operators)."""
        async with self.db.read() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count()).where(
                            login_failures.c.key == key,
                            login_failures.c.failed_at > self.clock() - self.window,
                        )
                    )
                ).scalar()
                or 0
            )
