"""What happens without an attendant clicking: inactivity, hand-back, live stream, team webhooks.

The clock is the fake one from conftest: time moves when a test advances it, and `run_once` is
the same pass the background task makes. The stream and the webhooks go over real sockets.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from handoff_component import contract
from handoff_component.service.tickets import detail_json, ticket_json
from tests.local_http import serving
from tests.service.support import (
    SECRET,
    FakeConnector,
    RunningService,
    read_events,
    user_event,
)


async def _replied_ticket(service: RunningService) -> tuple[Any, dict]:
    ana = await service.attendant("ana", teams=["support"])
    ticket = (await service.handoff("conv-1")).body["ticket"]
    await ana.post(f"/api/tickets/{ticket['id']}/claim")
    await ana.post(f"/api/tickets/{ticket['id']}/reply", {"text": "Anything else?"})
    return ana, ticket


async def test_an_unanswered_ticket_closes_after_the_inactivity_limit(
    service: RunningService,
) -> None:
    _ana, ticket = await _replied_ticket(service)

    service.clock.advance(minutes=29)
    early = await service.ctx.automation.run_once()
    service.clock.advance(minutes=2)
    due = await service.ctx.automation.run_once()

    assert early.closed == 0
    assert due.closed == 1
    closed = ticket_json(await service.ctx.tickets.get(ticket["id"]))
    assert (closed["status"], closed["resolution"]) == ("closed", "inactivity")
    timeline = (detail_json(await service.ctx.tickets.detail(ticket["id"])))["timeline"]
    assert timeline[-1]["actor"] == {"kind": "system", "id": "inactivity"}


async def test_a_customer_answer_stops_the_inactivity_clock(service: RunningService) -> None:
    _ana, ticket = await _replied_ticket(service)
    service.clock.advance(minutes=20)
    await service.events([user_event("still here", 50, "conv-1")])

    service.clock.advance(minutes=20)
    result = await service.ctx.automation.run_once()

    assert result.closed == 0
    assert (ticket_json(await service.ctx.tickets.get(ticket["id"])))["status"] == "in_progress"


async def test_the_bot_resumes_when_the_reopen_window_ends(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana, ticket = await _replied_ticket(service)
    await ana.post(f"/api/tickets/{ticket['id']}/close")
    connector.commands.clear()

    service.clock.advance(minutes=14)
    inside = await service.ctx.automation.run_once()
    service.clock.advance(minutes=2)
    connector.fail_with = 503
    rasa_down = await service.ctx.automation.run_once()
    connector.fail_with = None
    handed = await service.ctx.automation.run_once()

    assert inside.handed_back == 0
    assert rasa_down.hand_back_failed == 1
    assert handed.handed_back == 1
    assert (ticket_json(await service.ctx.tickets.get(ticket["id"])))["handed_back"] is True
    assert connector.commands == [
        (
            "resume",
            {
                "conversation_id": "conv-1",
                "channel": "socketio",
                "ticket_id": ticket["id"],
                "reason": "closed",
            },
        )
    ]


async def test_an_unclaimed_ticket_goes_back_to_the_bot_after_its_safety_net_time(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ticket = (await service.handoff("conv-1", unclaimed_timeout_seconds=300)).body["ticket"]
    untimed = (await service.handoff("conv-2")).body["ticket"]

    service.clock.advance(minutes=4)
    early = await service.ctx.automation.run_once()
    service.clock.advance(minutes=2)
    connector.fail_with = 503
    rasa_down = await service.ctx.automation.run_once()
    connector.fail_with = None
    due = await service.ctx.automation.run_once()

    assert (early.unclaimed, rasa_down.unclaimed, due.unclaimed) == (0, 0, 1)
    closed = ticket_json(await service.ctx.tickets.get(ticket["id"]))
    assert (closed["status"], closed["resolution"], closed["handed_back"]) == (
        "closed",
        "unclaimed",
        True,
    )
    assert (ticket_json(await service.ctx.tickets.get(untimed["id"])))["status"] == "open"
    resumes = [body for path, body in connector.commands if path == "resume"]
    assert resumes[-1] == {
        "conversation_id": "conv-1",
        "channel": "socketio",
        "ticket_id": ticket["id"],
        "reason": "unclaimed",
    }


async def test_a_claimed_ticket_is_not_handed_back_as_unclaimed(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    ticket = (await service.handoff("conv-1", unclaimed_timeout_seconds=60)).body["ticket"]
    await ana.post(f"/api/tickets/{ticket['id']}/claim")

    service.clock.advance(minutes=10)
    result = await service.ctx.automation.run_once()

    assert result.unclaimed == 0
    assert (ticket_json(await service.ctx.tickets.get(ticket["id"])))["status"] == "in_progress"


# --- the live stream ---------------------------------------------------------------------------


async def test_the_stream_tells_each_attendant_about_their_teams_tickets_only(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bruno = await service.attendant("bruno", teams=["billing"])
    headers_ana = {"Authorization": f"Bearer {ana.token}"}
    async with aiohttp.ClientSession() as http:
        ana_stream = await http.get(f"{service.url}/api/stream", headers=headers_ana)
        bruno_stream = await http.get(f"{service.url}/api/stream?token={bruno.token}")
        assert ana_stream.headers["Content-Type"].startswith("text/event-stream")
        for stream in (ana_stream, bruno_stream):
            assert (await stream.content.readline()).startswith(b": connected")
            await stream.content.readline()

        support = (await service.handoff("c-support", team="support")).body["ticket"]
        billing = (await service.handoff("c-billing", team="billing")).body["ticket"]
        await ana.post(f"/api/tickets/{support['id']}/claim")
        await service.events([user_event("hello?", 5, "c-support")])

        ana_events = await asyncio.wait_for(
            read_events(ana_stream, lambda events: len(events) >= 3), timeout=5
        )
        bruno_events = await asyncio.wait_for(
            read_events(bruno_stream, lambda events: len(events) >= 1), timeout=5
        )
        ana_stream.close()
        bruno_stream.close()

    assert [e["event"] for e in ana_events] == [
        "ticket.created",
        "ticket.updated",
        "message.created",
    ]
    assert ana_events[0]["data"]["ticket"]["id"] == support["id"]
    assert ana_events[1]["data"]["action"] == "claim"
    assert ana_events[2]["data"]["message"]["text"] == "hello?"
    assert [(e["event"], e["data"]["ticket"]["id"]) for e in bruno_events] == [
        ("ticket.created", billing["id"])
    ]


async def test_the_stream_needs_a_session(service: RunningService) -> None:
    reply = await service.call("GET", "/api/stream")

    assert reply.status == 401


# --- team webhooks -------------------------------------------------------------------------------


class WebhookListener:
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.failures_left = 0
        self.failure_status = 500
        self.arrived = asyncio.Event()
        self.url = ""


@pytest.fixture
async def listener() -> AsyncIterator[WebhookListener]:
    state = WebhookListener()

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        contract.verify(
            "team-secret",
            request.headers[contract.TIMESTAMP_HEADER],
            body,
            request.headers[contract.SIGNATURE_HEADER],
        )
        if state.failures_left:
            state.failures_left -= 1
            return web.Response(status=state.failure_status)
        state.received.append((request.headers["X-Handoff-Event"], json.loads(body)))
        state.arrived.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    async with serving(app) as served:
        state.url = f"{served.url}/hook"
        yield state


async def test_a_team_webhook_hears_of_new_tickets_and_transfers_signed(
    service: RunningService, listener: WebhookListener
) -> None:
    sam = await service.attendant("sam", role="supervisor")
    billing = await service.ctx.teams.by_name("billing")
    await service.ctx.teams.update(
        billing["id"], {"webhook_url": listener.url, "webhook_secret": "team-secret"}
    )
    created = (await service.handoff("conv-1", team="billing")).body["ticket"]
    support_ticket = (await service.handoff("conv-2", team="support")).body["ticket"]
    await sam.post(f"/api/tickets/{support_ticket['id']}/transfer", {"team_id": billing["id"]})

    attempted = await service.ctx.webhooks.deliver_due()

    assert attempted == 2
    assert [(event, body["ticket"]["id"]) for event, body in listener.received] == [
        ("ticket.created", created["id"]),
        ("ticket.transferred", support_ticket["id"]),
    ]
    assert (await service.ctx.webhooks.counts())["delivered"] == 2


async def test_a_failing_webhook_is_retried_with_backoff_then_given_up(
    service: RunningService, listener: WebhookListener
) -> None:
    support = await service.ctx.teams.by_name("support")
    await service.ctx.teams.update(
        support["id"], {"webhook_url": listener.url, "webhook_secret": "team-secret"}
    )
    listener.failures_left = 2
    await service.handoff("conv-1")
    settings = service.ctx.settings

    first = await service.ctx.webhooks.deliver_due()
    too_soon = await service.ctx.webhooks.deliver_due()
    service.clock.advance(seconds=settings.webhook_backoff_seconds)
    second = await service.ctx.webhooks.deliver_due()
    service.clock.advance(seconds=settings.webhook_backoff_seconds * 2)
    third = await service.ctx.webhooks.deliver_due()

    assert (first, too_soon, second, third) == (1, 0, 1, 1)
    assert len(listener.received) == 1
    assert (await service.ctx.webhooks.counts()) == {"pending": 0, "delivered": 1, "failed": 0}

    listener.failures_left = 100
    await service.handoff("conv-2")
    for _ in range(settings.webhook_max_attempts):
        await service.ctx.webhooks.deliver_due()
        service.clock.advance(hours=1)
    assert (await service.ctx.webhooks.counts())["failed"] == 1


async def test_a_webhook_answered_429_is_retried_and_one_refused_with_a_4xx_is_given_up(
    service: RunningService, listener: WebhookListener
) -> None:
    support = await service.ctx.teams.by_name("support")
    await service.ctx.teams.update(
        support["id"], {"webhook_url": listener.url, "webhook_secret": "team-secret"}
    )
    settings = service.ctx.settings
    listener.failures_left, listener.failure_status = 1, 429
    await service.handoff("conv-1")

    await service.ctx.webhooks.deliver_due()
    service.clock.advance(seconds=settings.webhook_backoff_seconds)
    await service.ctx.webhooks.deliver_due()
    throttled_then_delivered = await service.ctx.webhooks.counts()
    listener.failures_left, listener.failure_status = 1, 404
    await service.handoff("conv-2")
    await service.ctx.webhooks.deliver_due()

    assert throttled_then_delivered == {"pending": 0, "delivered": 1, "failed": 0}
    assert (await service.ctx.webhooks.counts()) == {"pending": 0, "delivered": 1, "failed": 1}


@pytest.fixture
def service_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "background" in request.node.name:
        return {
            "run_background_tasks": True,
            "webhook_interval_seconds": 0.05,
            "automation_interval_seconds": 0.05,
        }
    return {}


async def test_the_background_task_delivers_webhooks_by_itself(
    service: RunningService, listener: WebhookListener
) -> None:
    support = await service.ctx.teams.by_name("support")
    await service.ctx.teams.update(
        support["id"], {"webhook_url": listener.url, "webhook_secret": "team-secret"}
    )

    await service.handoff("conv-1")

    await asyncio.wait_for(listener.arrived.wait(), timeout=10)
    assert listener.received[0][0] == "ticket.created"
    assert SECRET  # the service secret is not the team's: the listener checked the team's
