"""`GET /api/conversations`: live bot conversations without an open ticket, for takeovers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.service.support import FakeClock, RunningService, bot_event, user_event

BASE = 1700000000.0  # user_event's timestamps are BASE + offset


def said(clock: FakeClock, text: str, conversation: str, seconds_ago: float = 0) -> dict[str, Any]:
    """A customer message sent `seconds_ago` before the service's (fake) now."""
    return user_event(text, clock.now.timestamp() - BASE - seconds_ago, conversation)


async def _live(who: Any, query: str = "") -> list[dict[str, Any]]:
    reply = await who.get(f"/api/conversations{query}")
    assert reply.status == 200, reply.body
    return reply.body["conversations"]


async def test_a_conversation_without_a_ticket_is_listed(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")
    clock = service.clock
    reply = await service.events(
        [
            said(clock, "hi", "conv-live", 60),
            bot_event("hello, how can I help?", clock.now.timestamp() - BASE - 59, "conv-live"),
            said(clock, "where is my <b>parcel</b>?", "conv-live", 30),
        ]
    )
    # the conversation has no ticket: the ticket counters are as before
    assert reply.body["ignored"] == 3

    live = await _live(sam)

    assert live == [
        {
            "conversation_id": "conv-live",
            "channel": "socketio",
            "last_seen_at": (clock.now - timedelta(seconds=30)).isoformat(),
            "last_text": "where is my <b>parcel</b>?",
            "message_count": 2,
        }
    ]


async def test_a_conversation_with_an_open_ticket_is_not_listed(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")
    await service.handoff("conv-1")
    await service.events(
        [said(service.clock, "still there?", "conv-1"), said(service.clock, "hi", "conv-2")]
    )

    assert [c["conversation_id"] for c in await _live(sam)] == ["conv-2"]


async def test_only_conversations_seen_within_active_minutes(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")
    clock = service.clock
    await service.events(
        [said(clock, "old", "conv-old", 31 * 60), said(clock, "recent", "conv-recent", 29 * 60)]
    )

    assert [c["conversation_id"] for c in await _live(sam)] == ["conv-recent"]
    wide = await _live(sam, "?active_minutes=60")
    assert [c["conversation_id"] for c in wide] == ["conv-recent", "conv-old"]

    clock.advance(minutes=2)
    assert await _live(sam) == []
    assert len(await _live(sam, "?active_minutes=32&limit=1")) == 1


async def test_a_replayed_or_late_event_is_not_counted_again(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")
    clock = service.clock
    batch = [said(clock, "one", "conv-9", 20), said(clock, "two", "conv-9", 10)]
    await service.events(batch)
    await service.events(batch)
    await service.events([said(clock, "late", "conv-9", 15)])

    (live,) = await _live(sam)
    assert (live["message_count"], live["last_text"]) == (2, "two")

    await service.events([said(clock, "three", "conv-9", 5)])
    (live,) = await _live(sam)
    assert (live["message_count"], live["last_text"]) == (3, "three")


async def test_the_last_text_is_cut_and_bot_events_make_no_conversation(
    service: RunningService,
) -> None:
    sam = await service.attendant("sam", role="supervisor")
    now = service.clock.now.timestamp() - BASE
    await service.events(
        [said(service.clock, "x" * 800, "conv-long"), bot_event("only the bot", now, "conv-bot")]
    )

    (live,) = await _live(sam)
    assert live["conversation_id"] == "conv-long"
    assert live["last_text"] == "x" * 500
    assert await service.table_count("conversations") == 1


async def test_only_supervisors_list_live_conversations(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])

    assert (await ana.get("/api/conversations")).status == 403
    assert (await service.call("GET", "/api/conversations")).status == 401


async def test_bad_query_parameters_are_refused(service: RunningService) -> None:
    sam = await service.attendant("sam", role="supervisor")

    for query, field in [
        ("?active_minutes=0", "active_minutes"),
        ("?active_minutes=1441", "active_minutes"),
        ("?active_minutes=soon", "active_minutes"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?status=open", "status"),
    ]:
        reply = await sam.get(f"/api/conversations{query}")
        assert reply.status == 400, query
        assert reply.body["error"]["field"] == field
