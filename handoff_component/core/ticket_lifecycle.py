"""The ticket state machine, as a pure function over immutable states.

`open` (waiting for a claim) -> `in_progress` (an attendant is on it) -> `awaiting_response` (the
attendant wrote, the customer has not answered) -> `closed`. Keeping it free of I/O means every
rule can be checked exhaustively (hypothesis drives random action sequences through `apply`) and the
service's store only persists what this module decides.

Closing and handing back are two steps on purpose: a closed ticket keeps the bot paused for a
reopen window, so a customer's "one more thing" reopens the ticket instead of reaching the bot;
when the window ends (or at once, on "resume bot") the ticket is handed back and cannot reopen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from typing import Any


class Status(str, Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    AWAITING_RESPONSE = "awaiting_response"
    CLOSED = "closed"


ACTIVE_STATUSES = (Status.OPEN, Status.IN_PROGRESS, Status.AWAITING_RESPONSE)


class Resolution(str, Enum):
    """How a ticket ended; the stats per rule group tickets by it."""

    CLOSED = "closed"
    RESUMED_BOT = "resumed_bot"
    INACTIVITY = "inactivity"
    UNCLAIMED = "unclaimed"


class InvalidTransition(Exception):
    """The action is not allowed in the ticket's current state; the message says why."""

    def __init__(self, action: str, status: Status, message: str) -> None:
        self.action = action
        self.status = status
        self.message = message
        super().__init__(f"cannot {action} a ticket that is {status.value}: {message}")


@dataclass(frozen=True)
class Actor:
    """Who did it: an attendant (by id), the customer, or the service itself (`system`)."""

    kind: str
    id: str | None = None

    @classmethod
    def attendant(cls, attendant_id: int | str) -> Actor:
        return cls("attendant", str(attendant_id))

    @classmethod
    def customer(cls) -> Actor:
        return cls("customer")

    @classmethod
    def system(cls, name: str = "automation") -> Actor:
        return cls("system", name)


@dataclass(frozen=True)
class TicketState:
    """Everything the lifecycle rules look at; the store maps a ticket row to and from it."""

    status: Status
    created_at: datetime
    team: str | None = None
    assignee: str | None = None
    claimed_at: datetime | None = None
    first_response_at: datetime | None = None
    awaiting_since: datetime | None = None
    closed_at: datetime | None = None
    resolution: Resolution | None = None
    handed_back: bool = False
    reopen_count: int = 0


# --- actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    attendant: str
    name = "claim"


@dataclass(frozen=True)
class Reply:
    name = "reply"


@dataclass(frozen=True)
class CustomerMessage:
    """A customer wrote; `reopen_window` bounds how long after closing that reopens the ticket."""

    reopen_window: timedelta
    name = "customer_message"


@dataclass(frozen=True)
class TransferToAttendant:
    attendant: str
    name = "transfer"


@dataclass(frozen=True)
class TransferToTeam:
    team: str
    name = "transfer"


@dataclass(frozen=True)
class Note:
    name = "note"


@dataclass(frozen=True)
class Close:
    name = "close"


@dataclass(frozen=True)
class Reopen:
    """An attendant reopens by hand; unlike a customer message, no window applies."""

    name = "reopen"


@dataclass(frozen=True)
class ResumeBot:
    name = "resume_bot"


@dataclass(frozen=True)
class HandBack:
    """The reopen window of a closed ticket ended: the bot takes the conversation again."""

    reopen_window: timedelta
    name = "hand_back"


@dataclass(frozen=True)
class InactivityTimeout:
    """Close a ticket whose customer has not answered the attendant for `limit`."""

    limit: timedelta
    name = "inactivity_close"


@dataclass(frozen=True)
class UnclaimedTimeout:
    """Nobody claimed the ticket within the channel's safety net (`handoff.yml`): the customer
    is told and the bot takes the conversation back at once, with no reopen window."""

    limit: timedelta
    name = "unclaimed_close"


Action = (
    Claim
    | Reply
    | CustomerMessage
    | TransferToAttendant
    | TransferToTeam
    | Note
    | Close
    | Reopen
    | ResumeBot
    | HandBack
    | InactivityTimeout
    | UnclaimedTimeout
)


@dataclass(frozen=True)
class TransitionRecord:
    """One line of a ticket's timeline: what happened, who did it, when, from which status."""

    action: str
    actor: Actor
    at: datetime
    from_status: Status
    to_status: Status
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def changed_status(self) -> bool:
        return self.from_status != self.to_status


# --- the rules ----------------------------------------------------------------------------------


def open_ticket(
    now: datetime, *, team: str | None, actor: Actor
) -> tuple[TicketState, TransitionRecord]:
    """A new ticket, waiting for a claim."""
    state = TicketState(status=Status.OPEN, created_at=now, team=team)
    record = TransitionRecord("create", actor, now, Status.OPEN, Status.OPEN, {"team": team})
    return state, record


