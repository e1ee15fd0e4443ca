"""Property-based test of the ticket store against a model, on SQLite and PostgreSQL.

Hypothesis drives random sequences of handoffs, customer messages (and replays of them), attendant
actions, automation and the passing of time through the real store and database. After every step
the database must agree with a model built from the pure lifecycle: same statuses and assignees,
every state valid, at most one open ticket per conversation, and every message that was accepted
present exactly once, in order — none lost, none doubled.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from handoff_component import contract
from handoff_component.core import ticket_lifecycle as lc
from handoff_component.core.ticket_lifecycle import Actor
from handoff_component.service.db import Database, create_engine, migrate
from handoff_component.service.errors import Conflict
from handoff_component.service.models import teams, tickets
from handoff_component.service.notifications import TicketEventBus
from handoff_component.service.tickets import (
    NewReply,
    TicketStore,
    detail_json,
    state_of,
    ticket_json,
)
from tests.service.support import TABLES, FakeClock, make_settings

CONVERSATIONS = ["c0", "c1", "c2"]
ATTENDANT_IDS = ["1", "2"]
WINDOW = timedelta(minutes=15)
IDLE = timedelta(minutes=30)


@dataclass
class ModelTicket:
    id: int
    conversation: str
    state: lc.TicketState
    thread: list[tuple[str, str]] = field(default_factory=list)


class Backend:
    """One database for the whole hypothesis run; emptied between examples."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        self.engine = create_engine(url)
        self.run(migrate(self.engine))
        self.db = Database(self.engine)

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def reset(self) -> None:
        async def empty() -> None:
            async with self.db.write() as conn:
                if self.db.dialect == "postgresql":
                    await conn.exec_driver_sql(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE")
                else:
                    for table in TABLES.split(", "):
                        await conn.exec_driver_sql(f"DELETE FROM {table}")
                for name in ("7", "8"):
                    await conn.execute(
                        teams.insert().values(
                            id=int(name),
                            name=f"team{name}",
                            display_name=name,
                            created_at=FakeClock().now,
                        )
                    )
                if self.db.dialect == "postgresql":
                    await conn.exec_driver_sql(
                        "INSERT INTO attendants (id, username, display_name, role, password_hash,"
                        " active, created_at) VALUES"
                        " (1, 'a1', 'A1', 'attendant', 'x', true, now()),"
                        " (2, 'a2', 'A2', 'attendant', 'x', true, now())"
                    )
                else:
                    await conn.exec_driver_sql(
                        "INSERT INTO attendants (id, username, display_name, role, password_hash,"
                        " active, created_at) VALUES (1, 'a1', 'A1', 'attendant', 'x', 1, "
                        "'2024-01-01'), (2, 'a2', 'A2', 'attendant', 'x', 1, '2024-01-01')"
                    )

        self.run(empty())

    def close(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()


class StoreMachine(RuleBasedStateMachine):
    backend: Backend

    def __init__(self) -> None:
        super().__init__()
        self.backend.reset()
        self.clock = FakeClock()
        self.settings = make_settings(
            self.backend.url, self.clock, reopen_window=WINDOW, inactivity_timeout=IDLE
        )
        self.store = TicketStore(self.backend.db, TicketEventBus(), self.settings)
        self.tickets: dict[int, ModelTicket] = {}
        self.keys: dict[str, int] = {}
        self.event_counter = 0
        self.last_batch: list[dict[str, Any]] = []

    def run(self, coroutine: Any) -> Any:
        return self.backend.run(coroutine)

    def active_of(self, conversation: str) -> ModelTicket | None:
        for ticket in self.tickets.values():
            if ticket.conversation == conversation and ticket.state.status != lc.Status.CLOSED:
                return ticket
        return None

    # --- rules --------------------------------------------------------------------------------

    @rule(
        conversation=st.sampled_from(CONVERSATIONS),
        key=st.integers(0, 2),
        team=st.sampled_from(["team7", "team8"]),
    )
    def handoff(self, conversation: str, key: int, team: str) -> None:
        idempotency_key = contract.idempotency_key_for(conversation, f"e{key}")
        request = contract.HandoffRequest(
            idempotency_key=idempotency_key,
            conversation_id=conversation,
            channel="socketio",
            rule="r",
            reason="why",
            team=team,
        )
        opened, created = self.run(self.store.open_handoff(request))
        view = ticket_json(opened)
        if idempotency_key in self.keys:
            expected_id: int | None = self.keys[idempotency_key]
        else:
            active = self.active_of(conversation)
            expected_id = active.id if active else None
        if expected_id is None:
            assert created
            state, _ = lc.open_ticket(self.clock.now, team=team[-1], actor=Actor("rasa"))
            self.tickets[view["id"]] = ModelTicket(view["id"], conversation, state)
            self.keys[idempotency_key] = view["id"]
        else:
            assert not created
            assert view["id"] == expected_id

    @rule(conversation=st.sampled_from(CONVERSATIONS))
    def customer_writes(self, conversation: str) -> None:
        self.event_counter += 1
        # Rasa stamps an event when it is said; the thread is in the order things happened, so
        # the customer's clock and the service's must agree, as they do in real time.
        self.clock.advance(seconds=1)
        event = {
            "sender_id": conversation,
            "event": "user",
            "text": f"msg-{self.event_counter}",
            "timestamp": self.clock.now.timestamp(),
        }
        self.last_batch = [event]
        self._deliver(event)

    @precondition(lambda self: bool(self.last_batch))
    @rule()
    def broker_replays_the_last_batch(self) -> None:
        self._deliver(self.last_batch[0])

    def _deliver(self, event: dict[str, Any]) -> None:
        """The model of `append_events` for one customer event (new or replayed)."""
        outcome = self.run(
            self.store.append_events(contract.EventBatch.from_dict({"events": [event]}))
        )
        conversation, text = event["sender_id"], event["text"]
        target = self.active_of(conversation) or self._latest_closed(conversation)
        if target is None:
            assert outcome.ignored == 1
            return
        if ("customer", text) in target.thread:
            assert outcome.appended == 0  # a duplicate (or ignored, if the ticket can't take it)
            return
        try:
            new_state, _ = lc.apply(
                target.state, lc.CustomerMessage(WINDOW), Actor.customer(), self.clock.now
            )
        except lc.InvalidTransition:
            assert outcome.ignored == 1
            return
        assert outcome.appended == 1
        target.state = new_state
        target.thread.append(("customer", text))

    def _latest_closed(self, conversation: str) -> ModelTicket | None:
        closed = [t for t in self.tickets.values() if t.conversation == conversation]
        return max(closed, key=lambda t: (t.state.created_at, t.id)) if closed else None

    @precondition(lambda self: bool(self.tickets))
    @rule(
        data=st.data(),
        action=st.sampled_from(
            [
                "claim",
                "reply",
                "transfer_team",
                "transfer_attendant",
                "note",
                "close",
                "reopen",
                "resume",
                "inactivity",
                "hand_back",
                "unclaimed",
            ]
        ),
        attendant=st.sampled_from(ATTENDANT_IDS),
    )
    def attendant_or_automation_acts(
        self, data: st.DataObject, action: str, attendant: str
    ) -> None:
        ticket = self.tickets[data.draw(st.sampled_from(sorted(self.tickets)))]
        lifecycle_action: Any = {
            "claim": lc.Claim(attendant),
            "reply": lc.Reply(),
            "transfer_team": lc.TransferToTeam(data.draw(st.sampled_from(["7", "8"]))),
            "transfer_attendant": lc.TransferToAttendant(attendant),
            "note": lc.Note(),
            "close": lc.Close(),
            "reopen": lc.Reopen(),
            "resume": lc.ResumeBot(),
            "inactivity": lc.InactivityTimeout(IDLE),
            "hand_back": lc.HandBack(WINDOW),
            "unclaimed": lc.UnclaimedTimeout(IDLE),
        }[action]
        actor = Actor.attendant(attendant)
        self.clock.advance(seconds=1)
        try:
            expected, _ = lc.apply(ticket.state, lifecycle_action, actor, self.clock.now)
        except lc.InvalidTransition:
            expected = None
        if expected is not None and expected.status != lc.Status.CLOSED:
            other = self.active_of(ticket.conversation)
            if other is not None and other.id != ticket.id:
                expected = "conflict"  # type: ignore[assignment]
        reply = (
            NewReply(f"reply-{self.event_counter}", [], int(attendant), "not_configured")
            if action == "reply"
            else None
        )
        try:
            self.run(
                self.store.act(
                    ticket.id,
                    lifecycle_action,
                    actor,
                    reply=reply,
                    note="n" if action == "note" else None,
                )
            )
            outcome: Any = "done"
        except lc.InvalidTransition:
            outcome = None
        except Conflict:
            outcome = "conflict"
        if expected is None or expected == "conflict":
            assert outcome == expected
            return
        assert outcome == "done"
        ticket.state = expected
        if reply is not None:
            ticket.thread.append(("attendant", reply.text))

    @rule(minutes=st.sampled_from([1, 10, 20, 45]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        async def read() -> list[Any]:
            async with self.backend.db.read() as conn:
                return (await conn.execute(select(tickets).order_by(tickets.c.id))).all()

        rows = self.run(read())
        assert [r.id for r in rows] == sorted(self.tickets)
        active_conversations = []
        for row in rows:
            state = state_of(row)
            lc.check_invariants(state)
            model = self.tickets[row.id].state
            assert (
                state.status,
                state.assignee,
                state.team,
                state.handed_back,
                state.reopen_count,
            ) == (model.status, model.assignee, model.team, model.handed_back, model.reopen_count)
            if state.status != lc.Status.CLOSED:
                active_conversations.append(row.conversation_id)
        assert len(active_conversations) == len(set(active_conversations))

    @invariant()
    def no_message_is_lost_or_doubled(self) -> None:
        for ticket in self.tickets.values():
            detail = detail_json(self.run(self.store.detail(ticket.id)))
            thread = [(m["author"], m["text"]) for m in detail["messages"]]
            assert thread == ticket.thread


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_the_store_keeps_its_promises_under_any_sequence(
    backend_name: str, tmp_path: Any, postgres_url: str | None
) -> None:
    if backend_name == "sqlite":
        url = f"sqlite:///{tmp_path}/props.db"
    else:
        from tests.service.support import scratch_postgres

        url = scratch_postgres(postgres_url)
    backend = Backend(url)
    StoreMachine.backend = backend
    try:
        machine_test = StoreMachine.TestCase
        machine_test.settings = settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        machine_test().runTest()
    finally:
        backend.close()
