"""Every invariant of the ticket store under requests that race each other, on both databases.

Each test repeats a race many times: the requests of one try wait at a barrier (`at_once`) and
go together, over HTTP, to a real server; then the invariant is checked on what was stored. A
race that a request-at-a-time test never sees shows up here in a few tries.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from handoff_component import contract
from handoff_component.service.models import tickets
from handoff_component.service.tickets import detail_json
from tests.service.support import FakeConnector, RunningService, at_once, user_event

TRIES = 40


async def _open(service: RunningService, conversation: str, team: str = "support") -> int:
    reply = await service.handoff(
        conversation,
        team=team,
        idempotency_key=contract.idempotency_key_for(conversation, "ev-handoff"),
    )
    assert reply.status == 201, reply.body
    return int(reply.body["ticket"]["id"])


async def _open_ids(service: RunningService, conversation: str) -> list[int]:
    async with service.ctx.db.read() as conn:
        rows = await conn.execute(
            select(tickets.c.id).where(
                tickets.c.conversation_id == conversation, tickets.c.status != "closed"
            )
        )
        return [row.id for row in rows]


async def _ticket(service: RunningService, ticket_id: int) -> dict[str, Any]:
    return dict(detail_json(await service.ctx.tickets.detail(ticket_id)))


async def test_a_claim_racing_a_transfer_never_leaves_a_ticket_with_an_outsider(
    service: RunningService,
) -> None:
    """Ana is in support only: whatever the order, she never ends up holding a legal ticket."""
    await service.ctx.teams.create(name="legal")
    legal = (await service.ctx.teams.by_name("legal"))["id"]
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    outcomes: Counter[tuple[int, int]] = Counter()
    for attempt in range(TRIES):
        ticket_id = await _open(service, f"race-{attempt}")

        claim, transfer = await at_once(
            [
                ana.post(f"/api/tickets/{ticket_id}/claim"),
                sam.post(f"/api/tickets/{ticket_id}/transfer", {"team_id": legal}),
            ]
        )

        ticket = await _ticket(service, ticket_id)
        outcomes[(claim.status, transfer.status)] += 1
        assert transfer.status == 200, transfer.body
        assert ticket["team"]["name"] == "legal"
        assert ticket["assignee"] is None, (attempt, claim.status, ticket["assignee"])
    # Both orders happen: the claim first (then the transfer unassigns), or refused after it.
    assert set(outcomes) <= {(200, 200), (403, 200), (409, 200)}


async def test_a_team_mate_cannot_take_a_claimed_ticket_by_transferring_it(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    bob = await service.attendant("bob", teams=["support"])
    for attempt in range(TRIES // 4):
        ticket_id = await _open(service, f"taken-{attempt}")
        assert (await ana.post(f"/api/tickets/{ticket_id}/claim")).status == 200

        to_self, reply = await at_once(
            [
                bob.post(f"/api/tickets/{ticket_id}/transfer", {"attendant_id": bob.id}),
                ana.post(f"/api/tickets/{ticket_id}/reply", {"text": "On it"}),
            ]
        )
        to_team = await bob.post(f"/api/tickets/{ticket_id}/transfer", {"team_id": 2})

        ticket = await _ticket(service, ticket_id)
        assert to_self.status == 403 and to_team.status == 403, to_self.body
        assert "holds this ticket" in to_self.body["error"]["message"]
        assert reply.status == 201
        assert ticket["assignee"]["id"] == ana.id


async def test_a_reply_racing_a_transfer_is_stored_only_if_it_came_first(
    service_with_connector: RunningService, connector: FakeConnector
) -> None:
    """... and reaches the customer (Rasa's connector) only then: a refused one is never sent."""
    service = service_with_connector
    ana = await service.attendant("ana", teams=["support"])
    sam = await service.attendant("sam", role="supervisor")
    billing = (await service.ctx.teams.by_name("billing"))["id"]
    seen: Counter[int] = Counter()
    for attempt in range(TRIES):
        ticket_id = await _open(service, f"reply-race-{attempt}")
        await ana.post(f"/api/tickets/{ticket_id}/claim")

        reply, transfer = await at_once(
            [
                ana.post(f"/api/tickets/{ticket_id}/reply", {"text": f"try {attempt}"}),
                sam.post(f"/api/tickets/{ticket_id}/transfer", {"team_id": billing}),
            ]
        )

        ticket = await _ticket(service, ticket_id)
        actions = [t["action"] for t in ticket["timeline"]]
        replies = [m for m in ticket["messages"] if m["author"] == "attendant"]
        seen[reply.status] += 1
        assert transfer.status == 200
        sent = [
            body["text"]
            for path, body in connector.commands
            if path == "reply" and body["conversation_id"] == f"reply-race-{attempt}"
        ]
        if reply.status == 201:
            assert actions.index("reply") < actions.index("transfer")
            assert len(replies) == 1
            assert sent == [f"try {attempt}"]
        else:
            assert reply.status == 403, reply.body
            assert replies == [] and "reply" not in actions
            assert sent == [], (attempt, sent)
    assert set(seen) <= {201, 403}


async def test_one_claim_wins_among_many(service: RunningService) -> None:
    team = [await service.attendant(f"agent{n}", teams=["support"]) for n in range(6)]
    for attempt in range(TRIES):
        ticket_id = await _open(service, f"claim-{attempt}")

        claims = await at_once((a.post(f"/api/tickets/{ticket_id}/claim")) for a in team)

        statuses = Counter(c.status for c in claims)
        ticket = await _ticket(service, ticket_id)
        assert statuses == Counter({200: 1, 409: 5}), statuses
        winner = next(a for a, c in zip(team, claims, strict=True) if c.status == 200)
        assert ticket["assignee"]["id"] == winner.id
        assert [t["action"] for t in ticket["timeline"]].count("claim") == 1


async def test_one_open_ticket_per_conversation_among_simultaneous_handoffs(
    service: RunningService,
) -> None:
    for attempt in range(TRIES):
        conversation = f"dup-{attempt}"

        answers = await at_once(
            (
                service.handoff(
                    conversation,
                    idempotency_key=contract.idempotency_key_for(conversation, f"ev-{n}"),
                )
            )
            for n in range(5)
        )

        ids = {a.body["ticket"]["id"] for a in answers}
        assert len(ids) == 1, answers
        assert sorted(a.status for a in answers) == [200, 200, 200, 200, 201]
        listed = await _open_ids(service, conversation)
        assert listed == list(ids)


async def test_event_batches_touching_conversations_in_opposite_orders_all_succeed(
    service: RunningService,
) -> None:
    """On PostgreSQL these deadlocked (a 500 the broker had to retry) before tickets were
    locked in one order."""
    for attempt in range(TRIES // 2):
        first, second = f"ab-{attempt}-a", f"ab-{attempt}-b"
        ids = [await _open(service, first), await _open(service, second)]
        forward = [user_event(f"{c} one", 10 + attempt, c) for c in (first, second)]
        backward = [user_event(f"{c} two", 20 + attempt, c) for c in (second, first)]

        answers = await at_once(
            service.events(batch) for batch in (forward, backward, forward, backward)
        )

        assert [a.status for a in answers] == [200] * 4, [a.body for a in answers]
        assert sum(a.body["appended"] for a in answers) == 4
        assert sum(a.body["duplicates"] for a in answers) == 4
        for ticket_id in ids:
            texts = [m["text"] for m in (await _ticket(service, ticket_id))["messages"]]
            assert len([t for t in texts if t.endswith((" one", " two"))]) == 2


async def test_a_customer_reopening_while_a_new_handoff_opens_leaves_one_ticket_with_the_message(
    service: RunningService,
) -> None:
    ana = await service.attendant("ana", teams=["support"])
    statuses: Counter[tuple[int, int]] = Counter()
    for attempt in range(TRIES):
        conversation = f"reopen-{attempt}"
        closed = await _open(service, conversation)
        await ana.post(f"/api/tickets/{closed}/claim")
        await ana.post(f"/api/tickets/{closed}/close")
        text = f"one more thing {attempt}"

        message, handoff = await at_once(
            [
                service.events([user_event(text, 100 + attempt, conversation)]),
                service.handoff(
                    conversation,
                    idempotency_key=contract.idempotency_key_for(conversation, "ev-second"),
                ),
            ]
        )

        statuses[(message.status, handoff.status)] += 1
        assert message.status == 200, message.body
        assert handoff.status in (200, 201), handoff.body
        open_ids = await _open_ids(service, conversation)
        assert len(open_ids) == 1
        holders = []
        for ticket_id in {closed, *open_ids}:
            texts = [m["text"] for m in (await _ticket(service, ticket_id))["messages"]]
            holders += [ticket_id] * texts.count(text)
        assert holders == open_ids  # the message is stored once, in the open ticket
    assert set(statuses) <= {(200, 200), (200, 201)}


class TestAnotherProcessHoldingSQLitesWriteLock:
    @pytest.fixture
    def db_url(self, tmp_path: Any) -> str:
        return f"sqlite:///{tmp_path}/handoff.db"

    async def test_a_write_waits_for_the_lock_instead_of_failing(
        self, service: RunningService, tmp_path: Any
    ) -> None:
        await _open(service, "before")  # the schema exists and the file is in WAL mode
        held = threading.Event()
        release = threading.Event()

        def hold_the_write_lock() -> None:
            other = sqlite3.connect(tmp_path / "handoff.db", isolation_level=None)
            other.execute("BEGIN IMMEDIATE")
            held.set()
            release.wait(timeout=10)
            other.execute("COMMIT")
            other.close()

        holder = threading.Thread(target=hold_the_write_lock)
        holder.start()
        await asyncio.get_running_loop().run_in_executor(None, held.wait)
        handoff = asyncio.ensure_future(service.handoff("while-locked"))
        # Release when the request answers (a failure: it did not wait) or after a second.
        done, _ = await asyncio.wait({handoff}, timeout=1.0)
        answered_while_locked = bool(done)
        release.set()
        answer = await handoff
        await asyncio.get_running_loop().run_in_executor(None, holder.join)

        assert not answered_while_locked, answer.body
        assert answer.status == 201, answer.body
        assert len(await _open_ids(service, "while-locked")) == 1