def apply(
    state: TicketState, action: Action, actor: Actor, now: datetime
) -> tuple[TicketState, TransitionRecord]:
    """The state after `action`, and its record; raises `InvalidTransition` if not allowed."""
    handler = _HANDLERS.get(type(action))
    if handler is None:
        raise TypeError(f"unknown action {action!r}")
    new_state, detail = handler(state, action, now)
    check_invariants(new_state)
    record = TransitionRecord(action.name, actor, now, state.status, new_state.status, detail)
    return new_state, record


def _refuse(action: Any, state: TicketState, message: str) -> InvalidTransition:
    return InvalidTransition(action.name, state.status, message)


def _require_active(action: Any, state: TicketState) -> None:
    if state.status == Status.CLOSED:
        raise _refuse(action, state, "the ticket is closed; reopen it first")


def _claim(state: TicketState, action: Claim, now: datetime) -> tuple[TicketState, dict]:
    if state.status != Status.OPEN:
        owner = f" by attendant {state.assignee}" if state.assignee else ""
        raise _refuse(action, state, f"only open tickets can be claimed (already taken{owner})")
    claimed = replace(
        state,
        status=Status.IN_PROGRESS,
        assignee=action.attendant,
        claimed_at=state.claimed_at or now,
    )
    return claimed, {"assignee": action.attendant}


def _reply(state: TicketState, action: Reply, now: datetime) -> tuple[TicketState, dict]:
    _require_active(action, state)
    if state.status == Status.OPEN:
        raise _refuse(action, state, "claim the ticket before replying")
    replied = replace(
        state,
        status=Status.AWAITING_RESPONSE,
        first_response_at=state.first_response_at or now,
        awaiting_since=now,
    )
    return replied, {}


def _customer_message(
    state: TicketState, action: CustomerMessage, now: datetime
) -> tuple[TicketState, dict]:
    if state.status == Status.AWAITING_RESPONSE:
        return replace(state, status=Status.IN_PROGRESS, awaiting_since=None), {}
    if state.status != Status.CLOSED:
        return state, {}
    if state.handed_back:
        raise _refuse(action, state, "the conversation was handed back to the bot")
    assert state.closed_at is not None
    if now - state.closed_at > action.reopen_window:
        raise _refuse(action, state, "the reopen window has passed; the bot answers")
    return _reopened(state), {"reopened_by": "customer"}


def _reopened(state: TicketState) -> TicketState:
    return replace(
        state,
        status=Status.IN_PROGRESS if state.assignee else Status.OPEN,
        closed_at=None,
        resolution=None,
        awaiting_since=None,
        handed_back=False,
        reopen_count=state.reopen_count + 1,
    )


def _transfer_to_attendant(
    state: TicketState, action: TransferToAttendant, now: datetime
) -> tuple[TicketState, dict]:
    _require_active(action, state)
    if state.assignee == action.attendant:
        raise _refuse(action, state, "the ticket is already assigned to that attendant")
    moved = replace(
        state,
        assignee=action.attendant,
        status=Status.IN_PROGRESS if state.status == Status.OPEN else state.status,
        claimed_at=state.claimed_at or now,
    )
    return moved, {"from_assignee": state.assignee, "to_assignee": action.attendant}


def _transfer_to_team(
    state: TicketState, action: TransferToTeam, now: datetime
) -> tuple[TicketState, dict]:
    _require_active(action, state)
    if state.team == action.team and state.assignee is None:
        raise _refuse(action, state, "the ticket is already waiting in that team")
    moved = replace(state, team=action.team, assignee=None, status=Status.OPEN, awaiting_since=None)
    return moved, {
        "from_team": state.team,
        "to_team": action.team,
        "from_assignee": state.assignee,
    }


def _note(state: TicketState, action: Note, now: datetime) -> tuple[TicketState, dict]:
    return state, {}


def _close(state: TicketState, action: Close, now: datetime) -> tuple[TicketState, dict]:
    _require_active(action, state)
    return _closed(state, now, Resolution.CLOSED), {"resolution": Resolution.CLOSED.value}


def _closed(state: TicketState, now: datetime, resolution: Resolution) -> TicketState:
    return replace(
        state, status=Status.CLOSED, closed_at=now, resolution=resolution, awaiting_since=None
    )


def _reopen(state: TicketState, action: Reopen, now: datetime) -> tuple[TicketState, dict]:
    if state.status != Status.CLOSED:
        raise _refuse(action, state, "only closed tickets can be reopened")
    return _reopened(state), {"reopened_by": "attendant", "was_handed_back": state.handed_back}


