"""What the trigger rules see of a Rasa tracker: its turns since the session began, its channel,
and its earlier handoffs, as a `core.rules` ConversationView.

HandoffPolicy builds one on every prediction. Each turn is the pure `turn_from_nlu` of its
UserUttered event (the same translation `rules test --model` makes of a parse), remembered in a
TurnMemo so that a long conversation costs little more than its newest message.
"""

from __future__ import annotations

from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    Restarted,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from handoff_component.contract.domain import HANDOFF_ACTION
from handoff_component.contract.slots import (
    HANDOFF_HISTORY_SLOT,
    HANDOFF_PRIORITY_SLOT,
    HANDOFF_REQUEST_SLOT,
    HANDOFF_RULE_SLOT,
    HANDOFF_TICKET_SLOT,
)
from handoff_component.core.rules import ConversationView, Firing, RuleSettings, Turn
from handoff_component.core.rules.view import turn_from_nlu


def newest_unanswered_message(tracker: DialogueStateTracker) -> UserUttered | None:
    """The newest user message when nothing has run since it, else None.

    After a fallback rewinds (`UserUtteranceReverted`), `tracker.latest_message` can point at an
    older message: acting on it re-triggered a handoff from a stale "I want a human". So act only
    when the newest UserUttered *is* the latest message and no action ran (or was rejected) after
    it; that also stops the policy from predicting twice for one message.
    """
    for event in reversed(tracker.events):
        kind = _kind(type(event))
        if kind is _ACTION or isinstance(event, ActionExecutionRejected):
            return None
        if kind is _USER:
            latest = tracker.latest_message
            if event is latest or (
                latest is not None and event == latest and event.timestamp == latest.timestamp
            ):
                return event
            return None
    return None


_ACTION, _USER, _BOUNDARY, _OTHER = "action", "user", "boundary", "other"
_KINDS: dict[type, str] = {}


def _kind(event_type: type) -> str:
    """What the view needs to know of an event class, memoised: Rasa's events are ABCs, whose
    isinstance checks cost more than the rest of building a view."""
    kind = _KINDS.get(event_type)
    if kind is None:
        if issubclass(event_type, ActionExecuted):
            kind = _ACTION
        elif issubclass(event_type, UserUttered):
            kind = _USER
        elif issubclass(event_type, SessionStarted | Restarted):
            kind = _BOUNDARY
        else:
            kind = _OTHER
        _KINDS[event_type] = kind
    return kind


def _turn(event: UserUttered, fallback: bool, settings: RuleSettings) -> Turn:
    return turn_from_nlu(
        event.text or "",
        event.intent,
        event.entities,
        event.parse_data,
        settings,
        fallback=fallback,
        timestamp=float(event.timestamp),
    )


def _memo_key(event: UserUttered, sender_id: str, fallback_after: bool) -> tuple:
    """One parse of one message: the conversation, the event's time, id and text, and the
    intent NLU gave it (a message parsed again, by another model, is another entry)."""
    intent = event.intent
    return (
        sender_id,
        event.timestamp,
        event.message_id,
        event.text,
        intent.get("name") if intent else None,
        intent.get("confidence") if intent else None,
        fallback_after,
    )


class TurnMemo:
    """Turns already built from user events (`_memo_key`). Each prediction re-reads the whole
    tracker, fetched anew from the tracker store, yet only its newest message is new:
    remembering the others saves most of the cost of a prediction. It holds no conversation
    state (a Turn is a pure function of its event and what followed), so replicas need not
    share it; it is emptied when it reaches `max_size`."""

    def __init__(self, settings: RuleSettings, max_size: int = 20_000) -> None:
        self.settings = settings
        self.max_size = max_size
        self.turns: dict[tuple, Turn] = {}

    def turn(self, event: UserUttered, key: tuple) -> Turn:
        found = self.turns.get(key)
        if found is None:
            if len(self.turns) >= self.max_size:
                self.turns.clear()
            found = self.turns[key] = _turn(event, key[-1], self.settings)
        return found


def conversation_view(
    tracker: DialogueStateTracker,
    settings: RuleSettings,
    action_name: str = HANDOFF_ACTION,
    memo: TurnMemo | None = None,
    failure_response: str = "",
) -> ConversationView:
    """The turns since the last session start or restart, and the earlier handoffs: every
    `action_handoff` event the tracker holds, and the `handoff_history` slot when the domain
    declares it (the tracker store loads only the current session).

    Reverted user messages stay in: the customer did write them, and a fallback that rewound
    one is exactly a failed attempt. A turn is a fallback when its intent is a fallback intent
    or a fallback action ran after it. A handoff action followed by `failure_response` (it could
    not run) is not a firing.
    """
    memo = memo if memo is not None and memo.settings is settings else TurnMemo(settings)
    fallback_actions = settings.fallback_actions
    turns: list[Turn] = []
    firings: list[Firing] = []
    in_view = True
    fallback_after = False
    kinds = _KINDS
    remembered = memo.turns
    sender_id = tracker.sender_id
    next_action: str | None = None
    for event in reversed(tracker.events):
        kind = kinds.get(type(event)) or _kind(type(event))
        if kind is _ACTION:
            name = event.action_name
            if name == action_name and not (failure_response and next_action == failure_response):
                rule = (event.metadata or {}).get(HANDOFF_RULE_SLOT)
                firings.append(Firing(rule if isinstance(rule, str) else None, event.timestamp))
            elif in_view and name in fallback_actions:
                fallback_after = True
            next_action = name
        elif kind is _USER:
            if in_view:
                key = _memo_key(event, sender_id, fallback_after)
                turn = remembered.get(key)
                if turn is None:
                    turn = memo.turn(event, key)
                turns.append(turn)
                fallback_after = False
        elif kind is _BOUNDARY:
            in_view = False
    turns.reverse()
    if HANDOFF_HISTORY_SLOT in tracker.slots:
        history = tracker.slots[HANDOFF_HISTORY_SLOT].value
        if isinstance(history, dict):
            firings.extend(
                Firing(str(rule), float(at))
                for rule, at in history.items()
                if isinstance(at, int | float) and not isinstance(at, bool)
            )
    return ConversationView(
        turns=tuple(turns),
        channel=tracker.get_latest_input_channel(),
        firings=tuple(firings),
        sender_id=tracker.sender_id,
        open_ticket_priority=open_ticket_priority(tracker),
    )


def open_ticket_priority(tracker: DialogueStateTracker) -> str | None:
    """The priority of the ticket this conversation has open while the bot keeps talking (the
    action left the ticket's id, or its undelivered request, and its priority in slots)."""
    slots = tracker.slots
    ticket = slots.get(HANDOFF_TICKET_SLOT)
    request = slots.get(HANDOFF_REQUEST_SLOT)
    if (ticket is None or ticket.value is None) and (request is None or request.value is None):
        return None
    priority = slots.get(HANDOFF_PRIORITY_SLOT)
    value = priority.value if priority is not None else None
    return value if isinstance(value, str) else "normal"
