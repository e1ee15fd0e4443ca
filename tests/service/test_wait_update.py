"""The one update of a wait that grew: the automation pass sends it through the connector when a
customer waiting unclaimed would now wait at least twice as long as told and five minutes more;
once, and never for a claimed ticket (a running service on SQLite and PostgreSQL, the connector a
local listener)."""

from __future__ import annotations

from typing import Any

import pytest

from handoff_component import contract
from tests.service.support import Attendant, FakeConnector, RunningService


async def _handoff(service: RunningService, conversation: str, **fields: Any) -> dict:
    reply = await service.handoff(
        conversation,
        idempotency_key=contract.idempotency_key_for(conversation, "ev-handoff"),
        **fields,
    )
    assert reply.status == 201, reply.body
    return reply.body["ticket"]


async def _history(service: RunningService, attendant: Attendant, minutes: float) -> None:
    for index in range(3):
        ticket = await _handoff(service, f"history-{index}")
        service.clock.advance(minutes=minutes)
        assert (await attendant.post(f"/api/tickets/{ticket['id']}/claim")).status == 200
        assert (await attendant.post(f"/api/tickets/{ticket['id']}/close")).status == 200


async def _sign_out(service: RunningService, attendant: Attendant) -> None:
    headers = {"Authorization": f"Bearer {attendant.token}"}
    assert (await service.call("POST", "/api/auth/logout", headers=headers)).status == 200


async def _told_eight_minutes(service: RunningService) -> tuple[dict, Attendant]:
    """Support's pace is 4 minutes; ana and bea are signed in; three tickets wait ahead of
    conv-1, so it is in round 2: 8 minutes. Returns conv-1's ticket and bea."""
    ana = await service.attendant("ana", teams=["support"])
    bea = await service.attendant("bea", teams=["support"])
    await _history(service, ana, 4)
    for index in range(3):
        await _handoff(service, f"ahead-{index}")
    ticket = await _handoff(service, "conv-1")
    assert ticket["expected_wait_seconds"] == 8 * 60
    return ticket, bea


def _waits(connector: FakeConnector) -> list[dict]:
    return [c for path, c in connector.commands if path == contract.CONNECTOR_WAIT_PATH]


