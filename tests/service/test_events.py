"""`POST /api/events`: customer and bot messages mirrored into tickets, in order, exactly once."""

from __future__ import annotations

from handoff_component import contract
from handoff_component.service.tickets import detail_json, message_json, ticket_json
from tests.service.support import RunningService, bot_event, user_event


async def _claimed_ticket(service: RunningService, conversation: str = "conv-1") -> tuple:
    ana = await service.attendant("ana", teams=["support"])
    ticket = (await service.handoff(conversation)).body["ticket"]
    assert (await ana.post(f"/api/tickets/{ticket['id']}/claim")).status == 200
    return ana, ticket


async def _thread(service: RunningService, ticket_id: int) -> list[tuple[str, str]]:
    detail = detail_json(await service.ctx.tickets.detail(ticket_id))
    return [(m["author"], m["text"]) for m in detail["messages"]]


async def test_customer_messages_are_appended_in_order(service: RunningService) -> None:
    _ana, ticket = await _claimed_ticket(service)

    reply = await service.events(
        [
            user_event("first", 10, "conv-1"),
            bot_event("bot says", 11, "conv-1"),
            user_event("second", 12, "conv-1"),
        ]
    )

    assert reply.status == 200
    assert reply.body == {
        "received": 3,
        "appended": 3,
        "duplicates": 0,
        "ignored": 0,
        "reopened": 0,
        "confirmed": 0,
    }
    assert (await _thread(service, ticket["id"]))[-3:] == [
        ("customer", "first"),
        ("bot", "bot says"),
        ("customer", "second"),
    ]


async def test_a_replayed_batch_appends_nothing(service: RunningService) -> None:
    _ana, ticket = await _claimed_ticket(service)
    batch = [user_event("once", 10, "conv-1"), user_event("twice?", 11, "conv-1")]
    await service.events(batch)

    replay = await service.events(batch)

    assert replay.body["duplicates"] == 2
    assert replay.body["appended"] == 0
    assert len(await _thread(service, ticket["id"])) == 4


async def test_an_event_already_in_the_handoff_transcript_is_not_copied(
    service: RunningService,
) -> None:
    _ana, ticket = await _claimed_ticket(service)

    # the same tracker event the action server put in the transcript, now from the broker
    reply = await service.events([user_event("I was charged twice", 1.0, "conv-1")])

    assert reply.body["duplicates"] == 1
    assert len(await _thread(service, ticket["id"])) == 2


async def test_a_customer_answer_brings_the_ticket_back_in_progress(
    service: RunningService,
) -> None:
    ana, ticket = await _claimed_ticket(service)
    await ana.post(f"/api/tickets/{ticket['id']}/reply", {"text": "Let me check"})
    assert (ticket_json(await service.ctx.tickets.get(ticket["id"])))[
        "status"
    ] == "awaiting_response"

    await service.events([user_event("thanks", 20, "conv-1")])

    assert (ticket_json(await service.ctx.tickets.get(ticket["id"])))["status"] == "in_progress"


async def test_events_of_conversations_without_tickets_are_accepted_and_ignored(
    service: RunningService,
) -> None:
    reply = await service.events(
        [
            user_event("hi bot", 1, "someone-else"),
            {"event": "action", "timestamp": 2, "name": "action_listen", "sender_id": "x"},
        ]
    )

    assert reply.status == 200
    assert reply.body["ignored"] == 2
    assert await service.table_count("messages") == 0


async def test_a_customer_message_within_the_window_reopens_the_ticket(
    service: RunningService,
) -> None:
    ana, ticket = await _claimed_ticket(service)
    await ana.post(f"/api/tickets/{ticket['id']}/close")
    service.clock.advance(minutes=10)

    reply = await service.events([user_event("one more thing", 30, "conv-1")])

    assert reply.body["reopened"] == 1
    reopened = ticket_json(await service.ctx.tickets.get(ticket["id"]))
    assert (reopened["status"], reopened["reopen_count"]) == ("in_progress", 1)
    assert reopened["assignee"]["id"] == ana.id


async def test_after_the_window_the_bot_answers_and_the_ticket_stays_closed(
    service: RunningService,
) -> None:
    ana, ticket = await _claimed_ticket(service)
    await ana.post(f"/api/tickets/{ticket['id']}/close")
    service.clock.advance(minutes=16)

    reply = await service.events([user_event("hello again", 30, "conv-1")])

    assert reply.body["ignored"] == 1
    assert (ticket_json(await service.ctx.tickets.get(ticket["id"])))["status"] == "closed"


async def test_the_echo_of_an_attendant_reply_confirms_it_instead_of_copying_it(
    service: RunningService,
) -> None:
    ana, ticket = await _claimed_ticket(service)
    sent = await ana.post(f"/api/tickets/{ticket['id']}/reply", {"text": "Refund done"})
    message_id = sent.body["message"]["id"]

    reply = await service.events(
        [bot_event("Refund done", 40, "conv-1", metadata={contract.REPLY_METADATA_KEY: message_id})]
    )

    assert reply.body["confirmed"] == 1
    thread = await _thread(service, ticket["id"])
    assert thread.count(("attendant", "Refund done")) == 1
    assert ("bot", "Refund done") not in thread
    message = message_json(await service.ctx.tickets.message(ticket["id"], message_id))
    assert message["delivery"] == "delivered"


async def test_a_malformed_batch_is_refused_whole(service: RunningService) -> None:
    await _claimed_ticket(service)

    reply = await service.events([user_event("fine", 10, "conv-1"), {"event": "user"}])

    assert reply.status == 422
    assert reply.body["error"]["field"] == "events[1].sender_id"
    assert await service.table_count("messages") == 2


async def test_unknown_top_level_fields_in_a_batch_are_refused(service: RunningService) -> None:
    reply = await service.rasa(contract.SERVICE_EVENTS_PATH, {"events": [], "since": 1})

    assert reply.status == 422
    assert reply.body["error"]["field"] == "since"


async def test_each_customer_message_keeps_its_own_scores(service: RunningService) -> None:
    _ana, ticket = await _claimed_ticket(service)
    scored = {"intent": {"name": "complaint"}, "handoff": {
        "sentiment": -0.7, "complexity": 0.2, "signals": {"sentiment": []}, "flag": True,
    }}  # fmt: skip

    await service.events(
        [
            user_event("angry", 10, "conv-1", parse_data=scored),
            user_event("button", 11, "conv-1"),
            bot_event("bot says", 12, "conv-1"),
        ]
    )

    detail = detail_json(await service.ctx.tickets.detail(ticket["id"]))
    scores = {m["text"]: m["scores"] for m in detail["messages"] if m["text"] in
              ("angry", "button", "bot says")}  # fmt: skip
    assert scores == {"angry": {"sentiment": -0.7, "complexity": 0.2}, "button": None,
                      "bot says": None}  # fmt: skip
