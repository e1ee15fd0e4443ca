"""Two service replicas on one PostgreSQL, each a real server on its own port.

What must hold with several replicas: an attendant's live stream hears about every change, exactly
once, whichever replica made it (LISTEN/NOTIFY relay, `event_relay.py`); the relay survives the loss
of its connection; a timed automation pass and a webhook delivery happen once, not once per replica.
Without PostgreSQL these tests are skipped loudly (see conftest.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handoff_component import contract
from handoff_component.service import event_relay
from handoff_component.service.automation import AUTOMATION_LOCK_KEY
from handoff_component.service.notifications import TicketEvent
from handoff_component.service.tickets import ticket_json
from tests.local_http import Served, serve
from tests.service.support import (
    PASSWORD,
    SECRET,
    FakeClock,
    RunningService,
    make_settings,
    open_stream,
    pg_admin,
    read_events,
    start_service,
    stop_service,
    user_event,
)
from tests.waiting import async_wait_until


class GatedPeer:
    """A little HTTP listener (Rasa's connector, or a team webhook) that can hold its first call.

    Each call is recorded when it arrives; with `hold_first`, the first one is answered only once
    the test sets `release`, so a test can act on the other replica while a call is in flight.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.hold_first = False
        self.first_arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        contract.verify(
            self.secret,
            request.headers[contract.TIMESTAMP_HEADER],
            body,
            request.headers[contract.SIGNATURE_HEADER],
        )
        self.calls.append((request.match_info["name"], json.loads(body)))
        if self.hold_first and not self.first_arrived.is_set():
            self.first_arrived.set()
            await self.release.wait()
        return web.json_response({"ok": True})

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


async def _serve(peer: GatedPeer, prefix: str) -> Served:
    app = web.Application()
    app.router.add_post(prefix + "{name}", peer.handle)
    served = await serve(app)
    peer.url = served.url + prefix
    return served


@pytest.fixture
async def connector() -> AsyncIterator[GatedPeer]:
    peer = GatedPeer(SECRET)
    served = await _serve(peer, "/webhooks/handoff/")
    yield peer
    peer.release.set()
    await served.close()


@pytest.fixture
async def team_hook() -> AsyncIterator[GatedPeer]:
    peer = GatedPeer("team-secret")
    served = await _serve(peer, "/hooks/")
    yield peer
    peer.release.set()
    await served.close()


@pytest.fixture
async def replicas(
    pg_url: str, clock: FakeClock, connector: GatedPeer
) -> AsyncIterator[tuple[RunningService, RunningService]]:
    """Replicas A and B: two apps, two ports, one database, one (fake) clock, one connector."""
    servers = []
    services = []
    async with aiohttp.ClientSession() as http:
        try:
            for _ in range(2):
                settings = make_settings(
                    pg_url, clock, connector_url=connector.url, connector_timeout_seconds=20.0
                )
                app, server, url = await start_service(settings)
                servers.append(server)
                services.append(RunningService(app, url, clock, http))
            for name in ("support", "billing"):
                await services[0].ctx.teams.create(name=name)
            yield services[0], services[1]
        finally:
            for server in servers:
                await stop_service(server)


# --- the live stream ----------------------------------------------------------------------------


def _seen(ticket_id: int, kind: str = "ticket.created") -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: any(
        e["event"] == kind and e["data"]["ticket"]["id"] == ticket_id for e in events
    )


def _tally(events: list[dict[str, Any]]) -> Counter[tuple[str, int]]:
    return Counter((e["event"], e["data"]["ticket"]["id"]) for e in events)


async def test_each_stream_hears_every_change_exactly_once_whichever_replica_made_it(
    replicas: tuple[RunningService, RunningService],
) -> None:
    a, b = replicas
    await a.attendant("ana", teams=["support"])
    on_a = await open_stream(a, (await a.login("ana")).token)
    on_b = await open_stream(b, (await b.login("ana")).token)

    from_a = (await a.handoff("conv-1")).body["ticket"]["id"]
    await a.events([user_event("hello from replica A", 5, "conv-1")])
    from_b = (await b.handoff("conv-2")).body["ticket"]["id"]
    # Everything above is now notified; each marker below travels through the relay to the
    # other replica's stream after it, so a duplicate of anything above would arrive first.
    await a.ctx.relay.flush()
    await b.ctx.relay.flush()
    marker_for_a = (await b.handoff("conv-3")).body["ticket"]["id"]
    await b.ctx.relay.flush()
    marker_for_b = (await a.handoff("conv-4")).body["ticket"]["id"]

    events_a = await asyncio.wait_for(read_events(on_a, _seen(marker_for_a)), timeout=15)
    events_b = await asyncio.wait_for(read_events(on_b, _seen(marker_for_b)), timeout=15)
    on_a.close()
    on_b.close()

    expected = Counter(
        {
            ("ticket.created", from_a): 1,
            ("message.created", from_a): 1,
            ("ticket.created", from_b): 1,
            ("ticket.created", marker_for_a): 1,
        }
    )
    assert _tally(events_a) - Counter({("ticket.created", marker_for_b): 1}) == expected
    assert _tally(events_b) == expected + Counter({("ticket.created", marker_for_b): 1})
    message = next(e for e in events_b if e["event"] == "message.created")
    assert message["data"]["message"]["text"] == "hello from replica A"
    assert message["data"]["ticket"]["conversation_id"] == "conv-1"


async def test_an_event_too_big_for_notify_is_reread_by_the_other_replica(
    replicas: tuple[RunningService, RunningService],
) -> None:
    a, b = replicas
    await a.attendant("ana", teams=["support"])
    on_b = await open_stream(b, (await b.login("ana")).token)
    ticket = (await a.handoff("conv-1")).body["ticket"]["id"]
    long_text = "é" * 3000 + "x" * 6000  # well over NOTIFY's 8000 bytes once encoded

    await a.events([user_event(long_text, 5, "conv-1")])
    events = await asyncio.wait_for(read_events(on_b, _seen(ticket, "message.created")), 15)
    on_b.close()

    message = next(e for e in events if e["event"] == "message.created")
    assert message["data"]["message"]["text"] == long_text
    assert message["data"]["ticket"]["id"] == ticket
    assert _tally(events) == Counter(
        {("ticket.created", ticket): 1, ("message.created", ticket): 1}
    )


def test_a_large_event_is_sent_as_a_reference_that_fits_notify() -> None:
    event = TicketEvent(
        type="message.created",
        ticket_id=7,
        team_id=1,
        assignee_id=None,
        data={"ticket": {"id": 7}, "message": {"id": 42, "text": "x" * 9000}, "action": "reply"},
    )

    small = json.loads(event_relay.encode(dataclasses.replace(event, data={}), "o"))
    payload = event_relay.encode(event, "origin")
    body = json.loads(payload)

    assert small["d"] == {}
    assert len(payload.encode()) < 8000
    assert (body["t"], body["k"], body["tm"], body["r"], body["x"]) == (
        "message.created",
        7,
        1,
        {"message": 42},
        {"action": "reply"},
    )
    assert "d" not in body


async def test_the_relay_listens_again_after_its_connection_is_killed(
    replicas: tuple[RunningService, RunningService],
) -> None:
    a, b = replicas
    relay = b.ctx.relay
    await a.attendant("ana", teams=["support"])
    on_b = await open_stream(b, (await b.login("ana")).token)
    killed, generation = relay.backend_pid, relay.generation
    assert killed is not None and relay.listening.is_set()

    await pg_admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE pid = {int(killed)} AND application_name = '{event_relay.APPLICATION_NAME}'"
    )

    await async_wait_until(
        lambda: relay.generation != generation and relay.listening.is_set(),
        timeout=20,
        what="the relay to LISTEN again",
    )
    # The stream held across the gap may have missed changes: the replica ends it, so the
    # Inbox's EventSource reconnects and reloads.
    await asyncio.wait_for(on_b.content.read(), timeout=15)
    assert on_b.content.at_eof()
    on_b.close()
    again = await open_stream(b, (await b.login("ana")).token)
    ticket = (await a.handoff("conv-after")).body["ticket"]["id"]
    events = await asyncio.wait_for(read_events(again, _seen(ticket)), timeout=15)
    again.close()

    assert relay.backend_pid != killed
    assert _tally(events) == Counter({("ticket.created", ticket): 1})


