"""A team's queue as the expected wait reads it: tickets ahead, attendants signed in, the recent
pace of claims; and the one update of a wait that grew, written once.

The estimate itself is pure (`service/expected_wait.py`); this reads its figures with three
small statements, each on an index: the open tickets ahead (`ix_tickets_team_status_order`), the
team's signed-in attendants (sessions), and its latest claims and unclaimed hand-backs within
the window (`ix_tickets_team_claimed`, `ix_tickets_team_unclaimed`, at most `wait_samples` rows
each), so opening a ticket costs the same whatever the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from handoff_component.contract import expected_wait_minutes
from handoff_component.core.ticket_lifecycle import Actor, Status, TransitionRecord
from handoff_component.service import expected_wait
from handoff_component.service.expected_wait import QueueFigures
from handoff_component.service.models import (
    PRIORITY_RANK,
    attendants,
    sessions,
    team_members,
    tickets,
)
from handoff_component.service.tickets.model import Ticket
from handoff_component.service.tickets.rows import StoreBase, ticket_select

# A ticket a supervisor took over was claimed as it opened: not a sample of the queue's pace.
TAKEOVER_RULE = "manual_takeover"
# The timeline's record of the one update of a wait that grew (from and to, in seconds).
WAIT_UPDATE_ACTION = "wait_update"


@dataclass(frozen=True)
class WaitUpdate:
    """An open ticket whose customer should hear a new expected wait, and that wait."""

    ticket: Ticket
    expected_wait_seconds: float


class TeamQueue(StoreBase):
    """The store's reads of a team's queue for the expected wait, and its writes of it."""

    async def _queue_figures(
        self,
        conn: AsyncConnection,
        team_id: int | None,
        priority: int,
        created_at: datetime,
        ticket_id: int | None,
        now: datetime,
        attendants_now: int | None = None,
    ) -> QueueFigures:
        """The figures of a ticket of `priority` created at `created_at` in `team_id`'s queue
        (`ticket_id` None: one about to be inserted, behind every ticket there now);
        `attendants_now` when already counted."""
        same_team = tickets.c.team_id.is_(None) if team_id is None else tickets.c.team_id == team_id
        earlier = tickets.c.created_at <= created_at
        if ticket_id is not None:
            earlier = or_(
                tickets.c.created_at < created_at,
                and_(tickets.c.created_at == created_at, tickets.c.id < ticket_id),
            )
        ahead = (
            await conn.execute(
                select(func.count())
                .select_from(tickets)
                .where(
                    same_team,
                    tickets.c.status == Status.OPEN.value,
                    or_(
                        tickets.c.priority > priority,
                        and_(tickets.c.priority == priority, earlier),
                    ),
                )
            )
        ).scalar_one()
        if attendants_now is None:
            attendants_now = await self._signed_in(conn, team_id, now)
        return QueueFigures(
            ahead=int(ahead),
            attendants=attendants_now,
            claim_seconds=await self._recent_claims(conn, team_id, now),
        )

    async def _signed_in(self, conn: AsyncConnection, team_id: int | None, now: datetime) -> int:
        """Attendants who may claim the team's tickets, signed in now (an unexpired session) and
        active: its members; for tickets of no team, the supervisors (only they may claim those)."""
        joined = sessions.join(attendants, attendants.c.id == sessions.c.attendant_id)
        query = select(func.count(func.distinct(attendants.c.id)))
        if team_id is None:
            query = query.select_from(joined).where(attendants.c.role == "supervisor")
        else:
            query = query.select_from(
                joined.join(team_members, team_members.c.attendant_id == attendants.c.id)
            ).where(team_members.c.team_id == team_id)
        query = query.where(attendants.c.active.is_(True), sessions.c.expires_at > now)
        return int((await conn.execute(query)).scalar_one())

    async def _recent_claims(
        self, conn: AsyncConnection, team_id: int | None, now: datetime
    ) -> list[float]:
        """The team's latest times to claim within the window, newest first, at most
        `wait_samples`; a ticket handed back unclaimed counts with the time it waited."""
        since = now - self.settings.wait_window
        limit = max(1, self.settings.wait_samples)
        same_team = tickets.c.team_id.is_(None) if team_id is None else tickets.c.team_id == team_id
        claimed = await conn.execute(
            select(tickets.c.created_at, tickets.c.claimed_at.label("at"))
            .where(
                same_team,
                tickets.c.claimed_at.is_not(None),
                tickets.c.claimed_at >= since,
                tickets.c.rule != TAKEOVER_RULE,
            )
            .order_by(tickets.c.claimed_at.desc())
            .limit(limit)
        )
        unclaimed = await conn.execute(
            select(tickets.c.created_at, tickets.c.closed_at.label("at"))
            .where(
                same_team,
                # A literal, so SQLite matches the partial index ix_tickets_team_unclaimed.
                text("tickets.resolution = 'unclaimed'"),
                tickets.c.closed_at >= since,
            )
            .order_by(tickets.c.closed_at.desc())
            .limit(limit)
        )
        samples = sorted([*claimed, *unclaimed], key=lambda r: r.at, reverse=True)[:limit]
        return [(r.at - r.created_at).total_seconds() for r in samples]

    async def _estimate(
        self,
        conn: AsyncConnection,
        team_id: int | None,
        priority: int,
        created_at: datetime,
        ticket_id: int | None,
        now: datetime,
    ) -> float | None:
        attendants_now = await self._signed_in(conn, team_id, now)
        if attendants_now == 0:
            # Nobody can claim it: unknown whatever the queue, so the queue is not read.
            return None
        figures = await self._queue_figures(
            conn, team_id, priority, created_at, ticket_id, now, attendants_now
        )
        return expected_wait.expected_wait_seconds(figures, self.settings.wait_min_samples)

    async def _estimate_again(self, conn: AsyncConnection, ticket: Ticket, now: datetime) -> None:
        """An open ticket moved or raised by a later trigger: its figure is for where it is now
        (what the customer is told if this handoff pauses the bot)."""
        if ticket.status != Status.OPEN:
            return
        seconds = await self._estimate(
            conn, ticket.team_id, PRIORITY_RANK[ticket.priority], ticket.created_at, ticket.id, now
        )
        await conn.execute(
            update(tickets)
            .where(tickets.c.id == ticket.id)
            .values(
                expected_wait_seconds=seconds,
                expected_wait_at=now if seconds is not None else None,
            )
        )

    async def waits_grown(self, now: datetime) -> Sequence[WaitUpdate]:
        """Open, unclaimed tickets whose customer was told a wait that has grown a lot since
        (`expected_wait.wait_grew`), and not updated yet, with the wait expected now.

        One pass reads every open ticket once, in queue order (each ticket's place is its
        index in its team's list), and each team's attendants and pace once: 1 + 3 x teams
        statements, however many customers wait.
        """
        due: list[WaitUpdate] = []
        async with self.db.read() as conn:
            rows = await conn.execute(
                ticket_select()
                .where(tickets.c.status == Status.OPEN.value)
                .order_by(tickets.c.priority.desc(), tickets.c.created_at, tickets.c.id)
            )
            queues: dict[int | None, list[Ticket]] = {}
            for ticket in (Ticket.from_row(r) for r in rows):
                queues.setdefault(ticket.team_id, []).append(ticket)
            for team_id, queue in queues.items():
                waiting = [
                    (ahead, t)
                    for ahead, t in enumerate(queue)
                    if t.expected_wait_seconds is not None
                    and not t.wait_update_sent
                    and t.assignee is None
                ]
                if not waiting:
                    continue
                attendants_now = await self._signed_in(conn, team_id, now)
                if attendants_now == 0:
                    continue  # unknown now: nothing to tell them
                claims = await self._recent_claims(conn, team_id, now)
                for ahead, ticket in waiting:
                    assert ticket.expected_wait_seconds is not None
                    seconds = expected_wait.expected_wait_seconds(
                        QueueFigures(ahead, attendants_now, claims),
                        self.settings.wait_min_samples,
                    )
                    told_at = ticket.expected_wait_at or ticket.created_at
                    if seconds is not None and expected_wait.wait_grew(
                        ticket.expected_wait_seconds,
                        told_at,
                        seconds,
                        now,
                        factor=self.settings.wait_update_factor,
                        min_growth_seconds=self.settings.wait_update_min_growth.total_seconds(),
                    ):
                        due.append(WaitUpdate(ticket, seconds))
        return due

    async def record_wait_update(
        self,
        ticket_id: int,
        told_seconds: float,
        seconds: float,
        *,
        delivered: bool = True,
        error: str | None = None,
    ) -> Ticket | None:
        """The update was sent: mark it, once, with a record on the timeline; when the customer
        was told (`delivered`), the new wait becomes the ticket's figure, so the Inbox shows
        what they heard. None when the ticket was claimed or updated since (nothing written)."""
        now = self.settings.clock()
        values: dict[str, object] = {"wait_update_sent": True, "updated_at": now}
        if delivered:
            values.update(expected_wait_seconds=seconds, expected_wait_at=now)
        async with self.db.write() as conn:
            result = await conn.execute(
                update(tickets)
                .where(
                    tickets.c.id == ticket_id,
                    tickets.c.status == Status.OPEN.value,
                    tickets.c.wait_update_sent.is_(False),
                )
                .values(**values)
            )
            if result.rowcount != 1:
                return None
            detail: dict[str, object] = {
                "expected_wait_minutes": {
                    "from": expected_wait_minutes(told_seconds),
                    "to": expected_wait_minutes(seconds),
                },
                "expected_wait_seconds": {"from": told_seconds, "to": seconds},
                "delivered": delivered,
            }
            if error:
                detail["error"] = error[:1000]
            await self._record(
                conn,
                ticket_id,
                TransitionRecord(
                    WAIT_UPDATE_ACTION,
                    Actor.system("expected_wait"),
                    now,
                    Status.OPEN,
                    Status.OPEN,
                    detail,
                ),
            )
            ticket = await self._ticket(conn, ticket_id)
        self._publish("ticket.updated", ticket, {"action": WAIT_UPDATE_ACTION})
        return ticket
