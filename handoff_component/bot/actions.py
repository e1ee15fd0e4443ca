"""The plugin's custom actions, for the rasa-sdk action server.

A bot adds them by importing them in its own `actions/` package (the action server registers every
Action subclass it has imported):

    from handoff_component import ActionHandoff, ActionSessionStartWithHandoff  # noqa: F401

`action_handoff` opens the ticket and pauses the bot; `action_session_start` keeps a conversation
paused across a session expiry while its ticket is open (Rasa's default one would un-pause it).

Settings come from the environment, since the action server has no configuration file:
`HANDOFF_SERVICE_URL` (the handoff service) and `HANDOFF_SECRET` (shared with it; the action
server refuses to start while it is missing, a placeholder or shorter than 32 bytes). The action's
name is `settings.action_name` of the rules file the policy reads too (`HANDOFF_RULES_FILE`,
default `handoff.yml` in the directory the action server runs in), so a bot that keeps an
`action_handoff` of its own names ours once, for both processes. Another action registered
under the same name stops the action server at start: rasa-sdk would let the later one win with
nothing but an INFO line, and the policy's handoffs would run the wrong code.
"""

from __future__ import annotations

import inspect
import logging
import os
from pathlib import Path
from typing import Any

import yaml
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
    checked_secret,
    event_identity,
    idempotency_key_for,
    wait_phrase,
)
from handoff_component.contract.domain import HANDOFF_ACTION
from handoff_component.contract.slots import (
    HANDOFF_ACTIVE_SLOT,
    HANDOFF_AUTO_PAUSE_SLOT,
    HANDOFF_CHANNEL_SLOT,
    HANDOFF_MOVE_OPEN_TICKET_SLOT,
    HANDOFF_PRIORITY_SLOT,
    HANDOFF_REASON_SLOT,
    HANDOFF_REQUEST_SLOT,
    HANDOFF_RULE_SLOT,
    HANDOFF_SLOTS,
    HANDOFF_TEAM_SLOT,
    HANDOFF_TICKET_SLOT,
    HANDOFF_UNCLAIMED_TIMEOUT_SLOT,
)
from handoff_component.core.rules import (
    KNOWN_CHANNELS,
    RuleSet,
    RulesFileError,
    channels_from_credentials,
    parse_ruleset,
)
from handoff_component.core.summary import build_summary, transcript_of, turn_scores

logger = logging.getLogger(__name__)

# The rule name a ticket carries when a story or rule in data/ ran action_handoff itself.
STORY_RULE = "story"


_WARNED: set[str] = set()


class HandoffActionError(RuntimeError):
    """The handoff action cannot be registered: another action of the bot has its name, or
    the rules file names it wrongly."""


