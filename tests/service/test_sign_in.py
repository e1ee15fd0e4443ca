"""Sign-in under attack and under load: the throttle holds in a burst, counts the right client,
the password hashing leaves the service answering, and a session can be ended for good."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

import pytest

from handoff_component.service.passwords import PasswordHasher, check_password
from tests.service.support import PASSWORD, RunningService, at_once
from tests.waiting import async_wait_until

TRIES = 5


def _statuses(replies: list[Any]) -> Counter[int]:
    return Counter(reply.status for reply in replies)


async def test_a_burst_of_guesses_for_one_account_gets_exactly_the_limit_of_checks(
    service: RunningService,
) -> None:
    """The count and the attempt are one step: 60 guesses sent at once, 5 checked, 55 refused."""
    limit = service.ctx.settings.login_max_failures
    for attempt in range(TRIES):
        service.clock.advance(minutes=16)  # the last try's failures leave the window
        username = f"ana{attempt}"
        await service.attendant(username, teams=["support"])

        burst = await at_once(service.login_attempt(username, f"guess-{n}") for n in range(60))
        afterwards = await service.login_attempt(username, PASSWORD)

        assert _statuses(burst) == Counter({401: limit, 429: 60 - limit}), attempt
        assert afterwards.status == 429


class TestBehindATrustedProxy:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"proxies_count": 1}

    @staticmethod
    def _from(client: str) -> dict[str, str]:
        # What nginx sends: whatever the client claimed, then the client's own address.
        return {"X-Forwarded-For": f"10.9.9.9, {client}"}

    async def test_failures_of_other_attendants_behind_the_proxy_lock_nobody_else_out(
        self, service: RunningService
    ) -> None:
        await service.attendant("ana", teams=["support"])
        others = [
            await service.login_attempt(f"user{n}", "guess-guess", self._from(f"198.51.100.{n}"))
            for n in range(10)
        ]

        ana = await service.login_attempt("ana", PASSWORD, self._from("198.51.100.200"))

        assert [r.status for r in others] == [401] * 10
        assert ana.status == 200, ana.body

    async def test_the_account_and_the_address_are_limited_separately(
        self, service: RunningService
    ) -> None:
        await service.attendant("ana", teams=["support"])
        await service.attendant("bob", teams=["support"])
        limit = service.ctx.settings.login_max_failures
        on_ana = [
            await service.login_attempt("ana", f"guess-{n}", self._from(f"203.0.113.{n}"))
            for n in range(limit)
        ]

        ana_elsewhere = await service.login_attempt("ana", PASSWORD, self._from("203.0.113.99"))
        bob_same_address = await service.login_attempt("bob", PASSWORD, self._from("203.0.113.1"))

        assert [r.status for r in on_ana] == [401] * limit
        assert ana_elsewhere.status == 429  # the account is locked, wherever from
        assert bob_same_address.status == 200  # the addresses are not

    async def test_one_address_spraying_usernames_is_locked(self, service: RunningService) -> None:
        await service.attendant("ana", teams=["support"])
        limit = service.ctx.settings.login_max_failures_per_address
        spray = [
            await service.login_attempt(f"user{n}", "guess", self._from("192.0.2.7"))
            for n in range(limit)
        ]

        same = await service.login_attempt("ana", PASSWORD, self._from("192.0.2.7"))
        other = await service.login_attempt("ana", PASSWORD, self._from("192.0.2.8"))

        assert [r.status for r in spray] == [401] * limit
        assert (same.status, other.status) == (429, 200)


async def test_without_a_trusted_proxy_a_forged_forwarded_address_changes_nothing(
    service: RunningService,
) -> None:
    await service.attendant("ana", teams=["support"])
    limit = service.ctx.settings.login_max_failures_per_address
    spray = [
        await service.login_attempt(f"user{n}", "guess", {"X-Forwarded-For": f"198.51.100.{n}"})
        for n in range(limit)
    ]

    locked = await service.login_attempt("ana", PASSWORD, {"X-Forwarded-For": "198.51.100.250"})

    assert [r.status for r in spray] == [401] * limit
    assert locked.status == 429  # every attempt came from one peer, whatever it claimed


class GatedCheck:
    """The real password check, held until the test opens the gate (or a safety timer does)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.gate = threading.Event()
        self.first_arrived = asyncio.Event()
        self._loop = loop

    def __call__(self, password: str, stored: str) -> bool:
        self._loop.call_soon_threadsafe(self.first_arrived.set)
        self.gate.wait(timeout=30)
        return check_password(password, stored)


