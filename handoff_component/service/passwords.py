"""Attendants' passwords: scrypt hashes, computed off the event loop with a bounded queue.

One scrypt (n=2^14, r=8, p=1) costs about 50 ms of CPU. Run on the event loop, a burst of sign-ins
froze every other request (a health check waited 6.8 s behind 120 of them). Here each hash runs
in a small thread pool (hashlib.scrypt releases the GIL), and at most `workers + queue` wait for
it: beyond that a sign-in is refused at once with 503 and `Retry-After` rather than queued
without end, so a flood of sign-ins cannot hold the service's memory or its other requests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from handoff_component.service.errors import ServiceUnavailable

# The standard library's interactive-login strength.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
T = TypeVar("T")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    encoded = base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()
    return f"scrypt$n={_SCRYPT['n']},r={_SCRYPT['r']},p={_SCRYPT['p']}${encoded}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, params, salt_b64, digest_b64 = stored.split("$")
        if scheme != "scrypt":
            return False
        options = {k: int(v) for k, v in (part.split("=") for part in params.split(","))}
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(digest_b64)
    except (ValueError, TypeError):
        return False
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        dklen=len(expected),
        maxmem=64 * 1024 * 1024,
        **options,
    )
    return hmac.compare_digest(digest, expected)


# Checked against when the username is unknown, so a wrong name costs as long as a wrong password.
DUMMY_HASH = hash_password(secrets.token_hex(8))


class PasswordHasher:
    """Hashes and checks passwords in `workers` threads; refuses work beyond `queue` waiting."""

    def __init__(
        self,
        workers: int = 2,
        queue: int = 32,
        *,
        check: Callable[[str, str], bool] = check_password,
        make: Callable[[str], str] = hash_password,
    ) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="scrypt"
        )
        self._capacity = max(1, workers) + max(0, queue)
        self._check = check
        self._make = make
        self.in_flight = 0

    async def check(self, password: str, stored: str) -> bool:
        return await self._run(self._check, password, stored)

    async def hash(self, password: str) -> str:
        return await self._run(self._make, password)

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        if self.in_flight >= self._capacity:
            raise ServiceUnavailable(
                "too many sign-ins are being checked right now; try again in a moment",
                retry_after=1,
            )
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self.in_flight -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