def configured_action_name(rules_file: str | Path | None = None) -> str:
    """`settings.action_name` of the rules file (`HANDOFF_RULES_FILE`, default `handoff.yml`),
    or `action_handoff` when the file or the setting is absent."""
    path = Path(rules_file or os.environ.get("HANDOFF_RULES_FILE") or "handoff.yml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError:
        if str(path) in _WARNED:
            return HANDOFF_ACTION
        _WARNED.add(str(path))
        logger.warning(
            "%s not found (set HANDOFF_RULES_FILE): the handoff action is named '%s'",
            path,
            HANDOFF_ACTION,
        )
        return HANDOFF_ACTION
    except yaml.YAMLError as error:
        raise HandoffActionError(f"{path}: not readable YAML: {error}") from None
    settings = data.get("settings") if isinstance(data, dict) else None
    name = settings.get("action_name") if isinstance(settings, dict) else None
    if name is None:
        return HANDOFF_ACTION
    if not isinstance(name, str) or not name.startswith("action_"):
        raise HandoffActionError(
            f"{path}: settings.action_name must be an action name such as "
            f"action_handoff_to_human, got {name!r}"
        )
    return name


def actions_named(name: str, exclude: type) -> list[type]:
    """Every other imported Action subclass whose `name()` is `name` (what rasa-sdk would
    register under it), asked without running its `__init__`."""
    found: list[type] = []
    pending = list(Action.__subclasses__())
    seen: set[type] = set()
    while pending:
        cls = pending.pop()
        if cls in seen:
            continue
        seen.add(cls)
        pending.extend(cls.__subclasses__())
        if issubclass(cls, exclude) or inspect.isabstract(cls):
            continue
        if cls.__module__.startswith(("rasa_sdk.", "rasa.")):
            continue
        try:
            other = cls.name(object.__new__(cls))
        except Exception:
            continue
        if other == name:
            found.append(cls)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


class ActionHandoff(Action):
    """Open a ticket for a human, tell the customer, and pause the bot."""

    def __init__(self) -> None:
        """Refuses (and so stops the action server's start, which builds each action once) when
        `HANDOFF_SECRET` is missing, a placeholder or short: the service's own rule
        (contract.shared_secret), checked before the first customer needs a ticket."""
        super().__init__()
        checked_secret(
            "HANDOFF_SECRET in the action server's environment", os.environ.get("HANDOFF_SECRET")
        )

    def name(self) -> str:
        """The configured name; refuses (and so stops the action server's start) when another
        action of the bot has it too."""
        name = configured_action_name()
        others = actions_named(name, ActionHandoff)
        if others:
            where = ", ".join(f"{c.__module__}.{c.__qualname__}" for c in others)
            raise HandoffActionError(
                f"'{name}' is the handoff plugin's action, and {where} is registered under the "
                f"same name too (rasa-sdk would run only one of them). Rename the bot's action, "
                f"or give the plugin's another name: `settings: {{action_name: "
                f"action_handoff_to_human}}` in handoff.yml, and list that name under `actions:` "
                f"in the domain. `python -m handoff_component doctor` shows every collision."
            )
        return name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        channel = tracker.get_latest_input_channel() or tracker.get_slot(HANDOFF_CHANNEL_SLOT)
        request = handoff_request(tracker, channel or "unknown", self.name())
        # The channel's safety net may say "alert the team but keep the bot talking", whether a
        # trigger rule or a story in data/ ran this action.
        pause = auto_pause_for(tracker, request.channel)
        events: list[dict[str, Any]] = [
            SlotSet(HANDOFF_ACTIVE_SLOT, pause),
            SlotSet(HANDOFF_CHANNEL_SLOT, request.channel),
        ]
        ticket = await _open_ticket(request)
        if ticket is not None:
            events.append(SlotSet(HANDOFF_TICKET_SLOT, str(ticket.ticket_id)))
            if ticket.priority is not None:
                # The ticket's priority, never lowered by a later, milder rule: what a more
                # urgent rule must beat while the ticket is open (HandoffPolicy).
                events.append(SlotSet(HANDOFF_PRIORITY_SLOT, ticket.priority))
        # The team the ticket actually went to, by its display name; no team when not known.
        colleague = colleague_phrase(ticket.team_display_name if ticket else None)
        if not pause:
            if ticket is None:
                events.append(SlotSet(HANDOFF_REQUEST_SLOT, request.to_dict()))
            dispatcher.utter_message(response="utter_handoff_alerted", colleague=colleague)
            return events
        if ticket is None:
            # Honest with the customer; the event broker delivers the request once the service
            # is back (same idempotency key, so never two tickets).
            events.append(SlotSet(HANDOFF_REQUEST_SLOT, request.to_dict()))
            dispatcher.utter_message(response="utter_handoff_delayed")
        else:
            # The service's estimate for the team's queue; unknown: the plain message.
            wait = wait_phrase(ticket.expected_wait_seconds)
            if wait:
                dispatcher.utter_message(
                    response="utter_handoff_with_wait", wait=wait, colleague=colleague
                )
            else:
                dispatcher.utter_message(response="utter_handoff", colleague=colleague)
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


def colleague_phrase(team_display_name: str | None) -> str:
    """Who the customer is told is coming: `{colleague}` in the handoff responses."""
    return f"a colleague from {team_display_name}" if team_display_name else "a colleague"


def auto_pause_for(tracker: Tracker, channel: str) -> bool:
    """Whether this handoff pauses the bot: the channel's safety net (`auto_pause`).

    When a trigger rule fired this turn, HandoffPolicy left it in a slot. When a story or rule
    in data/ ran the action (an explicit request held back by a cooldown, say), the slot may
    be stale or empty, so the rules file (`HANDOFF_RULES_FILE`, default `handoff.yml` where
    the action server runs) is read instead; without it, the slot, else pause.
    """
    slot = tracker.get_slot(HANDOFF_AUTO_PAUSE_SLOT)
    if rule_fired_this_turn(tracker.events) and isinstance(slot, bool):
        return slot
    ruleset = rules_file()
    if ruleset is not None:
        return ruleset.safety_net_for(channel).auto_pause
    return slot is not False


_RULES_FILES: dict[str, tuple[float, RuleSet | None]] = {}


def rules_file() -> RuleSet | None:
    """The bot's rules file, read again when it changes; None when absent or broken."""
    path = Path(os.environ.get("HANDOFF_RULES_FILE", "handoff.yml"))
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return None
    cached = _RULES_FILES.get(str(path))
    if cached is None or cached[0] != mtime:
        ruleset: RuleSet | None = None
        try:
            ruleset = parse_ruleset(
                path.read_text(encoding="utf-8"),
                str(path),
                KNOWN_CHANNELS | channels_from_credentials("credentials.yml"),
                import_hooks=False,
            )
        except (OSError, RulesFileError) as error:
            logger.error("cannot read the channels' safety nets from %s: %s", path, error)
        cached = (mtime, ruleset)
        _RULES_FILES[str(path)] = cached
    return cached[1]


def handoff_request(
    tracker: Tracker, channel: str, action_name: str = HANDOFF_ACTION
) -> HandoffRequest:
    """The ticket request for this tracker: what fired, why, and everything said so far."""
    events = tracker.events
    trigger = next((e for e in reversed(events) if e.get("event") == "user"), None)
    trigger_id = (
        event_identity(tracker.sender_id, trigger) if trigger else f"no-user-event-{len(events)}"
    )
    fired = rule_fired_this_turn(events)
    if fired:
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
        summary=build_summary(events, str(reason), action_name=action_name),
        transcript=transcript_of(tracker.sender_id, events),
        unclaimed_timeout_seconds=_positive(tracker.get_slot(HANDOFF_UNCLAIMED_TIMEOUT_SLOT)),
        move_open_ticket=fired and tracker.get_slot(HANDOFF_MOVE_OPEN_TICKET_SLOT) is True,
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


def _story_reason(tracker: Tracker) -> str:
    intent = (tracker.latest_message or {}).get("intent", {}).get("name")
    if intent:
        return f"A story or rule of the bot escalated after the intent '{intent}'."
    return "A story or rule of the bot escalated."
