"""Browser-facing defences: security headers, the CSRF origin check, sign-in throttling."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from handoff_component import contract
from handoff_component.service.errors import TooManyRequests
from handoff_component.service.models import login_failures
from handoff_component.service.ratelimit import LoginLimiter
from handoff_component.service.tickets import ticket_json
from tests.service.support import (
    PASSWORD,
    SECRET,
    Attendant,
    FakeClock,
    RunningService,
    handoff_payload,
    user_event,
)


async def _ticket(service: RunningService) -> int:
    reply = await service.handoff("conv-sec")
    assert reply.status == 201, reply.body
    return reply.body["ticket"]["id"]


def _cookie(attendant: Attendant, **extra: str) -> dict[str, str]:
    return {"Cookie": f"handoff_session={attendant.token}", **extra}


@pytest.mark.parametrize("path", ["/api/me", "/api/tickets", "/health", "/openapi.json"])
async def test_api_answers_carry_security_headers_and_are_never_cached(
    service: RunningService, path: str
) -> None:
    ana = await service.attendant("ana", teams=["support"])

    signed_in = await ana.get(path)
    anonymous = await service.call("GET", path)

    for reply in (signed_in, anonymous):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Referrer-Policy"] == "no-referrer"
        assert reply.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in reply.headers["Content-Security-Policy"]
        assert reply.headers["Cache-Control"] == "no-store"


async def test_error_answers_carry_the_headers_too(service: RunningService) -> None:
    refused = await service.call("GET", "/api/me")
    missing = await service.call("GET", "/api/nothing-here")

    assert refused.status == 401 and missing.status == 404
    for reply in (refused, missing):
        assert reply.headers["X-Content-Type-Options"] == "nosniff"
        assert reply.headers["Cache-Control"] == "no-store"


async def test_the_inbox_page_keeps_its_own_script_policy(service: RunningService) -> None:
    page = await service.call("GET", "/inbox/")

    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_cookie_post_without_origin_or_referer_is_refused_and_stores_nothing(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket_id = await _ticket(service)

    reply = await service.call(
        "POST", f"/api/tickets/{ticket_id}/notes", {"text": "forged"}, headers=_cookie(ana)
    )

    assert reply.status == 403
    assert reply.body["error"]["field"] == "Origin"
    assert "Origin or Referer" in reply.body["error"]["message"]
    assert await service.table_count("notes") == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null", "Referer": "http://evil.example/page"},
        {"Referer": "https://evil.example/"},
    ],
)
async def test_a_cookie_post_from_another_site_is_refused(
    service: RunningService, headers: dict[str, str]
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket_id = await _ticket(service)

    reply = await service.call(
        "POST", f"/api/tickets/{ticket_id}/claim", headers=_cookie(ana, **headers)
    )

    assert reply.status == 403
    assert "cross-site request refused" in reply.body["error"]["message"]
    assert (ticket_json(await service.ctx.tickets.get(ticket_id)))["status"] == "open"


@pytest.mark.parametrize("header", ["Origin", "Referer"])
async def test_a_cookie_post_from_the_service_itself_passes(
    service: RunningService, header: str
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket_id = await _ticket(service)
    value = service.url if header == "Origin" else f"{service.url}/inbox/"

    reply = await service.call(
        "POST", f"/api/tickets/{ticket_id}/claim", headers=_cookie(ana, **{header: value})
    )

    assert reply.status == 200, reply.body


async def test_a_bearer_token_needs_no_origin(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket_id = await _ticket(service)

    reply = await ana.post(f"/api/tickets/{ticket_id}/claim")

    assert reply.status == 200, reply.body


class TestTrustedOrigins:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"trusted_origins": ("https://inbox.example.com",)}

    async def test_a_configured_origin_is_accepted_and_others_are_not(
        self, service: RunningService
    ) -> None:
        ana = await service.attendant("ana", teams=["support"])
        ticket_id = await _ticket(service)
        path = f"/api/tickets/{ticket_id}/notes"

        trusted = await service.call(
            "POST", path, {"text": "ok"}, headers=_cookie(ana, Origin="https://inbox.example.com")
        )
        other = await service.call(
            "POST", path, {"text": "no"}, headers=_cookie(ana, Origin="https://other.example.com")
        )

        assert trusted.status == 201
        assert other.status == 403


async def _login(service: RunningService, username: str, password: str) -> Any:
    return await service.call(
        "POST", "/api/auth/login", {"username": username, "password": password}
    )


async def test_five_failed_sign_ins_lock_the_username_even_for_the_right_password(
    service: RunningService,
) -> None:
    await service.attendant("ana", teams=["support"])

    failures = [await _login(service, "ana", f"wrong-{n}") for n in range(5)]
    locked = await _login(service, "ana", PASSWORD)
    locked_other_case = await _login(service, "ANA", PASSWORD)

    assert [r.status for r in failures] == [401] * 5
    assert locked.status == 429
    assert locked.body["error"]["code"] == "rate_limited"
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    assert locked_other_case.status == 429


async def test_the_lock_ends_when_the_window_has_passed(service: RunningService) -> None:
    await service.attendant("ana", teams=["support"])
    for n in range(5):
        await _login(service, "ana", f"wrong-{n}")

    service.clock.advance(minutes=14, seconds=59)
    still_locked = await _login(service, "ana", PASSWORD)
    service.clock.advance(seconds=1)
    free = await _login(service, "ana", PASSWORD)

    assert still_locked.status == 429
    assert int(still_locked.headers["Retry-After"]) == 1
    assert free.status == 200


async def test_failures_across_many_usernames_lock_the_client_address(
    service: RunningService,
) -> None:
    await service.attendant("ana", teams=["support"])
    limit = service.ctx.settings.login_max_failures_per_address

    spray = [await _login(service, f"user{n}", "guess-guess") for n in range(limit)]
    locked = await _login(service, "ana", PASSWORD)

    assert [r.status for r in spray] == [401] * limit
    assert locked.status == 429


async def test_a_success_clears_its_usernames_count_but_not_its_addresss(
    service: RunningService,
) -> None:
    clock = FakeClock()
    limiter = LoginLimiter(
        service.ctx.db, max_failures=3, window=timedelta(minutes=15), clock=clock
    )
    for _ in range(2):
        await limiter.reserve("ana", "10.0.0.1")  # two failures, kept
    await limiter.succeeded(await limiter.reserve("ana", "10.0.0.1"))
    for _ in range(2):
        await limiter.reserve("ana", "10.0.0.2")

    await limiter.reserve("ana", "10.0.0.3")  # the username had 2 failures since its success
    await limiter.reserve("bob", "10.0.0.1")  # the first address reaches 3
    with pytest.raises(TooManyRequests):
        await limiter.reserve("carol", "10.0.0.1")


async def test_old_failures_are_deleted_as_new_ones_arrive(service: RunningService) -> None:
    limiter = service.ctx.login_limiter
    await limiter.reserve("ana", "10.0.0.1")
    service.clock.advance(minutes=16)
    await limiter.reserve("bob", "10.0.0.2")

    async with service.ctx.db.read() as conn:
        keys = sorted(r.key for r in await conn.execute(select(login_failures.c.key)))

    assert keys == ["ip:10.0.0.2", "user:bob"]


@pytest.mark.parametrize("path", [contract.SERVICE_HANDOFFS_PATH, contract.SERVICE_EVENTS_PATH])
@pytest.mark.parametrize(
    "case", ["unsigned", "wrong_secret", "stale", "altered_body", "timestamp_changed"]
)
async def test_rasa_calls_that_are_unsigned_forged_stale_or_replayed_store_nothing(
    service: RunningService, path: str, case: str
) -> None:
    payload = (
        handoff_payload("conv-r")
        if path == contract.SERVICE_HANDOFFS_PATH
        else {"events": [user_event("hello", 1.0, sender_id="conv-r")]}
    )
    body = json.dumps(payload).encode()
    good = contract.signed_headers(SECRET, body)
    headers = {
        "unsigned": {},
        "wrong_secret": contract.signed_headers("guessed", body),
        "stale": contract.signed_headers(SECRET, body, now=service.clock.now.timestamp() - 301),
        "altered_body": good,
        "timestamp_changed": {
            **good,
            contract.TIMESTAMP_HEADER: str(int(good[contract.TIMESTAMP_HEADER]) - 1),
        },
    }[case]
    sent = body.replace(b"conv-r", b"conv-x") if case == "altered_body" else body

    answer = await service.call("POST", path, headers=headers, raw=sent)

    assert answer.status == 401
    assert answer.body["error"]["code"] == "unauthorized"
    for table in ("tickets", "messages", "conversations"):
        assert await service.table_count(table) == 0
