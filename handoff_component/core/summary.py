"""The agent summary: what an attendant reads first when a ticket opens.

Built from the tracker's events as plain dicts (Rasa's wire format), so it runs unchanged in the
action server, in a test or in a replay tool. It answers three questions: why the bot stepped
back, what the customer wanted, and what the bot last tried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from handoff_component.contract import (
    MAX_LIST_LENGTH,
    MAX_TEXT_LENGTH,
    HandoffSummary,
    TranscriptMessage,
    event_identity,
)
from handoff_component.contract.domain import HANDOFF_ACTION
from handoff_component.contract.scores import SCORE_KEY, SCORE_NAMES

# Intents that carry no topic: small talk, answers, and the request for a person itself.
NON_TOPIC_INTENTS = frozenset(
    {
        "greet",
        "goodbye",
        "thank",
        "affirm",
        "deny",
        "bot_challenge",
        "nlu_fallback",
        "out_of_scope",
        "request_human",
        "complaint",
        "restart",
        "session_start",
    }
)
# Actions that are plumbing, not something the bot tried for the customer.
PLUMBING_ACTIONS = frozenset(
    {
        "action_listen",
        "action_session_start",
        "action_extract_slots",
        "action_unlikely_intent",
        HANDOFF_ACTION,
        "action_restart",
        "action_back",
    }
)
RECENT_TURNS = 5


def build_summary(
    events: Iterable[Mapping[str, Any]],
    reason: str,
    recent_turns: int = RECENT_TURNS,
    action_name: str = HANDOFF_ACTION,
) -> HandoffSummary:
    """Summarise a conversation for the attendant; `reason` is why the handoff fired and
    `action_name` the handoff action's name (never "what the bot last tried")."""
    events = list(events)
    user_events = [e for e in events if e.get("event") == "user"]
    return HandoffSummary(
        reason=reason[:2000] or "handoff requested",
        topics=topics_of(user_events),
        last_bot_action=last_bot_action(events, action_name),
        message_count=len(user_events),
        recent_scores=[s for s in (turn_scores(e) for e in user_events[-recent_turns:]) if s],
    )


def topics_of(user_events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Intents and entities the customer brought up, in the order they first appeared."""
    topics: list[str] = []
    for event in user_events:
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        if intent and intent not in NON_TOPIC_INTENTS:
            _add(topics, intent.replace("_", " "))
        for entity in parse.get("entities") or []:
            if entity.get("entity") and entity.get("value") is not None:
                _add(topics, f"{entity['entity']}: {entity['value']}"[:100])
    return topics[:50]


def last_bot_action(
    events: list[Mapping[str, Any]], action_name: str = HANDOFF_ACTION
) -> str | None:
    """The last thing the bot did for the customer, with what it said if it said something."""
    plumbing = PLUMBING_ACTIONS | {action_name}
    said = None
    for event in reversed(events):
        if event.get("event") == "bot" and said is None and event.get("text"):
            said = str(event["text"])
        if event.get("event") == "action" and event.get("name") not in plumbing:
            name = str(event["name"])
            if said:
                quote = said if len(said) <= 120 else said[:117] + "..."
                return f'{name}: "{quote}"'[:200]
            return name[:200]
    return None


def turn_scores(user_event: Mapping[str, Any]) -> dict[str, float]:
    """The numeric scores HandoffScorer attached to one user message (none for button payloads)."""
    scores = (user_event.get("parse_data") or {}).get(SCORE_KEY) or {}
    return {
        name: float(scores[name])
        for name in SCORE_NAMES
        if isinstance(scores.get(name), int | float) and not isinstance(scores.get(name), bool)
    }


def transcript_of(sender_id: str, events: Iterable[Mapping[str, Any]]) -> list[TranscriptMessage]:
    """The customer and bot messages so far, each keyed by its event identity (newest kept)."""
    messages = [
        TranscriptMessage(
            event_id=event_identity(sender_id, event),
            sender="customer" if event["event"] == "user" else "bot",
            text=str(event.get("text") or "")[:MAX_TEXT_LENGTH],
            timestamp=float(event.get("timestamp") or 0.0),
            scores=(turn_scores(event) or None) if event["event"] == "user" else None,
        )
        for event in events
        if event.get("event") in ("user", "bot")
    ]
    return messages[-MAX_LIST_LENGTH:]


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
