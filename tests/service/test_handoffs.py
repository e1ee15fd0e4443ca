"""`POST /api/handoffs`: one ticket per handoff, whatever the retries, replicas and bad input."""

from __future__ import annotations

import asyncio
import json
import time

from handoff_component import contract
from tests.service.support import SECRET, RunningService, handoff_payload


async def test_a_handoff_opens_a_ticket_with_its_summary_scores_and_transcript(
    service: RunningService,
) -> None:
    reply = await service.handoff("conv-1")

    assert reply.status == 201
    ticket = reply.body["ticket"]
    assert reply.body["created"] is True
    assert ticket["status"] == "open"
    assert ticket["priority"] == "high"
    assert ticket["team"]["name"] == "support"
    assert ticket["rule"] == "negative_sentiment"
    assert ticket["summary"]["topics"] == ["billing", "refund"]
    assert ticket["scores"] == [{"sentiment": -0.7, "complexity": 0.4}]
    supervisor = await service.attendant("sam", role="supervisor")
    detail = (await supervisor.get(f"/api/tickets/{ticket['id']}")).body["ticket"]
    assert [(m["author"], m["text"]) for m in detail["messages"]] == [
        ("customer", "I was charged twice"),
        ("bot", "Sorry to hear that"),
    ]
    assert [t["action"] for t in detail["timeline"]] == ["create"]


async def test_the_same_handoff_sent_twice_yields_one_ticket(service: RunningService) -> None:
    first = await service.handoff("conv-1")
    second = await service.handoff("conv-1")

    assert (first.status, second.status) == (201, 200)
    assert second.body["created"] is False
    assert first.body["ticket"]["id"] == second.body["ticket"]["id"]
    assert await service.table_count("tickets") == 1
    assert await service.table_count("messages") == 2


async def test_the_answer_reads_as_the_contract_s_handoff_answer_rasa_s_side_reads(
    service: RunningService,
) -> None:
    first = await service.handoff("conv-1")
    again = await service.handoff("conv-1")

    opened = contract.HandoffAnswer.from_dict(first.body)
    found = contract.HandoffAnswer.from_dict(again.body)

    assert (opened.ticket_id, opened.created) == (first.body["ticket"]["id"], True)
    assert (found.ticket_id, found.created) == (opened.ticket_id, False)
    assert opened.expected_wait_seconds == first.body["ticket"].get("expected_wait_seconds")


async def test_concurrent_replicas_sending_one_handoff_make_one_ticket(
    service: RunningService,
) -> None:
    replies = await asyncio.gather(*(service.handoff("conv-race") for _ in range(12)))

    assert sorted(r.status for r in replies) == [200] * 11 + [201]
    assert len({r.body["ticket"]["id"] for r in replies}) == 1
    assert await service.table_count("tickets") == 1
    assert await service.table_count("messages") == 2


async def test_a_second_handoff_of_a_conversation_joins_its_open_ticket(
    service: RunningService,
) -> None:
    first = await service.handoff("conv-1")
    later = handoff_payload(
        "conv-1",
        idempotency_key=contract.idempotency_key_for("conv-1", "ev-later"),
        transcript=[
            *handoff_payload("conv-1")["transcript"],
            {"event_id": "ev-3", "sender": "customer", "text": "Hello?", "timestamp": 1700000003.0},
        ],
    )
    second = await service.rasa(contract.SERVICE_HANDOFFS_PATH, later)

    assert second.status == 200
    assert second.body["ticket"]["id"] == first.body["ticket"]["id"]
    assert await service.table_count("messages") == 3


async def test_after_closing_a_new_handoff_opens_a_new_ticket(service: RunningService) -> None:
    supervisor = await service.attendant("sam", role="supervisor")
    first = (await service.handoff("conv-1")).body["ticket"]
    assert (await supervisor.post(f"/api/tickets/{first['id']}/close")).status == 200

    again = await service.rasa(
        contract.SERVICE_HANDOFFS_PATH,
        handoff_payload("conv-1", idempotency_key=contract.idempotency_key_for("conv-1", "ev-2")),
    )

    assert again.status == 201
    assert again.body["ticket"]["id"] != first["id"]
    # the old transcript is mirrored again in the new ticket: each ticket has its own thread
    assert await service.table_count("messages") == 4