async def test_sqlite_keeps_the_in_process_bus(service: RunningService) -> None:
    is_sqlite = service.ctx.settings.db_url.startswith("sqlite")

    assert (service.ctx.relay is None) == is_sqlite


async def test_failed_sign_ins_spread_over_replicas_meet_one_limit(
    replicas: tuple[RunningService, RunningService],
) -> None:
    a, b = replicas
    await a.attendant("ana", teams=["support"])

    failures = [await (a, b)[n % 2].login_attempt("ana", f"wrong-{n}") for n in range(5)]
    on_a = await a.login_attempt("ana", PASSWORD)
    on_b = await b.login_attempt("ana", PASSWORD)

    assert [r.status for r in failures] == [401] * 5
    assert (on_a.status, on_b.status) == (429, 429)


# --- things done once, not once per replica ------------------------------------------------------


async def test_an_automation_pass_runs_on_one_replica_at_a_time(
    replicas: tuple[RunningService, RunningService], connector: GatedPeer, clock: FakeClock
) -> None:
    a, b = replicas
    ana = await a.attendant("ana", teams=["support"])
    ticket = (await a.handoff("conv-1")).body["ticket"]["id"]
    await ana.post(f"/api/tickets/{ticket}/claim")
    await ana.post(f"/api/tickets/{ticket}/close")
    connector.calls.clear()
    clock.advance(minutes=16)  # past the reopen window: the bot must resume, once

    connector.hold_first = True
    on_a = asyncio.create_task(a.ctx.automation.run_once())
    await asyncio.wait_for(connector.first_arrived.wait(), timeout=15)
    on_b = await asyncio.wait_for(b.ctx.automation.run_once(), timeout=15)
    connector.release.set()
    done_a = await asyncio.wait_for(on_a, timeout=15)
    after = await asyncio.wait_for(b.ctx.automation.run_once(), timeout=15)

    assert (done_a.skipped, done_a.handed_back) == (False, 1)
    assert on_b.skipped is True
    assert after.skipped is False  # the lock was released after the pass
    assert connector.calls == [
        (
            "resume",
            {
                "conversation_id": "conv-1",
                "channel": "socketio",
                "ticket_id": ticket,
                "reason": "closed",
            },
        )
    ]
    assert (ticket_json(await b.ctx.tickets.get(ticket)))["handed_back"] is True


