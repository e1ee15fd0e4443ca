"""Tickets: the store (`store.py`), its reads (`queries.py`), the mirror of Rasa's events
(`mirror.py`), routing to teams (`routing.py`), the shared SQL (`rows.py`) and the JSON views
(`views.py`). Import the names from here."""

from handoff_component.service.tickets.mirror import EventOutcome
from handoff_component.service.tickets.queries import (
    MAX_PAGE_SIZE,
    TicketFilter,
    decode_cursor,
    encode_cursor,
)
from handoff_component.service.tickets.routing import ROUTE_CACHE_SECONDS, Route
from handoff_component.service.tickets.rows import ACTIVE
from handoff_component.service.tickets.states import RowTicket, state_of
from handoff_component.service.tickets.store import ActionOutcome, NewReply, TicketStore
from handoff_component.service.tickets.views import (
    message_view,
    note_view,
    ticket_view,
    transition_view,
)

__all__ = [
    "ACTIVE",
    "MAX_PAGE_SIZE",
    "ROUTE_CACHE_SECONDS",
    "ActionOutcome",
    "EventOutcome",
    "NewReply",
    "Route",
    "RowTicket",
    "TicketFilter",
    "TicketStore",
    "decode_cursor",
    "encode_cursor",
    "message_view",
    "note_view",
    "state_of",
    "ticket_view",
    "transition_view",
]
