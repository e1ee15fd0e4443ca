"""Slow and hostile peers: a webhook that never answers, a client that trickles, a connection flood.

Each cost the service its timers or its connections before; now each is bounded. The attacks are
made for real: an HTTP listener that accepts and never answers, raw TCP clients sending one byte
at a time or opening connection after connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.local_http import serve
from tests.service.support import RunningService, open_stream, read_events


class SilentPeer:
    """A team's webhook endpoint that takes the request and never answers it."""

    def __init__(self) -> None:
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.arrived.set()
        await self.release.wait()
        return web.json_response({"ok": True})


@pytest.fixture
async def silent_webhook() -> AsyncIterator[SilentPeer]:
    peer = SilentPeer()
    app = web.Application()
    app.router.add_post("/hook", peer.handle)
    served = await serve(app)
    peer.url = f"{served.url}/hook"
    yield peer
    peer.release.set()
    await served.close()


class TestAWebhookThatNeverAnswers:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {
            "run_background_tasks": True,
            "automation_interval_seconds": 0.05,
            "webhook_interval_seconds": 0.05,
            "webhook_timeout_seconds": 60.0,
        }

    async def test_delays_no_other_teams_safety_net(
        self, service: RunningService, silent_webhook: SilentPeer
    ) -> None:
        support = await service.ctx.teams.by_name("support")
        await service.ctx.teams.update(support["id"], {"webhook_url": silent_webhook.url})
        sam = await service.attendant("sam", role="supervisor")
        stream = await open_stream(service, sam.token)
        await service.handoff("hooked", team="support")
        await asyncio.wait_for(silent_webhook.arrived.wait(), timeout=15)
        waiting = await service.handoff("waiting", team="billing", unclaimed_timeout_seconds=2)
        ticket_id = waiting.body["ticket"]["id"]

        service.clock.advance(seconds=3)  # past the 2 s safety net of the billing ticket
        events = await asyncio.wait_for(
            read_events(
                stream,
                lambda seen: any(
                    e["event"] == "ticket.updated"
                    and e["data"]["ticket"]["id"] == ticket_id
                    and e["data"]["action"] == "unclaimed_close"
                    for e in seen
                ),
            ),
            timeout=10,
        )
        stream.close()

        closed = events[-1]["data"]["ticket"]
        assert (closed["status"], closed["resolution"]) == ("closed", "unclaimed")
        assert not silent_webhook.release.is_set()  # the webhook was still hanging meanwhile


async def _raw(service: RunningService) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    port = int(service.url.rsplit(":", 1)[1])
    return await asyncio.open_connection("127.0.0.1", port)


class TestATricklingClient:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"request_deadline_seconds": 1.0}

    @pytest.mark.parametrize("part", ["headers", "body"])
    async def test_is_answered_408_and_cut_off_however_steadily_it_sends(
        self, service: RunningService, part: str
    ) -> None:
        reader, writer = await _raw(service)
        head = (
            b"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 400\r\n\r\n"
        )
        if part == "body":
            writer.write(head)
            head = b'{"username": "' + b"a" * 300

        async def trickle() -> None:
            # One byte every 0.2 s: each byte restarted sanic's own timeout.
            with contextlib.suppress(ConnectionError):
                for byte in head:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    await asyncio.sleep(0.2)

        sender = asyncio.ensure_future(trickle())
        try:
            answer = await asyncio.wait_for(reader.read(), timeout=15)
        finally:
            sender.cancel()
            writer.close()

        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"did not arrive within 1 s" in answer


class TestAConnectionFloodFromOneAddress:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"max_connections_per_address": 3}

    async def test_is_closed_beyond_the_limit_and_the_others_still_work(
        self, service: RunningService
    ) -> None:
        held = [await _raw(service) for _ in range(3)]
        extra_reader, extra_writer = await _raw(service)

        refused = await asyncio.wait_for(extra_reader.read(), timeout=10)
        reader, writer = held[0]
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
        for _, w in [*held, (extra_reader, extra_writer)]:
            w.close()

        assert refused == b""  # closed before any byte
        assert answer.startswith(b"HTTP/1.1 200")