async def _until(condition: Any) -> None:
    """Wait for a condition no event announces (the hasher's queue filling), bounded."""
    await async_wait_until(condition, what="the password checks in flight")


@pytest.fixture
async def gated(service: RunningService) -> Any:
    """Ana exists (not signed in), and every password check waits for the test's gate."""
    await service.ctx.attendants.create(
        username="ana", display_name="Ana", password=PASSWORD, team_names=["support"]
    )
    check = GatedCheck(asyncio.get_running_loop())
    hasher = PasswordHasher(workers=1, queue=2, check=check)
    service.ctx.attendants.passwords = hasher
    yield check
    check.gate.set()
    hasher.close()


async def test_a_burst_of_sign_ins_does_not_stop_the_service_answering(
    service: RunningService, gated: GatedCheck
) -> None:
    # Before passwords left the event loop, a held check held every request: open the gate after
    # a while, so such a failure shows as a wrong order instead of a hang.
    safety = threading.Timer(10, gated.gate.set)
    safety.start()
    try:
        sign_ins = [asyncio.ensure_future(service.login_attempt("ana", PASSWORD)) for _ in range(3)]
        await asyncio.wait_for(gated.first_arrived.wait(), timeout=20)

        health = await service.call("GET", "/health")
        pending_when_healthy = sum(not task.done() for task in sign_ins)
        gated.gate.set()
        results = await asyncio.gather(*sign_ins)
    finally:
        safety.cancel()

    assert health.status == 200
    assert pending_when_healthy == 3
    assert [r.status for r in results] == [200, 200, 200]


async def test_sign_ins_beyond_the_hashing_queue_are_refused_at_once(
    service: RunningService, gated: GatedCheck
) -> None:
    held = [asyncio.ensure_future(service.login_attempt("ana", PASSWORD)) for _ in range(3)]
    await _until(lambda: service.ctx.attendants.passwords.in_flight == 3)

    refused = await service.login_attempt("ana", PASSWORD)
    gated.gate.set()
    results = await asyncio.gather(*held)

    assert refused.status == 503
    assert refused.headers["Retry-After"] == "1"
    assert [r.status for r in results] == [200, 200, 200]
    # A refusal for being busy is not a failed guess: the account is not one step closer to a lock.
    assert await service.ctx.login_limiter.failures("user:ana") == 0


async def _me(service: RunningService, token: str) -> int:
    reply = await service.call("GET", "/api/me", headers={"Authorization": f"Bearer {token}"})
    return reply.status


async def test_a_signed_out_token_stops_working_and_other_sessions_do_not(
    service: RunningService,
) -> None:
    phone = await service.attendant("ana", teams=["support"])
    laptop = await service.login("ana")

    out = await service.call(
        "POST", "/api/auth/logout", headers={"Authorization": f"Bearer {phone.token}"}
    )

    assert out.status == 200
    assert await _me(service, phone.token) == 401
    assert await _me(service, laptop.token) == 200


async def test_a_password_change_ends_every_session_of_the_attendant(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    again = await service.login("ana")
    sam = await service.attendant("sam", role="supervisor")

    changed = await sam.request("PATCH", f"/api/attendants/{ana.id}", {"password": "new-pass-42"})

    assert changed.status == 200
    assert [await _me(service, t) for t in (ana.token, again.token)] == [401, 401]
    assert await _me(service, sam.token) == 200
    assert (await service.login_attempt("ana", "new-pass-42")).status == 200


async def test_a_deactivated_attendants_tokens_stay_dead_after_reactivation(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")

    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"active": False})
    while_off = await _me(service, ana.token)
    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"active": True})

    assert while_off == 401
    assert await _me(service, ana.token) == 401
    assert (await service.login_attempt("ana", PASSWORD)).status == 200


async def test_changing_only_a_display_name_keeps_the_session(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")

    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"display_name": "Ana R."})

    assert await _me(service, ana.token) == 200
