"""The plugin's custom actions, for the rasa-sdk action server.

A bot adds them by importing them in its own `actions/` package (the action server registers every
Action subclass it has imported):

    from handoff_component import ActionHandoff, ActionSessionStartWithHandoff  # noqa: F401

`action_handoff` opens the ticket and pauses the bot; `action_session_start` keeps a conversation
paused across a session expiry while its ticket is open (Rasa's default one would un-pause it).

Settings come from the environment, since the action server has no configuration file:
`HANDOFF_SERVICE_URL` (the handoff service) and `HANDOFF_SECRET` (shared with it).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, ConversationPaused, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from handoff_component.bot.service_client import ServiceClient, ServiceUnavailable
from handoff_component.contract import (
    PRIORITIES,
    SERVICE_HANDOFFS_PATH,
    ContractError,
    HandoffAnswer,
    HandoffRequest,
    event_identity,
    idempotency_key_for,
)
from handoff_component.contract.slots import (
    HANDOFF_ACTIVE_SLOT,
    HANDOFF_AUTO_PAUSE_SLOT,
    HANDOFF_CHANNEL_SLOT,
    HANDOFF_PRIORITY_SLOT,
    HANDOFF_REASON_SLOT,
    HANDOFF_REQUEST_SLOT,
    HANDOFF_RULE_SLOT,
    HANDOFF_SLOTS,
    HANDOFF_TEAM_SLOT,
    HANDOFF_TICKET_SLOT,
    HANDOFF_UNCLAIMED_TIMEOUT_SLOT,
)
from handoff_component.core.summary import build_summary, transcript_of, turn_scores

logger = logging.getLogger(__name__)

# The rule name a ticket carries when a story or rule in data/ ran action_handoff itself.
STORY_RULE = "story"


class ActionHandoff(Action):
    """Open a ticket for a human, tell the customer, and pause the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        channel = tracker.get_latest_input_channel() or tracker.get_slot(HANDOFF_CHANNEL_SLOT)
        request = handoff_request(tracker, channel or "unknown")
        # The channel's safety net may say "alert the team but keep the bot talking".
        pause = tracker.get_slot(HANDOFF_AUTO_PAUSE_SLOT) is not False
        events: list[dict[str, Any]] = [
            SlotSet(HANDOFF_ACTIVE_SLOT, pause),
            SlotSet(HANDOFF_CHANNEL_SLOT, request.channel),
        ]
        ticket = await _open_ticket(request)
        if not pause:
            if ticket is None:
                events.append(SlotSet(HANDOFF_REQUEST_SLOT, request.to_dict()))
            else:
                events.append(SlotSet(HANDOFF_TICKET_SLOT, str(ticket.ticket_id)))
            dispatcher.utter_message(response="utter_handoff_alerted")
            return events
        if ticket is None:
            # Honest with the customer; the event broker delivers the request once the service
            # is back (same idempotency key, so never two tickets).
            events.append(SlotSet(HANDOFF_REQUEST_SLOT, request.to_dict()))
            dispatcher.utter_message(response="utter_handoff_delayed")
        else:
            events.append(SlotSet(HANDOFF_TICKET_SLOT, str(ticket.ticket_id)))
            wait = _expected_wait_text(ticket.expected_wait_seconds)
            if wait:
                dispatcher.utter_message(response="utter_handoff_with_wait", wait=wait)
            else:
                dispatcher.utter_message(response="utter_handoff")
        events.append(ConversationPaused())
        return events


class ActionSessionStartWithHandoff(Action):
    """Start a new session, and stay paused if a human still has the conversation."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        carry_over = (domain.get("session_config") or {}).get(
            "carry_over_slots_to_new_session", True
        )
        events: list[dict[str, Any]] = [SessionStarted()]
        for name, value in tracker.slots.items():
            if value is None or name == "session_started_metadata":
                continue
            if carry_over or name in HANDOFF_SLOTS:
                events.append(SlotSet(name, value))
        if tracker.get_slot(HANDOFF_ACTIVE_SLOT):
            events.append(ConversationPaused())
        events.append(ActionExecuted("action_listen"))
        return events


def handoff_request(tracker: Tracker, channel: str) -> HandoffRequest:
    """The ticket request for this tracker: what fired, why, and everything said so far."""
    events = tracker.events
    trigger = next((e for e in reversed(events) if e.get("event") == "user"), None)
    trigger_id = (
        event_identity(tracker.sender_id, trigger) if trigger else f"no-user-event-{len(events)}"
    )
    if rule_fired_this_turn(events):
        rule = tracker.get_slot(HANDOFF_RULE_SLOT) or STORY_RULE
        reason = tracker.get_slot(HANDOFF_REASON_SLOT) or _story_reason(tracker)
        priority = tracker.get_slot(HANDOFF_PRIORITY_SLOT) or "normal"
        team = tracker.get_slot(HANDOFF_TEAM_SLOT)
    else:  # a story or rule in data/ ran the action: the slots are from an earlier handoff
        rule, reason, priority, team = STORY_RULE, _story_reason(tracker), "normal", None
    user_events = [e for e in events if e.get("event") == "user"]
    return HandoffRequest(
        idempotency_key=idempotency_key_for(tracker.sender_id, trigger_id),
        conversation_id=tracker.sender_id,
        channel=channel,
        rule=str(rule)[:200],
        reason=str(reason)[:2000],
        priority=priority if priority in PRIORITIES else "normal",
        team=team,
        scores=[s for s in (turn_scores(e) for e in user_events[-10:]) if s],
        summary=build_summary(events, str(reason)),
        transcript=transcript_of(tracker.sender_id, events),
        unclaimed_timeout_seconds=_positive(tracker.get_slot(HANDOFF_UNCLAIMED_TIMEOUT_SLOT)),
    )


def rule_fired_this_turn(events: list[dict[str, Any]]) -> bool:
    """Did HandoffPolicy set the rule slot after the newest customer message?"""
    for event in reversed(events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == HANDOFF_RULE_SLOT:
            return True
    return False


async def _open_ticket(request: HandoffRequest) -> HandoffAnswer | None:
    """The service's ticket, or None if the service cannot take it right now."""
    url = os.environ.get("HANDOFF_SERVICE_URL", "")
    secret = os.environ.get("HANDOFF_SECRET", "")
    if not url or not secret:
        logger.error("HANDOFF_SERVICE_URL or HANDOFF_SECRET is not set; ticket queued")
        return None
    client = ServiceClient(url, secret, timeout_s=float(os.environ.get("HANDOFF_TIMEOUT_S", 5)))
    try:
        response = await client.post(SERVICE_HANDOFFS_PATH, request.to_dict())
    except ServiceUnavailable as error:
        logger.warning("handoff service unavailable, ticket queued: %s", error)
        return None
    finally:
        await client.close()
    if not response.ok:
        logger.error("handoff service refused the ticket: %s", response.error_message())
        return None
    try:
        return HandoffAnswer.from_dict(response.body)
    except ContractError as error:
        logger.error("handoff service answered what the contract does not allow: %s", error)
        return None


def _positive(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return None


def _expected_wait_text(seconds: float | None) -> str | None:
    if seconds is None or seconds <= 0:
        return None
    minutes = max(1, round(seconds / 60))
    return "about a minute" if minutes == 1 else f"about {minutes} minutes"


def _story_reason(tracker: Tracker) -> str:
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if intent:
        return f"A story or rule of the bot escalated after the intent '{intent}'."
    return "A story or rule of the bot escalated."
