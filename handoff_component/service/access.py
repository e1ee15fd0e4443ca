"""What an attendant may see and do with a ticket: the one place that decides.

The routes ask `require` before acting, the ticket store asks it again on the locked row inside
the transaction that writes (so a claim racing a transfer is judged against the ticket as it is
when the claim commits, not as it was a moment before), the listing and counting queries filter
with `visibility_clause`, and every ticket the API or the live stream sends carries
`allowed_actions(viewer, ticket)`, which the Inbox shows instead of deciding for itself.

The rules:
- a **supervisor** sees and may do everything;
- an attendant **sees** the tickets of their teams and the tickets assigned to them;
- **claim**: a member of the ticket's team, while it is open;
- a ticket someone holds (an assignee) is theirs: only they, or a supervisor, may **reply**,
  send typing, retry a delivery, **transfer**, **close** or **resume the bot**. A team-mate
  cannot take a colleague's ticket by transferring it to themselves; they ask the holder or a
  supervisor to transfer it;
- an unassigned ticket may be transferred, closed or handed back by anyone who sees it;
- anyone who sees a ticket may add a **note** or **reopen** it.

Whether the ticket's status allows the action is the lifecycle's business
(`core.ticket_lifecycle.allowed_actions`); `allowed_actions` here is both at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import or_
from sqlalchemy.sql.expression import ColumnElement

from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.service.errors import Forbidden
from handoff_component.service.models import tickets

# Actions that belong to whoever holds the ticket, once someone does.
HOLDER_ONLY = frozenset({"reply", "typing", "retry", "transfer", "close", "resume_bot"})


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an attendant's id, role and teams, as their session says now."""

    attendant_id: int
    role: str
    team_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"

    def sees(self, team_id: int | None, assignee_id: int | None) -> bool:
        if self.is_supervisor:
            return True
        return assignee_id == self.attendant_id or (
            team_id is not None and team_id in self.team_ids
        )


class Held(Protocol):
    """What the rules look at in a ticket: its team, its holder and its lifecycle state."""

    @property
    def team_id(self) -> int | None: ...

    @property
    def assignee_id(self) -> int | None: ...

    @property
    def state(self) -> lifecycle.TicketState: ...


def refusal(viewer: Viewer, action: str, ticket: Held) -> str | None:
    """Why `viewer` may not do `action` to `ticket` (whatever its status), or None if they may."""
    if viewer.is_supervisor:
        return None
    if not viewer.sees(ticket.team_id, ticket.assignee_id):
        return "the ticket belongs to a team you are not in"
    if action == "claim":
        if ticket.team_id not in viewer.team_ids:
            return "only members of the ticket's team (or supervisors) may claim it"
        return None
    if action in HOLDER_ONLY and ticket.assignee_id not in (None, viewer.attendant_id):
        return (
            f"attendant {ticket.assignee_id} holds this ticket: only they or a supervisor may "
            f"{action.replace('_', ' ')} it"
        )
    if action in ("reply", "typing", "retry") and ticket.assignee_id is None:
        return "claim the ticket before answering the customer"
    return None


def require(viewer: Viewer | None, action: str, ticket: Held) -> None:
    """`Forbidden` unless `viewer` may do `action`; None is the service itself (automation)."""
    if viewer is None:
        return
    reason = refusal(viewer, action, ticket)
    if reason is not None:
        raise Forbidden(reason)


def require_sight(viewer: Viewer, ticket: Held, ticket_id: int) -> None:
    if not viewer.sees(ticket.team_id, ticket.assignee_id):
        raise Forbidden(f"ticket {ticket_id} belongs to a team you are not in")


def allowed_actions(viewer: Viewer | None, ticket: Held) -> list[str]:
    """The actions the lifecycle allows now that this viewer may also take (all for None)."""
    possible = lifecycle.allowed_actions(ticket.state)
    if viewer is None:
        return possible
    return [action for action in possible if refusal(viewer, action, ticket) is None]


def visibility_clause(viewer: Viewer) -> ColumnElement[Any] | None:
    """The SQL condition of the tickets `viewer` sees; None for a supervisor (all of them)."""
    if viewer.is_supervisor:
        return None
    visible: list[ColumnElement[Any]] = [tickets.c.assignee_id == viewer.attendant_id]
    if viewer.team_ids:
        visible.append(tickets.c.team_id.in_(sorted(viewer.team_ids)))
    return or_(*visible)