async def test_the_customer_hears_once_that_the_wait_doubled(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    connector.answers[contract.CONNECTOR_WAIT_PATH] = {"notice": "delivered"}
    ticket, bea = await _told_eight_minutes(service)
    await _sign_out(service, bea)  # one attendant left: round 4, 16 minutes
    service.clock.advance(seconds=30)

    first = await service.ctx.automation.run_once()
    second = await service.ctx.automation.run_once()

    assert (first.wait_updates, second.wait_updates) == (1, 0)
    (sent,) = _waits(connector)
    assert sent["conversation_id"] == "conv-1"
    assert sent["ticket_id"] == ticket["id"]
    assert sent["expected_wait_seconds"] == 16 * 60
    sam = await service.attendant("sam", role="supervisor")
    shown = (await sam.get(f"/api/tickets/{ticket['id']}")).body["ticket"]
    assert shown["expected_wait_minutes"] == 15  # what "about 15 minutes" says
    assert shown["wait_update_sent"] is True
    record = shown["timeline"][-1]
    assert record["action"] == "wait_update"
    assert record["detail"] == {
        "expected_wait_minutes": {"from": 8, "to": 15},
        "expected_wait_seconds": {"from": 480, "to": 960},
        "delivered": True,
    }


async def test_a_wait_that_grew_by_less_than_five_minutes_is_not_worth_a_message(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    bea = await service.attendant("bea", teams=["support"])
    await _history(service, ana, 1)
    await _handoff(service, "ahead-0")
    await _handoff(service, "conv-1")  # round 1 of two attendants: 1 minute
    await _sign_out(service, bea)  # round 2: 2 minutes, twice as long but one minute more

    assert (await service.ctx.automation.run_once()).wait_updates == 0
    assert _waits(connector) == []


async def test_a_claimed_ticket_gets_no_update(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    ticket, bea = await _told_eight_minutes(service)
    assert (await bea.post(f"/api/tickets/{ticket['id']}/claim")).status == 200
    await _sign_out(service, bea)

    assert (await service.ctx.automation.run_once()).wait_updates == 0
    assert _waits(connector) == []


async def test_waiting_long_past_the_figure_at_the_front_of_the_queue_is_updated(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    connector.answers[contract.CONNECTOR_WAIT_PATH] = {"notice": "delivered"}
    ana = await service.attendant("ana", teams=["support"])
    await _history(service, ana, 2)
    await _handoff(service, "conv-1")  # 2 minutes
    service.clock.advance(minutes=4)
    assert (await service.ctx.automation.run_once()).wait_updates == 0  # 4 + 2: +4 minutes

    service.clock.advance(minutes=2)  # 6 waited + 2 to go: four times as told, 6 more
    assert (await service.ctx.automation.run_once()).wait_updates == 1
    assert [c["expected_wait_seconds"] for c in _waits(connector)] == [120]


async def test_a_domain_without_the_response_tells_nobody_and_keeps_the_figure(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    """The connector answers `notice: null` (no utter_handoff_wait_update): marked, not sent
    again, and the Inbox keeps showing what the customer was told."""
    service = service_with_connector
    connector.answers[contract.CONNECTOR_WAIT_PATH] = {"notice": None}
    ticket, bea = await _told_eight_minutes(service)
    await _sign_out(service, bea)

    assert (await service.ctx.automation.run_once()).wait_updates == 1
    assert (await service.ctx.automation.run_once()).wait_updates == 0
    sam = await service.attendant("sam", role="supervisor")
    shown = (await sam.get(f"/api/tickets/{ticket['id']}")).body["ticket"]
    assert shown["expected_wait_seconds"] == 480
    assert shown["timeline"][-1]["detail"]["delivered"] is False


async def test_an_unreachable_connector_leaves_the_update_due(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    service = service_with_connector
    _, bea = await _told_eight_minutes(service)
    await _sign_out(service, bea)
    connector.fail_with = 503

    assert (await service.ctx.automation.run_once()).wait_updates == 0
    connector.fail_with = None
    connector.answers[contract.CONNECTOR_WAIT_PATH] = {"notice": "delivered"}
    assert (await service.ctx.automation.run_once()).wait_updates == 1


class TestTurnedOff:
    @pytest.fixture
    def service_overrides(self) -> dict[str, Any]:
        return {"wait_updates": False}

    async def test_no_update_is_sent(
        self, service_with_connector: RunningService, connector: FakeConnector
    ) -> None:
        service = service_with_connector
        _, bea = await _told_eight_minutes(service)
        await _sign_out(service, bea)

        await service.ctx.automation.run_once()

        assert _waits(connector) == []


def test_the_setting_reads_from_the_environment() -> None:
    from handoff_component.service.settings import Settings

    assert Settings.from_env({}).wait_updates is True
    assert Settings.from_env({"HANDOFF_WAIT_UPDATES": "false"}).wait_updates is False
    assert Settings.from_env({"HANDOFF_WAIT_WINDOW_HOURS": "2"}).wait_window.total_seconds() == 7200


async def test_a_pass_reads_each_team_once_however_many_customers_wait(
    service: RunningService,
) -> None:
    """1 statement for the open tickets, then 3 per team (attendants, claims, unclaimed)."""
    from sqlalchemy import event

    ana = await service.attendant("ana", teams=["support", "billing"])
    await _history(service, ana, 2)
    for index in range(40):
        await _handoff(service, f"support-{index}")
    for index in range(10):
        await _handoff(service, f"billing-{index}", team="billing")  # no history: unknown
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = service.ctx.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await service.ctx.tickets.waits_grown(service.clock())
    finally:
        event.remove(engine, "before_cursor_execute", count)

    # (PostgreSQL's relay between replicas sends its pg_notify on the same engine.)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    selects = [s for s in selects if "pg_notify" not in s]
    assert len(selects) == 1 + 3  # billing's tickets were told nothing: not read again
