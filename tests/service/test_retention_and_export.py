"""Retention deletes old closed tickets' content on the automation pass; export gathers it all."""

from __future__ import annotations

from typing import Any

import pytest

from handoff_component.service.settings import Settings
from tests.service.support import RunningService, user_event


async def _closed_ticket(service: RunningService, conversation: str, ana: Any) -> int:
    opened = await service.handoff(conversation)
    assert opened.status == 201, opened.body
    ticket_id = opened.body["ticket"]["id"]
    await ana.post(f"/api/tickets/{ticket_id}/claim")
    await ana.post(f"/api/tickets/{ticket_id}/reply", {"text": "Sorry, refunded."})
    await ana.post(f"/api/tickets/{ticket_id}/notes", {"text": "double charge confirmed"})
    closed = await ana.post(f"/api/tickets/{ticket_id}/close")
    assert closed.status == 200, closed.body
    return ticket_id


class TestRetention:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"retention_days": 30}

    async def test_content_of_tickets_closed_longer_ago_is_purged_and_the_row_stays(
        self, service: RunningService
    ) -> None:
        ana = await service.attendant("ana", teams=["support"])
        old = await _closed_ticket(service, "conv-old", ana)
        service.clock.advance(days=20)
        ana = await service.login("ana")  # sessions last 12 hours
        recent = await _closed_ticket(service, "conv-recent", ana)
        service.clock.advance(days=10, seconds=1)
        ana = await service.login("ana")

        outcome = await service.ctx.automation.run_once()

        assert outcome.purged == 1
        purged = (await ana.get(f"/api/tickets/{old}")).body["ticket"]
        kept = (await ana.get(f"/api/tickets/{recent}")).body["ticket"]
        assert purged["purged_at"] == service.clock.now.isoformat()
        assert purged["messages"] == [] and purged["notes"] == []
        assert purged["reason"] == "" and purged["summary"] is None
        assert purged["status"] == "closed" and purged["resolution"] == "closed"
        assert [t["action"] for t in purged["timeline"]][:5] == [
            "create",
            "claim",
            "reply",
            "note",
            "close",
        ]
        assert kept["purged_at"] is None
        assert len(kept["messages"]) == 3 and len(kept["notes"]) == 1
        assert kept["reason"] == "The customer is angry about a double charge"
        async with service.ctx.db.read() as conn:
            texts = (await conn.exec_driver_sql("SELECT text FROM messages")).scalars().all()
        assert "I was charged twice" in texts  # the recent ticket's copy only
        assert await service.table_count("messages") == 3
        assert await service.table_count("tickets") == 2

    async def test_a_second_pass_purges_nothing_more_and_open_tickets_are_never_purged(
        self, service: RunningService
    ) -> None:
        ana = await service.attendant("ana", teams=["support"])
        await _closed_ticket(service, "conv-old", ana)
        still_open = (await service.handoff("conv-open")).body["ticket"]["id"]
        service.clock.advance(days=400)
        ana = await service.login("ana")  # sessions last 12 hours

        first = await service.ctx.automation.run_once()
        second = await service.ctx.automation.run_once()

        assert (first.purged, second.purged) == (1, 0)
        detail = (await ana.get(f"/api/tickets/{still_open}")).body["ticket"]
        assert detail["purged_at"] is None and len(detail["messages"]) == 2

    async def test_old_live_conversation_rows_go_too(self, service: RunningService) -> None:
        reply = await service.events([user_event("hello", 1.0, sender_id="conv-live")])
        assert reply.status == 200
        assert await service.table_count("conversations") == 1
        # Rasa's event time is 2023-11-14; the test clock starts a year later.
        await service.ctx.automation.run_once()

        assert await service.table_count("conversations") == 0


async def test_without_a_retention_setting_nothing_is_purged(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    ticket_id = await _closed_ticket(service, "conv-old", ana)
    service.clock.advance(days=3650)
    ana = await service.login("ana")  # sessions last 12 hours

    outcome = await service.ctx.automation.run_once()

    assert outcome.purged == 0
    detail = (await ana.get(f"/api/tickets/{ticket_id}")).body["ticket"]
    assert detail["purged_at"] is None and len(detail["messages"]) == 3


def test_the_retention_setting_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).retention_days is None
    assert Settings.from_env({"HANDOFF_RETENTION_DAYS": "90"}).retention_days == 90.0


async def test_a_supervisor_exports_every_ticket_message_note_and_transition(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    first = await _closed_ticket(service, "conv-x", ana)
    service.clock.advance(days=1)
    sam = await service.login("sam")  # sessions last 12 hours
    await service.events([user_event("back again", 5.0, sender_id="conv-x")])
    second = (await service.handoff("conv-x", idempotency_key="again")).body["ticket"]["id"]
    await service.handoff("conv-other")

    reply = await sam.get("/api/conversations/conv-x/export")

    assert reply.status == 200, reply.body
    data = reply.body
    assert data["conversation_id"] == "conv-x"
    assert [t["id"] for t in data["tickets"]] == [first, second]
    assert all(t["conversation_id"] == "conv-x" for t in data["tickets"])
    one = data["tickets"][0]
    assert [m["text"] for m in one["messages"]] == [
        "I was charged twice",
        "Sorry to hear that",
        "Sorry, refunded.",
    ]
    assert [n["text"] for n in one["notes"]] == ["double charge confirmed"]
    assert [t["action"] for t in one["timeline"]] == ["create", "claim", "reply", "note", "close"]
    assert data["conversation"]["last_text"] == "back again"
    assert reply.headers["Cache-Control"] == "no-store"


async def test_only_supervisors_may_export(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await service.handoff("conv-x")

    refused = await ana.get("/api/conversations/conv-x/export")
    anonymous = await service.call("GET", "/api/conversations/conv-x/export")

    assert refused.status == 403
    assert refused.body["error"]["message"] == "only supervisors may do this"
    assert anonymous.status == 401
    assert "conv-x" not in str(refused.body) + str(anonymous.body)


async def test_exporting_an_unknown_conversation_is_a_404(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")

    reply = await sam.get("/api/conversations/nobody/export")

    assert reply.status == 404
    assert reply.body["error"]["field"] == "conversation_id"