async def test_concurrent_automation_passes_resume_the_bot_once(
    replicas: tuple[RunningService, RunningService], connector: GatedPeer, clock: FakeClock
) -> None:
    a, b = replicas
    ids = [
        (await a.handoff("conv-1", unclaimed_timeout_seconds=60)).body["ticket"]["id"],
        (await b.handoff("conv-2", unclaimed_timeout_seconds=60)).body["ticket"]["id"],
    ]
    connector.calls.clear()
    clock.advance(minutes=5)

    results = await asyncio.wait_for(
        asyncio.gather(*(r.ctx.automation.run_once() for r in (a, b, a, b))), timeout=30
    )

    assert sum(r.unclaimed for r in results) == 2
    resumed = sorted(body["ticket_id"] for name, body in connector.calls if name == "resume")
    assert resumed == sorted(ids)


async def test_the_automation_lock_key_is_the_documented_one(
    replicas: tuple[RunningService, RunningService],
) -> None:
    """An operator (or a stuck replica) holding the key stops every replica's passes."""
    a, b = replicas
    import asyncpg

    holder = await asyncpg.connect(event_relay.listen_dsn(a.ctx.settings.db_url))
    try:
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", AUTOMATION_LOCK_KEY)
        held = [await r.ctx.automation.run_once() for r in (a, b)]
        await holder.execute("SELECT pg_advisory_unlock($1)", AUTOMATION_LOCK_KEY)
        free = await a.ctx.automation.run_once()
    finally:
        await holder.close()

    assert [r.skipped for r in held] == [True, True]
    assert free.skipped is False
    assert AUTOMATION_LOCK_KEY == 4242424243  # docs/deployment.md names it


async def test_a_webhook_delivery_is_posted_by_one_replica_only(
    replicas: tuple[RunningService, RunningService], team_hook: GatedPeer, clock: FakeClock
) -> None:
    a, b = replicas
    support = await a.ctx.teams.by_name("support")
    await a.ctx.teams.update(
        support["id"], {"webhook_url": team_hook.url + "support", "webhook_secret": "team-secret"}
    )
    await a.handoff("conv-1")

    team_hook.hold_first = True
    on_a = asyncio.create_task(a.ctx.webhooks.deliver_due())
    await asyncio.wait_for(team_hook.first_arrived.wait(), timeout=15)
    on_b = await asyncio.wait_for(b.ctx.webhooks.deliver_due(), timeout=15)
    team_hook.release.set()
    await asyncio.wait_for(on_a, timeout=15)

    await b.handoff("conv-2")
    await asyncio.wait_for(
        asyncio.gather(a.ctx.webhooks.deliver_due(), b.ctx.webhooks.deliver_due()), timeout=30
    )

    assert on_b == 0
    assert [body["ticket"]["conversation_id"] for _, body in team_hook.calls] == [
        "conv-1",
        "conv-2",
    ]
    assert (await a.ctx.webhooks.counts()) == {"pending": 0, "delivered": 2, "failed": 0}


async def test_a_stream_on_one_replica_follows_an_access_change_made_on_the_other(
    replicas: tuple[RunningService, RunningService],
) -> None:
    a, b = replicas
    ana = await a.attendant("ana", teams=["support", "billing"])
    sam = await a.attendant("sam", role="supervisor")
    on_b = await open_stream(b, (await b.login("ana")).token)

    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"teams": ["billing"]})
    await a.ctx.relay.flush()
    await a.handoff("support-after", team="support")
    marker = (await a.handoff("billing-marker", team="billing")).body["ticket"]["id"]
    events = await asyncio.wait_for(read_events(on_b, _seen(marker)), timeout=15)
    await sam.request("PATCH", f"/api/attendants/{ana.id}", {"active": False})
    ended = await asyncio.wait_for(read_events(on_b, lambda _: False), timeout=15)

    assert {e["data"]["ticket"]["conversation_id"] for e in events} == {"billing-marker"}
    assert [e["event"] for e in ended] == ["session.ended"]


async def test_a_sign_out_on_one_replica_ends_the_session_on_the_other(
    replicas: tuple[RunningService, RunningService],
) -> None:
    a, b = replicas
    ana = await a.attendant("ana", teams=["support"])

    await a.call("POST", "/api/auth/logout", headers={"Authorization": f"Bearer {ana.token}"})
    on_b = await b.call("GET", "/api/me", headers={"Authorization": f"Bearer {ana.token}"})

    assert on_b.status == 401