async def test_an_unknown_team_falls_back_to_no_team_and_says_so(service: RunningService) -> None:
    reply = await service.handoff("conv-1", team="nonexistent")

    assert reply.status == 201
    assert reply.body["ticket"]["team"] is None
    supervisor = await service.attendant("sam", role="supervisor")
    detail = (await supervisor.get(f"/api/tickets/{reply.body['ticket']['id']}")).body["ticket"]
    assert "nonexistent" in detail["timeline"][0]["detail"]["routing"]


# --- refused input: a clear 4xx, nothing stored ---------------------------------------------------


async def _nothing_stored(service: RunningService) -> None:
    assert await service.table_count("tickets") == 0
    assert await service.table_count("messages") == 0


async def test_a_wrong_signature_is_refused(service: RunningService) -> None:
    reply = await service.rasa(contract.SERVICE_HANDOFFS_PATH, handoff_payload(), secret="wrong")

    assert reply.status == 401
    assert reply.body["error"]["field"] == contract.SIGNATURE_HEADER
    await _nothing_stored(service)


async def test_a_stale_signature_is_refused(service: RunningService) -> None:
    reply = await service.rasa(
        contract.SERVICE_HANDOFFS_PATH, handoff_payload(), now=time.time() - 3600
    )

    assert reply.status == 401
    assert "timestamp" in reply.body["error"]["message"]
    await _nothing_stored(service)


async def test_an_unsigned_call_is_refused(service: RunningService) -> None:
    reply = await service.call("POST", contract.SERVICE_HANDOFFS_PATH, handoff_payload())

    assert reply.status == 401
    assert reply.body["error"]["code"] == "unauthorized"
    await _nothing_stored(service)


async def test_a_body_changed_after_signing_is_refused(service: RunningService) -> None:
    body = json.dumps(handoff_payload()).encode()
    headers = contract.signed_headers(SECRET, body)
    tampered = body.replace(b"high", b"low ")

    reply = await service.call(
        "POST", contract.SERVICE_HANDOFFS_PATH, headers=headers, raw=tampered
    )

    assert reply.status == 401
    await _nothing_stored(service)


async def test_malformed_json_is_refused(service: RunningService) -> None:
    reply = await service.rasa(contract.SERVICE_HANDOFFS_PATH, None, raw=b'{"conversation_id": ')

    assert reply.status == 400
    assert "not valid JSON" in reply.body["error"]["message"]
    await _nothing_stored(service)


async def test_an_unknown_field_is_refused_and_named(service: RunningService) -> None:
    reply = await service.handoff("conv-1", colour="blue")

    assert reply.status == 422
    assert reply.body["error"]["field"] == "colour"
    await _nothing_stored(service)


async def test_a_wrong_type_deep_inside_is_refused_and_named(service: RunningService) -> None:
    payload = handoff_payload()
    payload["transcript"][1]["timestamp"] = "yesterday"

    reply = await service.rasa(contract.SERVICE_HANDOFFS_PATH, payload)

    assert reply.status == 422
    assert reply.body["error"]["field"] == "transcript[1].timestamp"
    await _nothing_stored(service)


async def test_a_missing_field_is_refused_and_named(service: RunningService) -> None:
    payload = handoff_payload()
    del payload["conversation_id"]

    reply = await service.rasa(contract.SERVICE_HANDOFFS_PATH, payload)

    assert reply.status == 422
    assert reply.body["error"]["field"] == "conversation_id"
    await _nothing_stored(service)


async def test_a_bad_priority_is_refused(service: RunningService) -> None:
    reply = await service.handoff("conv-1", priority="whenever")

    assert reply.status == 422
    assert reply.body["error"]["field"] == "priority"


async def test_an_oversized_body_is_refused(service: RunningService) -> None:
    payload = handoff_payload(reason="x" * 2_000_000)

    reply = await service.rasa(contract.SERVICE_HANDOFFS_PATH, payload)

    assert reply.status == 413
    assert reply.body["error"]["code"] == "payload_too_large"
    await _nothing_stored(service)


async def test_an_overlong_field_is_refused(service: RunningService) -> None:
    reply = await service.handoff("conv-1", reason="x" * (contract.MAX_REASON_LENGTH + 1))

    assert reply.status == 422
    assert reply.body["error"]["field"] == "reason"
    await _nothing_stored(service)


async def test_a_non_object_body_is_refused(service: RunningService) -> None:
    reply = await service.rasa(contract.SERVICE_HANDOFFS_PATH, [1, 2, 3])

    assert reply.status == 422
    assert "JSON object" in reply.body["error"]["message"]
