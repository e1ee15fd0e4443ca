"""SLA figures per team and attendant, stats per rule, and the Prometheus text."""

from __future__ import annotations

from tests.service.support import RunningService, user_event


async def _worked_ticket(
    service: RunningService,
    attendant: object,
    conversation: str,
    claim_after: int,
    reply_after: int,
    close_after: int,
) -> dict:
    ticket = (await service.handoff(conversation)).body["ticket"]
    path = f"/api/tickets/{ticket['id']}"
    service.clock.advance(seconds=claim_after)
    await attendant.post(f"{path}/claim")  # type: ignore[attr-defined]
    service.clock.advance(seconds=reply_after)
    await attendant.post(f"{path}/reply", {"text": "hi"})  # type: ignore[attr-defined]
    service.clock.advance(seconds=close_after)
    await attendant.post(f"{path}/close")  # type: ignore[attr-defined]
    return ticket


async def test_sla_figures_come_from_the_tickets_timestamps(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _worked_ticket(service, ana, "c1", claim_after=60, reply_after=30, close_after=210)
    await _worked_ticket(service, ana, "c2", claim_after=120, reply_after=60, close_after=420)
    service.clock.advance(seconds=60)
    await service.events([user_event("one more thing", 9, "c2")])  # reopens c2's ticket

    report = (await ana.get("/api/metrics")).body

    support = next(t for t in report["teams"] if t["team"] == "support")
    assert support["tickets"] == 2
    assert support["time_to_claim_seconds"] == {"count": 2, "mean": 90.0, "p50": 90.0, "p90": 120.0}
    assert support["time_to_first_response_seconds"]["mean"] == 135.0
    assert support["resolution_seconds"] == {"count": 1, "mean": 300.0, "p50": 300.0, "p90": 300.0}
    assert support["reopen_rate"] == 0.5
    assert report["attendants"][0]["username"] == "ana"
    assert report["attendants"][0]["tickets"] == 2


async def test_rule_stats_count_firings_and_outcomes(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _worked_ticket(service, ana, "c1", 1, 1, 1)
    open_ticket = (await service.handoff("c2", rule="human_request")).body["ticket"]
    await ana.post(f"/api/tickets/{open_ticket['id']}/claim")
    await ana.post(f"/api/tickets/{open_ticket['id']}/resume")
    await service.handoff("c3", rule="human_request")

    rules = (await ana.get("/api/stats/rules")).body["rules"]

    assert rules == [
        {
            "rule": "human_request",
            "tickets": 2,
            "active": 1,
            "outcomes": {"resumed_bot": 1},
            "reopens": 0,
        },
        {
            "rule": "negative_sentiment",
            "tickets": 1,
            "active": 0,
            "outcomes": {"closed": 1},
            "reopens": 0,
        },
    ]


async def test_prometheus_text_has_counts_and_figures(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])
    await _worked_ticket(service, ana, "c1", 10, 10, 10)
    await service.handoff("c2")

    reply = await service.http.get(f"{service.url}/metrics")
    text = await reply.text()

    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert 'handoff_tickets{team="support",status="open"} 1' in text
    assert 'handoff_tickets{team="support",status="closed"} 1' in text
    assert 'handoff_time_to_claim_seconds_count{team="support"} 1' in text
    assert "# TYPE handoff_resolution_seconds summary" in text
    for line in text.splitlines():
        assert line.startswith("#") or len(line.rsplit(" ", 1)) == 2


async def test_a_bad_period_is_refused(service: RunningService) -> None:
    ana = await service.attendant("ana", teams=["support"])

    assert (await ana.get("/api/metrics?hours=-1")).status == 400
    assert (await ana.get("/api/metrics?hours=abc")).status == 400
    assert (await ana.get("/api/metrics?team=x")).status == 400
