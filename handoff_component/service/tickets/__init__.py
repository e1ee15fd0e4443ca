"""Tickets: the store (`store.py`), its reads (`queries.py`), the mirror of Rasa's events
(`mirror.py`), routing to teams (`routing.py`), the shared SQL (`rows.py`) and the JSON views
(`views.py`). Import the names from here."""

from handoff_component.service.tickets.mirror import EventOutcome
from handoff_component.service.tickets.model import (
    AttendantRef,
    Message,
    Note,
    TeamRef,
    Ticket,
    TicketDetail,
    Transition,
)
from handoff_component.service.tickets.queries import (
    MAX_PAGE_SIZE,
    TicketFilter,
    TicketPage,
    decode_cursor,
    encode_cursor,
)
from handoff_component.service.tickets.routing import ROUTE_CACHE_SECONDS, Route
from handoff_component.service.tickets.rows import ACTIVE
from handoff_component.service.tickets.states import state_of
from handoff_component.service.tickets.store import ActionOutcome, NewReply, TicketStore
from handoff_component.service.tickets.views import (
    detail_json,
    message_json,
    note_json,
    ticket_from_json,
    ticket_json,
    transition_json,
)

__all__ = [
    "ACTIVE",
    "MAX_PAGE_SIZE",
    "ROUTE_CACHE_SECONDS",
    "ActionOutcome",
    "AttendantRef",
    "EventOutcome",
    "Message",
    "NewReply",
    "Note",
    "Route",
    "TeamRef",
    "Ticket",
    "TicketDetail",
    "TicketFilter",
    "TicketPage",
    "TicketStore",
    "Transition",
    "decode_cursor",
    "detail_json",
    "encode_cursor",
    "message_json",
    "note_json",
    "state_of",
    "ticket_from_json",
    "ticket_json",
    "transition_json",
]
