"""HandoffPolicy: Rasa's side of the trigger rules.

Training only validates `handoff.yml` (against the domain and the bot's channels) and stores its
text in the model, so a trained model carries the rules it was trained with and `rasa train`
fails with `file:line: rule: message` on a broken file. Prediction turns the tracker into a
ConversationView (`tracker_view`) and asks the pure evaluator; everything it needs (earlier
handoffs for cooldowns included) is read from the tracker, so any replica answers the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from pathlib import Path
from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import (
    ACTION_LISTEN_NAME,
    USER_INTENT_BACK,
    USER_INTENT_RESTART,
    USER_INTENT_SESSION_START,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ConversationPaused,
    Event,
    SlotSet,
)
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException
from rasa.shared.utils.io import raise_warning

from handoff_component.bot.tracker_view import (
    TurnMemo,
    conversation_view,
    newest_unanswered_message,
)
from handoff_component.contract.domain import HANDOFF_ACTION, PLUGIN_RESPONSES
from handoff_component.contract.slots import (
    HANDOFF_ACTIVE_SLOT,
    HANDOFF_AUTO_PAUSE_SLOT,
    HANDOFF_HISTORY_SLOT,
    HANDOFF_MOVE_OPEN_TICKET_SLOT,
    HANDOFF_PRIORITY_SLOT,
    HANDOFF_REASON_SLOT,
    HANDOFF_RULE_SLOT,
    HANDOFF_SCORE_SLOT,
    HANDOFF_SLOTS,
    HANDOFF_TEAM_SLOT,
    HANDOFF_UNCLAIMED_TIMEOUT_SLOT,
)
from handoff_component.core.rules import (
    KNOWN_CHANNELS,
    ConversationView,
    RuleMatch,
    RuleSet,
    RulesFileError,
    channels_from_credentials,
    check_against_domain,
    evaluate,
    parse_ruleset,
)

logger = logging.getLogger(__name__)

# Slots the policy fills when it wins; the action and the service read them.
RULE_SLOT = HANDOFF_RULE_SLOT
REASON_SLOT = HANDOFF_REASON_SLOT
SCORE_SLOT = HANDOFF_SCORE_SLOT
TEAM_SLOT = HANDOFF_TEAM_SLOT
PRIORITY_SLOT = HANDOFF_PRIORITY_SLOT
# Filled only when the domain declares them: the channel's safety net, for the action.
AUTO_PAUSE_SLOT = HANDOFF_AUTO_PAUSE_SLOT
UNCLAIMED_TIMEOUT_SLOT = HANDOFF_UNCLAIMED_TIMEOUT_SLOT
# Also optional: {rule name: time it last fired}. The tracker store loads only the current
# session, so cooldowns can outlive a session (a handback, an expiry) only through a slot that
# is carried over; its value holds the times, unlike a slot event's timestamp.
HISTORY_SLOT = HANDOFF_HISTORY_SLOT
# Rasa's own commands outrank any rule: `/restart` must restart, even during an angry turn.
COMMAND_INTENTS = frozenset({USER_INTENT_RESTART, USER_INTENT_SESSION_START, USER_INTENT_BACK})
STORED_RULES = "handoff_rules.yml"
STORED_META = "handoff_rules.json"


class HandoffRulesError(RasaException):
    """A rules file or domain the policy cannot work with; Rasa's CLI prints it without a
    traceback and exits non-zero."""


def _rules_fingerprint(config: dict[str, Any]) -> str:
    """What the rules depend on outside the graph: the file's bytes and the credentials' keys."""
    digest = hashlib.sha256()
    for key in ("rules_file", "credentials_file"):
        path = Path(str(config.get(key) or ""))
        digest.update(key.encode())
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    return digest.hexdigest()


def _checked_against_domain(
    config: dict[str, Any], ruleset: RuleSet, source: str, domain: Domain, *, warn: bool = True
) -> str:
    """The action the policy predicts, once the rules and the domain agree; else a training
    error: an intent or entity the domain lacks, the action missing or named twice, a slot or
    response of the plugin missing."""
    problems = check_against_domain(ruleset, domain.intents, domain.entities)
    if problems:
        raise HandoffRulesError("Invalid handoff rules:\n" + "\n".join(str(p) for p in problems))
    configured = config.get("action_name")
    if configured and configured != ruleset.settings.action_name:
        raise HandoffRulesError(
            f"HandoffPolicy's action_name '{configured}' differs from settings.action_name "
            f"'{ruleset.settings.action_name}' of {source}, which the action server "
            "registers: name it once, in the rules file, and drop it from config.yml"
        )
    action = str(configured or ruleset.settings.action_name)
    if action not in domain.action_names_or_texts:
        raise HandoffRulesError(
            f"HandoffPolicy predicts '{action}', which is not in the domain: add it "
            "under `actions:` in domain.yml"
        )
    _check_plugin_domain(config, domain, warn=warn)
    return action


def _check_plugin_domain(config: dict[str, Any], domain: Domain, *, warn: bool = True) -> None:
    """Every slot and response the plugin uses, or a training error naming them all."""
    slots = {slot.name for slot in domain.slots}
    missing_slots = [name for name in HANDOFF_SLOTS if name not in slots]
    wanted = [r for r in PLUGIN_RESPONSES if r != "utter_handoff_failed"]
    failure_response = str(config.get("failure_response") or "")
    if failure_response:
        wanted.append(failure_response)
    missing_responses = [name for name in wanted if name not in domain.responses]
    if not missing_slots and not missing_responses:
        return
    lines = []
    if missing_slots:
        lines.append(
            f"slots {', '.join(missing_slots)} (each `influence_conversation: false`, "
            "`mappings: [{type: custom}]`; types in docs/handoff.md)"
        )
    if missing_responses:
        lines.append(f"responses {', '.join(missing_responses)}")
    message = (
        "The domain lacks what the handoff plugin uses: "
        + "; ".join(lines)
        + ". `python -m handoff_component init` writes them; "
        "`python -m handoff_component doctor` lists them."
    )
    if config.get("check_domain", True):
        raise HandoffRulesError(message)
    if warn:
        raise_warning(message)


def _domain_of_this_training() -> Domain | None:
    """The domain `rasa train` was started with (`--domain`, default domain.yml), or None.

    Rasa gives `fingerprint_addon` only the policy's configuration, yet it fingerprints every
    node before it trains any: checking the rules against the domain there stops `rasa train`
    within seconds instead of after NLU and the other policies have trained. The domain's path
    is on Rasa's command line; anywhere else (Rasa's Python API, a test) this is None and
    `train` checks the same, later. A domain Rasa cannot read is left to Rasa to report.
    """
    argv = sys.argv
    program = Path(argv[0]) if argv else Path()
    if len(argv) < 2 or argv[1] != "train" or "rasa" not in (program.name, program.parent.name):
        return None
    path = "domain.yml"
    for index, argument in enumerate(argv):
        if argument in ("-d", "--domain") and index + 1 < len(argv):
            path = argv[index + 1]
        elif argument.startswith("--domain="):
            path = argument.split("=", 1)[1]
    if not Path(path).exists():
        return None
    try:
        return Domain.load(path)
    except Exception:  # Rasa's own validation names a broken domain better
        return None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT], is_trainable=True
)
class HandoffPolicy(Policy):
    """Predicts `action_handoff` with confidence 1.0 when a trigger rule fires on the turn."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Above RulePolicy (6): on equal confidence the ensemble prefers the higher priority.
            "priority": 7,
            # Relative to the directory `rasa train` runs in.
            "rules_file": "handoff.yml",
            # Its top-level keys are accepted as channel names (custom connectors).
            "credentials_file": "credentials.yml",
            # The action to predict. Unset: `settings.action_name` of the rules file, which the
            # action server reads too; set here, it must say the same.
            "action_name": None,
            # Refuse to train when the domain lacks a slot or response the plugin uses (the
            # customer would be told nothing, or cooldowns would reset at every hand-back).
            "check_domain": True,
            # Mark predictions `is_no_user_prediction`, the only way to outrank an active
            # form's happy path (and end-to-end predictions). False: forms finish first.
            "outrank_forms": True,
            # `/restart` while a handoff is active (paused, `handoff_active` true) predicts
            # action_listen, so the customer stays with the attendant. False: Rasa restarts.
            "keep_handoff_on_restart": True,
            # When the handoff action ran but returned nothing (the action server was down or
            # the action crashed; Rasa logs it and drops the action's events), say this response
            # instead of staying silent, then listen; the failed attempt holds no cooldown back,
            # so asking again once the action server is back hands over. Not in the domain: off.
            "failure_response": "utter_handoff_failed",
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
        ruleset: RuleSet | None = None,
    ) -> None:
        super().__init__(config, model_storage, resource, execution_context, featurizer)
        self.ruleset = ruleset
        self._action = str(
            config.get("action_name")
            or (ruleset.settings.action_name if ruleset else HANDOFF_ACTION)
        )
        self._failure_response = str(config.get("failure_response") or "")
        self._memo = TurnMemo(ruleset.settings) if ruleset else None

    @classmethod
    def fingerprint_addon(cls, config: dict[str, Any]) -> str | None:
        """Retrain (and re-validate) when only `handoff.yml` changed, which Rasa's graph cache
        would otherwise not notice.

        Rasa fingerprints every node of the training graph before it trains any, so this is
        also where a broken rules file stops `rasa train` within seconds instead of after the
        NLU and the other policies have trained: the file's grammar, its channels and its
        custom conditions are checked here, and so are the intents, entities, action, slots and
        responses against the domain when Rasa's command line names it (else in `train`)."""
        full = {**cls.get_default_config(), **config}
        path = Path(str(full.get("rules_file") or ""))
        if not path.is_file():
            raise HandoffRulesError(
                f"{path}: the handoff rules file does not exist; set `rules_file` of "
                "HandoffPolicy in config.yml (relative to where rasa runs)"
            )
        credentials = full.get("credentials_file")
        known = KNOWN_CHANNELS | (
            channels_from_credentials(credentials) if credentials else frozenset()
        )
        try:
            text = path.read_text(encoding="utf-8")
            ruleset = parse_ruleset(text, str(path), known)
        except (OSError, UnicodeDecodeError) as error:
            raise HandoffRulesError(
                f"{path}: cannot read the handoff rules file ({error})"
            ) from None
        except RulesFileError as error:
            raise HandoffRulesError(f"Invalid handoff rules:\n{error}") from None
        domain = _domain_of_this_training()
        if domain is not None:
            _checked_against_domain(full, ruleset, str(path), domain, warn=False)
        return _rules_fingerprint(full)

    # --- training ----------------------------------------------------------------------------

    def _known_channels(self) -> frozenset[str]:
        credentials = self.config.get("credentials_file")
        extra = channels_from_credentials(credentials) if credentials else frozenset()
        return KNOWN_CHANNELS | extra

    def _read_rules(self) -> tuple[str, str]:
        path = Path(str(self.config.get("rules_file") or ""))
        try:
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as error:
            raise HandoffRulesError(
                f"{path}: cannot read the handoff rules file ({error.strerror}); set "
                f"`rules_file` of HandoffPolicy in config.yml (relative to where rasa runs)"
            ) from None

    def train(
        self,
        training_trackers: list[TrackerWithCachedStates],
        domain: Domain,
        **kwargs: Any,
    ) -> Resource:
        """Validate the rules against the file's grammar, the channels and the domain, then
        store them in the model. Stories are not learned from: rules are explicit."""
        text, source = self._read_rules()
        known = self._known_channels()
        try:
            ruleset = parse_ruleset(text, source, known)
        except RulesFileError as error:
            raise HandoffRulesError(f"Invalid handoff rules:\n{error}") from None
        self._action = _checked_against_domain(self.config, ruleset, source, domain)
        with self._model_storage.write_to(self._resource) as directory:
            (Path(directory) / STORED_RULES).write_text(text, encoding="utf-8")
            (Path(directory) / STORED_META).write_text(
                json.dumps({"source": source, "known_channels": sorted(known)}),
                encoding="utf-8",
            )
        self.ruleset = ruleset
        self._memo = TurnMemo(ruleset.settings)
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> HandoffPolicy:
        """The rules stored at training; custom conditions are imported again here."""
        try:
            with model_storage.read_from(resource) as directory:
                text = (Path(directory) / STORED_RULES).read_text(encoding="utf-8")
                meta = json.loads((Path(directory) / STORED_META).read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:
            raise HandoffRulesError(
                f"The model holds no handoff rules ({error}); retrain it with `rasa train`"
            ) from None
        try:
            ruleset = parse_ruleset(text, meta["source"], meta["known_channels"])
        except RulesFileError as error:
            raise HandoffRulesError(f"Invalid handoff rules in the model:\n{error}") from None
        return cls(config, model_storage, resource, execution_context, ruleset=ruleset)

    # --- prediction --------------------------------------------------------------------------

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        no_opinion = self._prediction(self._default_predictions(domain))
        if self.ruleset is None:
            return no_opinion
        newest = newest_unanswered_message(tracker)
        if tracker.is_paused():
            # Rasa lets only `/restart` through to a paused conversation. During a handoff it
            # must not end the attendant's conversation: listen instead (the message still
            # reaches the ticket through the event broker). Paused by anything else, restart.
            if (
                newest is not None
                and newest.intent_name == USER_INTENT_RESTART
                and tracker.get_slot(HANDOFF_ACTIVE_SLOT) is True
                and self.config.get("keep_handoff_on_restart", True)
            ):
                return self._prediction(
                    confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain),
                    is_no_user_prediction=True,
                )
            return no_opinion
        if newest is not None and tracker.get_slot(HANDOFF_ACTIVE_SLOT) is True:
            # A human has the conversation, yet it is not paused: a new session began (an
            # expiry runs Rasa's own action_session_start, which un-pauses and, with
            # carry_over_slots_to_new_session, keeps `handoff_active`). Pause again, without
            # answering; the message reaches the ticket through the event broker. Done here,
            # a new conversation never waits on the action server.
            logger.info(
                "HandoffPolicy: %s is with a human but was un-paused by a new session; "
                "pausing again",
                tracker.sender_id,
            )
            return self._prediction(
                confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain),
                optional_events=[ConversationPaused()],
                is_no_user_prediction=True,
            )
        if newest is None:
            return (
                self._after_failed_handoff(tracker, domain)
                or self._after_handoff_without_pause(tracker, domain)
                or no_opinion
            )
        if newest.intent_name in COMMAND_INTENTS:
            return no_opinion
        view = conversation_view(
            tracker, self.ruleset.settings, self._action, self._memo, self._failure_response
        )
        matches = evaluate(self.ruleset, view, now=newest.timestamp)
        if not matches:
            return no_opinion
        if self._action not in domain.action_names_or_texts:
            logger.error("HandoffPolicy: '%s' is not in the domain; not predicting", self._action)
            return no_opinion
        return self._handoff_prediction(matches, view, domain, newest.timestamp)

    def _after_failed_handoff(
        self, tracker: DialogueStateTracker, domain: Domain
    ) -> PolicyPrediction | None:
        """Right after an `action_handoff` that produced no events, the failure response; right
        after that response, listen. A successful handoff action always returns events (its
        slots, the customer's message, the pause), so an action event that is still the newest
        event means Rasa could not run it (it logs the error and carries on without them)."""
        response = self._failure_response
        if not response or response not in domain.action_names_or_texts:
            return None
        last = tracker.events[-1] if tracker.events else None
        if isinstance(last, ActionExecuted) and last.action_name == self._action:
            events: list[Event] = []
            history = tracker.slots.get(HISTORY_SLOT)
            rule = (last.metadata or {}).get(RULE_SLOT)
            if history is not None and isinstance(history.value, dict) and rule in history.value:
                # The attempt failed: it must not hold the customer's next request back.
                kept = {name: at for name, at in history.value.items() if name != rule}
                events.append(SlotSet(HISTORY_SLOT, kept or None))
            logger.warning(
                "HandoffPolicy: %s returned no events for %s (is the action server up?); "
                "telling the customer with %s",
                self._action,
                tracker.sender_id,
                response,
            )
            return self._prediction(
                confidence_scores_for(response, 1.0, domain),
                optional_events=events,
                is_no_user_prediction=True,
            )
        last_action = next(
            (e for e in reversed(tracker.events) if isinstance(e, ActionExecuted)), None
        )
        if last_action is not None and last_action.action_name == response:
            return self._prediction(
                confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain),
                is_no_user_prediction=True,
            )
        return None

    def _after_handoff_without_pause(
        self, tracker: DialogueStateTracker, domain: Domain
    ) -> PolicyPrediction | None:
        """Right after a handoff that did not pause (the channel's safety net says
        `auto_pause: false`), listen. Without this no story continues after the action and
        Rasa's fallback ran, whose rewind undid the action's slots (the open ticket, its
        priority): the next rule could not see the ticket, and the customer read "Sorry, I
        didn't quite get that" after being told a colleague was asked."""
        last_action = next(
            (e for e in reversed(tracker.events) if isinstance(e, ActionExecuted)), None
        )
        if last_action is None or last_action.action_name != self._action:
            return None
        if tracker.events and tracker.events[-1] is last_action:
            return None  # the action returned nothing: `_after_failed_handoff`'s case
        if tracker.get_slot(HANDOFF_ACTIVE_SLOT) is not False:
            return None  # it paused (or is not ours to judge): nothing is predicted then
        return self._prediction(
            confidence_scores_for(ACTION_LISTEN_NAME, 1.0, domain),
            is_no_user_prediction=True,
        )

    def _history_after(self, view: ConversationView, rule: str, now: float) -> dict[str, float]:
        """The history slot's next value: the newest firing of each rule, without those too old
        to hold any cooldown back, so the slot stays small."""
        horizon = now - self.ruleset.longest_cooldown  # type: ignore[union-attr]
        history: dict[str, float] = {}
        for firing in view.firings:
            if firing.rule is not None and firing.timestamp >= horizon:
                history[firing.rule] = max(firing.timestamp, history.get(firing.rule, 0.0))
        history[rule] = now
        return history

    def _handoff_prediction(
        self, matches: list[RuleMatch], view: ConversationView, domain: Domain, now: float
    ) -> PolicyPrediction:
        winner = matches[0]
        rule = winner.rule
        safety_net = self.ruleset.safety_net_for(view.channel)  # type: ignore[union-attr]
        score = round(winner.score, 4)
        events: list[Event] = [
            SlotSet(RULE_SLOT, rule.name),
            SlotSet(REASON_SLOT, winner.reason),
            SlotSet(SCORE_SLOT, score),
            SlotSet(TEAM_SLOT, rule.team),
            SlotSet(PRIORITY_SLOT, rule.priority),
        ]
        domain_slots = {slot.name for slot in domain.slots}
        if AUTO_PAUSE_SLOT in domain_slots:
            events.append(SlotSet(AUTO_PAUSE_SLOT, safety_net.auto_pause))
        if UNCLAIMED_TIMEOUT_SLOT in domain_slots:
            events.append(SlotSet(UNCLAIMED_TIMEOUT_SLOT, safety_net.unclaimed_timeout))
        if HANDOFF_MOVE_OPEN_TICKET_SLOT in domain_slots:
            events.append(SlotSet(HANDOFF_MOVE_OPEN_TICKET_SLOT, rule.move_open_ticket))
        if HISTORY_SLOT in domain_slots:
            events.append(SlotSet(HISTORY_SLOT, self._history_after(view, rule.name, now)))
        metadata = {
            RULE_SLOT: rule.name,
            REASON_SLOT: winner.reason,
            SCORE_SLOT: score,
            TEAM_SLOT: rule.team,
            PRIORITY_SLOT: rule.priority,
            "handoff_channel": view.channel,
            "handoff_safety_net": safety_net.to_dict(),
            "handoff_also_fired": [m.rule.name for m in matches[1:]],
        }
        logger.debug("HandoffPolicy: rule %s fired: %s", rule.name, winner.reason)
        return self._prediction(
            confidence_scores_for(self._action, 1.0, domain),
            optional_events=events,
            is_no_user_prediction=bool(self.config.get("outrank_forms", True)),
            diagnostic_data={"fired": [(m.rule.name, m.score) for m in matches]},
            action_metadata=metadata,
        )