def _resume_bot(state: TicketState, action: ResumeBot, now: datetime) -> tuple[TicketState, dict]:
    if state.status == Status.CLOSED and state.handed_back:
        raise _refuse(action, state, "the bot already has the conversation")
    if state.status == Status.CLOSED:
        resolution = state.resolution.value if state.resolution is not None else None
        return replace(state, handed_back=True), {"resolution": resolution}
    closed = replace(_closed(state, now, Resolution.RESUMED_BOT), handed_back=True)
    return closed, {"resolution": Resolution.RESUMED_BOT.value}


def _hand_back(state: TicketState, action: HandBack, now: datetime) -> tuple[TicketState, dict]:
    if state.status != Status.CLOSED or state.handed_back:
        raise _refuse(action, state, "only a closed ticket not yet handed back can be")
    assert state.closed_at is not None
    if now - state.closed_at < action.reopen_window:
        raise _refuse(action, state, "the reopen window is still running")
    return replace(state, handed_back=True), {}


def _inactivity(
    state: TicketState, action: InactivityTimeout, now: datetime
) -> tuple[TicketState, dict]:
    if state.status != Status.AWAITING_RESPONSE:
        raise _refuse(action, state, "only tickets awaiting the customer time out")
    assert state.awaiting_since is not None
    if now - state.awaiting_since < action.limit:
        raise _refuse(action, state, "the customer still has time to answer")
    closed = _closed(state, now, Resolution.INACTIVITY)
    return closed, {
        "resolution": Resolution.INACTIVITY.value,
        "idle_since": _iso(state.awaiting_since),
    }


def _unclaimed(
    state: TicketState, action: UnclaimedTimeout, now: datetime
) -> tuple[TicketState, dict]:
    if state.status != Status.OPEN or state.assignee is not None:
        raise _refuse(action, state, "only a ticket waiting for its first attendant times out")
    if now - state.created_at < action.limit:
        raise _refuse(action, state, "the ticket is still within its unclaimed time")
    closed = replace(_closed(state, now, Resolution.UNCLAIMED), handed_back=True)
    return closed, {
        "resolution": Resolution.UNCLAIMED.value,
        "waited_since": _iso(state.created_at),
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat()


_HANDLERS: dict[type, Any] = {
    Claim: _claim,
    Reply: _reply,
    CustomerMessage: _customer_message,
    TransferToAttendant: _transfer_to_attendant,
    TransferToTeam: _transfer_to_team,
    Note: _note,
    Close: _close,
    Reopen: _reopen,
    ResumeBot: _resume_bot,
    HandBack: _hand_back,
    InactivityTimeout: _inactivity,
    UnclaimedTimeout: _unclaimed,
}


class BrokenInvariant(AssertionError):
    """A state no sequence of valid actions may reach; raising it means a bug in this module."""


def check_invariants(state: TicketState) -> None:
    """The facts every reachable state satisfies; the property tests lean on this."""
    problems = []
    if state.status == Status.OPEN and state.assignee is not None:
        problems.append("an open ticket has no assignee")
    if state.status in (Status.IN_PROGRESS, Status.AWAITING_RESPONSE):
        if state.assignee is None:
            problems.append("a worked ticket has an assignee")
        if state.claimed_at is None:
            problems.append("a worked ticket was claimed")
    if state.status == Status.AWAITING_RESPONSE and (
        state.first_response_at is None or state.awaiting_since is None
    ):
        problems.append("a ticket awaiting the customer has a reply")
    if (state.status == Status.CLOSED) != (state.closed_at is not None):
        problems.append("closed_at is set exactly when the ticket is closed")
    if (state.status == Status.CLOSED) != (state.resolution is not None):
        problems.append("a resolution is set exactly when the ticket is closed")
    if state.handed_back and state.status != Status.CLOSED:
        problems.append("only closed tickets are handed back")
    if state.status != Status.AWAITING_RESPONSE and state.awaiting_since is not None:
        problems.append("only a ticket awaiting the customer has awaiting_since")
    for later in (state.claimed_at, state.first_response_at, state.closed_at):
        if later is not None and later < state.created_at:
            problems.append("no timestamp precedes the creation")
    if state.reopen_count < 0:
        problems.append("reopen_count is not negative")
    if problems:
        raise BrokenInvariant("; ".join(problems) + f" (state: {state})")


def allowed_actions(state: TicketState) -> list[str]:
    """Names of the actions an attendant may take now; the Inbox greys out the rest."""
    if state.status == Status.OPEN:
        return ["claim", "transfer", "note", "close", "resume_bot"]
    if state.status in (Status.IN_PROGRESS, Status.AWAITING_RESPONSE):
        return ["reply", "transfer", "note", "close", "resume_bot"]
    actions = ["note", "reopen"]
    if not state.handed_back:
        actions.append("resume_bot")
    return actions
