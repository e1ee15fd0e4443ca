"""Who hears about a ticket change: the live stream of each signed-in attendant.

Each change is published once, after its transaction commits, to an in-process bus; each Server-Sent
Events connection subscribes with the attendant's visibility (their teams, their own tickets, or
everything for a supervisor). On PostgreSQL, `event_relay.py` carries the events between replicas.
Team webhooks are not here: they go through the durable outbox (`webhooks.py`) because they must
survive a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from handoff_component.service.access import Viewer


@dataclass(frozen=True)
class TicketEvent:
    """One notification: `type` like `ticket.created`, plus the data the Inbox needs to redraw."""

    type: str
    ticket_id: int
    team_id: int | None
    assignee_id: int | None
    data: dict[str, Any]
    # Set on transfers, so the attendant or team that lost the ticket hears about it too.
    previous_team_id: int | None = None
    previous_assignee_id: int | None = None

    def visible_to(self, viewer: Viewer) -> bool:
        return viewer.sees(self.team_id, self.assignee_id) or viewer.sees(
            self.previous_team_id, self.previous_assignee_id
        )


# Not a ticket change: tells a stream to end (see `TicketEventBus.end_streams`).
STREAM_ENDED = TicketEvent(
    type="stream.ended", ticket_id=0, team_id=None, assignee_id=None, data={}
)

# Not a ticket change either: what an attendant may see changed (teams, role, deactivation, a
# session revoked). Delivered to that attendant's streams only, which re-read their viewer.
ACCESS_CHANGED = "access.changed"


def access_changed(attendant_id: int) -> TicketEvent:
    return TicketEvent(
        type=ACCESS_CHANGED,
        ticket_id=0,
        team_id=None,
        assignee_id=None,
        data={"attendant_id": attendant_id},
    )


@dataclass
class Subscription:
    """One open stream: whose it is, what it may see now (re-read on `access.changed`), its queue.

    `viewer` is replaced by the stream when access changes; events are checked against it when
    they are queued and again when they are sent, so an event queued just before a change that
    hid it is not sent after it, and one published between a change and the stream applying it
    is queued and judged by the new viewer.
    """

    viewer: Viewer
    queue: asyncio.Queue[TicketEvent]
    # Access changes queued and not yet applied by the stream. While one is pending, `viewer` is
    # out of date: an event it hides may be one the new viewer sees (the first ticket of a team
    # the attendant just joined), so every event is queued and `wants` decides when it is sent.
    access_changes_pending: int = 0

    def wants(self, event: TicketEvent) -> bool:
        """Should the stream send `event` to its attendant, by the viewer it holds now?"""
        if event.type == ACCESS_CHANGED:
            return bool(event.data.get("attendant_id") == self.viewer.attendant_id)
        return event is STREAM_ENDED or event.visible_to(self.viewer)

    def takes(self, event: TicketEvent) -> bool:
        """Should `event` be queued? As `wants`, except while an access change is pending."""
        if event.type == ACCESS_CHANGED:
            mine = self.wants(event)
            if mine:
                self.access_changes_pending += 1
            return mine
        return self.access_changes_pending > 0 or self.wants(event)

    def access_applied(self, viewer: Viewer) -> None:
        """The stream has re-read its viewer after one queued access change."""
        self.viewer = viewer
        self.access_changes_pending = max(0, self.access_changes_pending - 1)


class TicketEventBus:
    """In-process publish/subscribe; a slow subscriber drops its oldest events, never blocks.

    With several replicas, `event_relay.py` adds a forwarder that sends each event published here
    to the other replicas, and hands the events they send to `deliver` (local subscribers only,
    so nothing is forwarded twice).
    """

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: list[Subscription] = []
        self._forwarders: list[Callable[[TicketEvent], None]] = []
        self._queue_size = queue_size
        self.published = 0

    def publish(self, event: TicketEvent) -> None:
        """An event that happened in this process: local subscribers, then every forwarder."""
        self.published += 1
        self.deliver(event)
        for forward in self._forwarders:
            forward(event)

    def add_forwarder(self, forward: Callable[[TicketEvent], None]) -> None:
        """`forward` is called with each event published here; it must not block (enqueue only)."""
        self._forwarders.append(forward)

    def deliver(self, event: TicketEvent) -> None:
        """Hand `event` to this process's subscribers only (events relayed from other replicas)."""
        for subscription in list(self._subscribers):
            if subscription.takes(event):
                _put_dropping_oldest(subscription.queue, event)

    def end_streams(self) -> int:
        """Ask every open stream of this process to end, so each client reconnects and reloads.

        Used when this replica may have missed events (its LISTEN connection was lost for a
        while): a stream that silently skipped changes would leave an attendant's Inbox wrong
        until the next reload, while an ended stream makes EventSource reconnect and the Inbox
        refresh its list, which it does on every reconnect.
        """
        subscribers = list(self._subscribers)
        for subscription in subscribers:
            _put_dropping_oldest(subscription.queue, STREAM_ENDED)
        return len(subscribers)

    @contextlib.asynccontextmanager
    async def subscribe(self, viewer: Viewer) -> AsyncIterator[Subscription]:
        subscription = Subscription(viewer, asyncio.Queue(self._queue_size))
        self._subscribers.append(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)


def _put_dropping_oldest(queue: asyncio.Queue[TicketEvent], event: TicketEvent) -> None:
    if queue.full():
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)
