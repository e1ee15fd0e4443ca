"""A later trigger of a conversation whose ticket is still open: what it does to the ticket.

On a channel whose safety net says `auto_pause: false` the bot keeps talking after a handoff, so
a rule can fire again while the ticket waits or is worked: "I want a person" after a billing
complaint, a legal threat after a refund request. That handoff joins the open ticket (one open
ticket per conversation), and is made visible instead of vanishing: a `trigger` record on the
ticket's timeline (rule, reason, scores), the ticket's priority raised to the rule's when that is
higher (never lowered), and, when the rule says `move_open_ticket: true`, the ticket moved to the
rule's team (a transfer, as an attendant's would be).

This module decides; the ticket store (`TicketStore.record_trigger`) locks the row, counts each
request once (its idempotency key under a unique constraint in `ticket_triggers`, so a retried or
raced request changes nothing more) and writes what is decided here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from handoff_component.contract import HandoffRequest
from handoff_component.core import ticket_lifecycle as lifecycle
from handoff_component.core.ticket_lifecycle import Actor, TicketState, TransitionRecord
from handoff_component.service.models import PRIORITY_NAME, PRIORITY_RANK

TRIGGER_ACTION = "trigger"


@dataclass(frozen=True)
class Escalation:
    """A later trigger's effect: the ticket's new state and priority, and its timeline record."""

    state: TicketState
    priority: int
    record: TransitionRecord
    previous_team_id: int | None
    previous_assignee_id: int | None

    @property
    def moved(self) -> bool:
        return bool(self.record.detail.get("moved"))


def escalate(
    state: TicketState,
    priority: int,
    request: HandoffRequest,
    now: datetime,
    move_to_team: int | None = None,
    routing_note: str = "",
) -> Escalation:
    """What `request`, a later trigger, does to an open ticket in `state` with `priority` (its
    rank). `move_to_team` is the rule's team when the rule moves open tickets, else None."""
    actor = Actor("rasa", request.rule)
    raised = max(priority, PRIORITY_RANK[request.priority])
    detail: dict[str, object] = {
        "rule": request.rule,
        "reason": request.reason,
        "scores": dict(request.scores[-1]) if request.scores else {},
        "team": request.team,
        "priority": {"from": PRIORITY_NAME[priority], "to": PRIORITY_NAME[raised]},
        "requested_priority": request.priority,
        "moved": False,
    }
    if routing_note:
        detail["routing"] = routing_note
    after = state
    if move_to_team is not None and str(move_to_team) != state.team:
        after, moved = lifecycle.apply(
            state, lifecycle.TransferToTeam(str(move_to_team)), actor, now
        )
        detail.update(moved.detail, moved=True)
    record = TransitionRecord(TRIGGER_ACTION, actor, now, state.status, after.status, detail)
    return Escalation(
        state=after,
        priority=raised,
        record=record,
        previous_team_id=int(state.team) if state.team is not None else None,
        previous_assignee_id=int(state.assignee) if state.assignee is not None else None,
    )
