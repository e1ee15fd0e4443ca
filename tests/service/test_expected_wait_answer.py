"""The expected wait the handoff answer carries, from the real queue of a running service (SQLite
and PostgreSQL): tickets ahead, the team's attendants signed in, its recent times to claim."""

from __future__ import annotations

from handoff_component import contract
from tests.service.support import Attendant, RunningService, handoff_payload


async def _handoff(service: RunningService, conversation: str, **fields: object) -> dict:
    reply = await service.handoff(
        conversation,
        idempotency_key=contract.idempotency_key_for(conversation, "ev-handoff"),
        **fields,
    )
    assert reply.status == 201, reply.body
    return reply.body


async def _claimed_after(
    service: RunningService, attendant: Attendant, minutes: list[float], team: str = "support"
) -> None:
    """History: one ticket per figure, claimed that many minutes after it opened."""
    for index, wait in enumerate(minutes):
        body = await _handoff(service, f"history-{team}-{index}", team=team)
        service.clock.advance(minutes=wait)
        claimed = await attendant.post(f"/api/tickets/{body['ticket']['id']}/claim")
        assert claimed.status == 200, claimed.body
        closed = await attendant.post(f"/api/tickets/{body['ticket']['id']}/close")
        assert closed.status == 200, closed.body


async def test_nothing_known_means_no_figure_and_the_plain_message(
    service: RunningService,
) -> None:
    body = await _handoff(service, "conv-1")

    assert body["ticket"]["expected_wait_seconds"] is None
    assert body["ticket"]["expected_wait_minutes"] is None
    assert contract.HandoffAnswer.from_dict(body).expected_wait_seconds is None


async def test_the_figure_is_the_team_s_median_time_to_claim_for_an_empty_queue(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 4, 9])

    body = await _handoff(service, "conv-1")

    assert body["ticket"]["expected_wait_seconds"] == 240
    assert body["ticket"]["expected_wait_minutes"] == 4
    assert contract.HandoffAnswer.from_dict(body).expected_wait_seconds == 240


async def test_the_figure_grows_with_the_tickets_ahead_and_shrinks_with_attendants(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 2, 2])

    first = await _handoff(service, "conv-1")
    second = await _handoff(service, "conv-2")
    third = await _handoff(service, "conv-3")
    await service.attendant("bea", teams=["support"])
    fourth = await _handoff(service, "conv-4")

    waits = [b["ticket"]["expected_wait_seconds"] for b in (first, second, third, fourth)]
    # One attendant: rounds 1, 2, 3; then two attendants take the three ahead two at a time.
    assert waits == [120, 240, 360, 240]


async def test_a_more_urgent_ticket_waits_behind_only_the_urgent_ones(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [3, 3, 3])
    for index in range(3):
        await _handoff(service, f"normal-{index}", priority="normal")

    urgent = await _handoff(service, "urgent-1", priority="urgent")
    normal = await _handoff(service, "normal-3", priority="normal")

    assert urgent["ticket"]["expected_wait_seconds"] == 180  # first in line
    assert normal["ticket"]["expected_wait_seconds"] == 5 * 180  # behind four


async def test_each_team_has_its_own_queue_and_attendants(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")  # claims any team's, counts in none
    await _claimed_after(service, ana, [1, 1, 1])
    await _claimed_after(service, sam, [3, 3, 3], team="billing")
    await _handoff(service, "conv-support-first", team="support")

    billing = await _handoff(service, "conv-billing", team="billing")
    support = await _handoff(service, "conv-support", team="support")

    assert billing["ticket"]["expected_wait_seconds"] is None  # nobody of billing signed in
    assert support["ticket"]["expected_wait_seconds"] == 2 * 60  # support's pace and queue


async def test_attendants_signed_out_do_not_count(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 2, 2])
    signed_out = await service.call(
        "POST", "/api/auth/logout", headers={"Authorization": f"Bearer {ana.token}"}
    )
    assert signed_out.status == 200

    body = await _handoff(service, "conv-1")
    await service.login("ana")
    again = await _handoff(service, "conv-2")

    assert body["ticket"]["expected_wait_seconds"] is None
    assert again["ticket"]["expected_wait_seconds"] == 2 * 120  # conv-1 is ahead


