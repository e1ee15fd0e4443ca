"""The in-process bus queues what a stream may need, judged by the viewer the stream will hold.

The stream applies an access change when it reads it from its queue, so events published between
the change and that moment must not be filtered by the viewer the stream held before it.
"""

from __future__ import annotations

import asyncio

from handoff_component.service.access import Viewer
from handoff_component.service.notifications import TicketEvent, TicketEventBus, access_changed

SUPPORT, BILLING = 1, 2


def _created(ticket_id: int, team_id: int) -> TicketEvent:
    return TicketEvent("ticket.created", ticket_id, team_id, None, {})


def _queued(queue: asyncio.Queue[TicketEvent]) -> list[TicketEvent]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def test_a_ticket_of_a_team_just_joined_is_queued_before_the_stream_applies_the_change() -> (
    None
):
    bus = TicketEventBus()
    async with bus.subscribe(Viewer(7, "attendant", frozenset({SUPPORT}))) as subscription:
        bus.publish(access_changed(7))
        bus.publish(_created(1, BILLING))
        queued = _queued(subscription.queue)
        assert [e.type for e in queued] == ["access.changed", "ticket.created"]

        subscription.access_applied(Viewer(7, "attendant", frozenset({SUPPORT, BILLING})))
        assert subscription.wants(queued[1])
        assert subscription.access_changes_pending == 0


async def test_without_a_pending_change_hidden_tickets_are_not_queued() -> None:
    bus = TicketEventBus()
    async with bus.subscribe(Viewer(7, "attendant", frozenset({SUPPORT}))) as subscription:
        bus.publish(access_changed(8))  # someone else's access
        bus.publish(_created(1, BILLING))
        bus.publish(_created(2, SUPPORT))
        assert [e.ticket_id for e in _queued(subscription.queue)] == [2]


async def test_a_ticket_queued_while_a_change_is_pending_is_not_sent_if_the_change_hides_it() -> (
    None
):
    bus = TicketEventBus()
    async with bus.subscribe(Viewer(7, "attendant", frozenset({SUPPORT}))) as subscription:
        bus.publish(access_changed(7))
        bus.publish(_created(1, BILLING))
        bus.publish(_created(2, SUPPORT))
        _, billing, support = _queued(subscription.queue)
        subscription.access_applied(Viewer(7, "attendant", frozenset()))  # removed from support
        assert not subscription.wants(billing) and not subscription.wants(support)
