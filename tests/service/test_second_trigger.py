"""A rule firing again while the conversation's ticket is open (a channel that does not pause).

The second handoff joins the open ticket; it is recorded on the timeline with its rule, reason
and scores, raises the priority (never lowers it), moves the ticket when the rule says so, and
counts once however often it is retried or raced.
"""

from __future__ import annotations

import asyncio

from handoff_component import contract
from tests.service.support import RunningService, handoff_payload, open_stream, read_events


def later_trigger(conversation_id: str = "conv-1", event: str = "ev-later", **fields):
    return handoff_payload(
        conversation_id,
        idempotency_key=contract.idempotency_key_for(conversation_id, event),
        **fields,
    )


async def timeline(service: RunningService, ticket_id: int, supervisor=None) -> list[dict]:
    supervisor = supervisor or await service.attendant("sam", role="supervisor")
    detail = (await supervisor.get(f"/api/tickets/{ticket_id}")).body["ticket"]
    return detail["timeline"]


async def test_a_second_trigger_is_recorded_with_rule_reason_and_scores(
    service: RunningService,
) -> None:
    first = await service.handoff("conv-1", team="billing", rule="billing_complaint")
    second = await service.rasa(
        contract.SERVICE_HANDOFFS_PATH,
        later_trigger(
            rule="explicit_request",
            reason="The customer asked for a person",
            priority="high",
            team="support",
            scores=[{"human_request": 0.97}],
        ),
    )

    assert second.status == 200
    ticket = second.body["ticket"]
    assert ticket["id"] == first.body["ticket"]["id"]
    # the rule's team is not taken without `move_open_ticket`: billing keeps it
    assert ticket["team"]["name"] == "billing"
    records = await timeline(service, ticket["id"])
    assert [r["action"] for r in records] == ["create", "trigger"]
    trigger = records[1]
    assert trigger["actor"] == {"kind": "rasa", "id": "explicit_request"}
    assert trigger["detail"]["rule"] == "explicit_request"
    assert trigger["detail"]["reason"] == "The customer asked for a person"
    assert trigger["detail"]["scores"] == {"human_request": 0.97}
    assert trigger["detail"]["moved"] is False


async def test_a_more_urgent_trigger_raises_the_priority_and_a_milder_one_never_lowers_it(
    service: RunningService,
) -> None:
    first = await service.handoff("conv-1", priority="normal")
    raised = await service.rasa(
        contract.SERVICE_HANDOFFS_PATH, later_trigger(event="ev-2", priority="urgent")
    )
    milder = await service.rasa(
        contract.SERVICE_HANDOFFS_PATH, later_trigger(event="ev-3", priority="low")
    )

    assert first.body["ticket"]["priority"] == "normal"
    assert raised.body["ticket"]["priority"] == "urgent"
    assert milder.body["ticket"]["priority"] == "urgent"
    answer = contract.HandoffAnswer.from_dict(milder.body)
    assert answer.priority == "urgent"
    records = await timeline(service, first.body["ticket"]["id"])
    assert [r["detail"].get("priority") for r in records[1:]] == [
        {"from": "normal", "to": "urgent"},
        {"from": "urgent", "to": "urgent"},
    ]


async def test_a_rule_that_moves_open_tickets_transfers_it_and_the_inbox_hears_live(
    service: RunningService,
) -> None:
    await service.ctx.teams.create(name="legal", display_name="Legal and complaints")
    first = await service.handoff("conv-1", team="billing")
    ticket_id = first.body["ticket"]["id"]
    supervisor = await service.attendant("sam", role="supervisor")
    assert (await supervisor.post(f"/api/tickets/{ticket_id}/claim")).status == 200
    stream = await open_stream(service, supervisor.token)

    moved = await service.rasa(
        contract.SERVICE_HANDOFFS_PATH,
        later_trigger(
            rule="legal_chargeback", team="legal", priority="urgent", move_open_ticket=True
        ),
    )

    ticket = moved.body["ticket"]
    assert ticket["team"] == {
        "id": ticket["team"]["id"],
        "name": "legal",
        "display_name": "Legal and complaints",
    }
    # moved to a team: waiting there for a claim, as after an attendant's transfer
    assert (ticket["status"], ticket["assignee"], ticket["priority"]) == ("open", None, "urgent")
    assert contract.HandoffAnswer.from_dict(moved.body).team_display_name == (
        "Legal and complaints"
    )
    events = await asyncio.wait_for(
        read_events(
            stream, lambda events: any(e["data"].get("action") == "trigger" for e in events)
        ),
        timeout=5,
    )
    stream.close()
    live = next(e for e in events if e["data"].get("action") == "trigger")
    assert live["event"] == "ticket.updated"
    assert live["data"]["ticket"]["team"]["name"] == "legal"
    trigger = (await timeline(service, ticket_id, supervisor))[-1]
    assert trigger["action"] == "trigger"
    assert (trigger["from_status"], trigger["to_status"]) == ("in_progress", "open")
    assert trigger["detail"]["moved"] is True


async def test_one_trigger_retried_and_raced_is_recorded_once(service: RunningService) -> None:
    first = await service.handoff("conv-1", priority="normal")
    payload = later_trigger(priority="high")

    replies = await asyncio.gather(
        *(service.rasa(contract.SERVICE_HANDOFFS_PATH, payload) for _ in range(8))
    )

    assert {r.status for r in replies} == {200}
    assert {r.body["ticket"]["id"] for r in replies} == {first.body["ticket"]["id"]}
    assert await service.table_count("ticket_triggers") == 1
    records = await timeline(service, first.body["ticket"]["id"])
    assert [r["action"] for r in records] == ["create", "trigger"]


async def test_a_retry_of_the_first_handoff_is_not_a_second_trigger(
    service: RunningService,
) -> None:
    first = await service.handoff("conv-1")
    again = await service.handoff("conv-1", priority="urgent")

    assert again.body["ticket"]["priority"] == first.body["ticket"]["priority"]
    assert [r["action"] for r in await timeline(service, first.body["ticket"]["id"])] == ["create"]
    assert await service.table_count("ticket_triggers") == 0