async def test_a_session_that_expired_does_not_count(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 2, 2])
    service.clock.advance(hours=13)  # sessions last 12 hours

    body = await _handoff(service, "conv-1")

    assert body["ticket"]["expected_wait_seconds"] is None


async def test_tickets_handed_back_unclaimed_count_with_the_time_they_waited(
    service: RunningService,
) -> None:
    """Without them a team that lets tickets time out would look fast."""
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [1])
    for index in range(2):
        await _handoff(service, f"ignored-{index}", unclaimed_timeout_seconds=600)
    service.clock.advance(minutes=10)
    assert (await service.ctx.automation.run_once()).unclaimed == 2

    body = await _handoff(service, "conv-1")

    # Samples 1, 10 and 10 minutes: the median is 10.
    assert body["ticket"]["expected_wait_seconds"] == 600


async def test_claims_older_than_the_window_are_forgotten(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 2, 2])
    service.clock.advance(hours=25)
    ana = await service.login("ana")  # a new session: the old one expired

    body = await _handoff(service, "conv-1")

    assert body["ticket"]["expected_wait_seconds"] is None


async def test_the_inbox_shows_the_figure_the_customer_was_told(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [5, 5, 5])
    body = await _handoff(service, "conv-1")

    shown = (await ana.get(f"/api/tickets/{body['ticket']['id']}")).body["ticket"]
    listed = (await ana.get("/api/tickets?status=open")).body["tickets"]

    assert shown["expected_wait_seconds"] == 300
    assert shown["expected_wait_minutes"] == 5
    assert [t["expected_wait_minutes"] for t in listed] == [5]


async def test_a_retried_handoff_answers_the_same_figure(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 2, 2])
    first = await _handoff(service, "conv-1")
    await _handoff(service, "conv-2")

    again = await service.handoff(
        "conv-1", idempotency_key=contract.idempotency_key_for("conv-1", "ev-handoff")
    )

    assert again.status == 200
    assert again.body["ticket"]["expected_wait_seconds"] == first["ticket"]["expected_wait_seconds"]


async def test_a_later_trigger_that_raises_the_ticket_estimates_it_again(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _claimed_after(service, ana, [2, 2, 2])
    for index in range(2):
        await _handoff(service, f"high-{index}", priority="high")
    low = await _handoff(service, "conv-1", priority="low")
    assert low["ticket"]["expected_wait_seconds"] == 3 * 120

    later = handoff_payload(
        "conv-1",
        idempotency_key=contract.idempotency_key_for("conv-1", "ev-later"),
        rule="explicit_request",
        priority="urgent",
    )
    raised = await service.rasa(contract.SERVICE_HANDOFFS_PATH, later)

    assert raised.status == 200
    assert raised.body["ticket"]["priority"] == "urgent"
    assert raised.body["ticket"]["expected_wait_seconds"] == 120  # now first in line


async def test_takeovers_do_not_count_as_claims(service_with_connector: RunningService) -> None:
    """A supervisor's takeover is claimed as it opens: counted, it would halve support's pace."""
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    await _claimed_after(service, ana, [5, 5, 5])
    support = next(t for t in (await sam.get("/api/teams")).body["teams"] if t["name"] == "support")
    for index in range(3):
        taken = await sam.post(
            "/api/takeovers",
            {"conversation_id": f"live-{index}", "channel": "socketio", "reason": "VIP",
             "team_id": support["id"]},
        )  # fmt: skip
        assert taken.status == 201, taken.body
        assert (await sam.post(f"/api/tickets/{taken.body['ticket']['id']}/close")).status == 200

    body = await _handoff(service, "conv-1")

    assert body["ticket"]["expected_wait_seconds"] == 300
