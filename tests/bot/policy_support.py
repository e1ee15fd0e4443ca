"""What the HandoffPolicy tests share: a domain and rules file, tracker events, a trained policy.

The tests themselves are by section: test_policy_predictions.py, test_policy_staying_quiet.py,
test_policy_with_other_policies.py, test_policy_training.py (and test_policy_failed_handoff.py);
the `domain`, `storage` and `policy` fixtures are in tests/bot/conftest.py.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    Event,
    SessionStarted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from handoff_component.bot.policy import HandoffPolicy

PROJECT = Path(__file__).resolve().parents[2]

SLOTS = """
slots:
  handoff_rule: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  handoff_reason: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  handoff_score: {type: float, influence_conversation: false, mappings: [{type: custom}]}
  handoff_team: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  handoff_priority: {type: text, influence_conversation: false, mappings: [{type: custom}]}
  handoff_active: {type: bool, influence_conversation: false, mappings: [{type: custom}]}
  order_id:
    type: text
    influence_conversation: false
    mappings: [{type: from_entity, entity: order_id}]
"""
DOMAIN = f"""
version: "3.1"
intents: [greet, request_human, complaint, order_status, inform_order]
entities: [order_id]
{SLOTS}
forms:
  order_form:
    required_slots: [order_id]
actions: [action_handoff]
responses:
  utter_greet: [{{text: hi}}]
  utter_ask_order_id: [{{text: "which order"}}]
"""
RULES = """
version: "1"
safety_net:
  default: {cooldown: 0s, unclaimed_timeout: 10m}
  rest: {auto_pause: false, unclaimed_timeout: 30m}
rules:
  - name: explicit_request
    description: Asked for a person
    when:
      any:
        - intent: request_human
        - human_request: ">= 0.7"
    team: support
    priority: high
    cooldown: 5m
  - name: angry
    when:
      all:
        - sentiment: "<= -0.6"
        - message_count: ">= 2"
    team: support
    channels: [socketio, facebook]
  - name: three_failed_attempts
    when: {failed_attempts: ">= 3"}
    team: support
  - name: legal
    when: {keywords: [lawyer, chargeback*]}
    team: legal
    priority: urgent
"""
T0 = 1_700_000_000.0


def user(
    text: str,
    intent: str | None = None,
    at: float = 0.0,
    channel: str = "socketio",
    confidence: float = 0.95,
    **scores: float,
) -> UserUttered:
    parse_data = {"handoff": {**scores, "signals": {}}} if scores else None
    return UserUttered(
        text,
        {"name": intent, "confidence": confidence} if intent else None,
        [],
        parse_data=parse_data,
        input_channel=channel,
        timestamp=T0 + at,
    )


def action(name: str, at: float = 0.0, **kwargs) -> ActionExecuted:
    return ActionExecuted(name, timestamp=T0 + at, **kwargs)


def answered(at: float, name: str = "utter_greet") -> list[Event]:
    return [
        action(name, at + 0.2),
        BotUttered("ok", timestamp=T0 + at + 0.3),
        action("action_listen", at + 0.4),
    ]


def start() -> list[Event]:
    return [
        action("action_session_start", -1),
        SessionStarted(timestamp=T0 - 1),
        action("action_listen", -1),
    ]


def context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), "test")


def trained(
    tmp_path: Path,
    domain: Domain,
    storage: LocalModelStorage,
    rules: str = RULES,
    **config,
) -> HandoffPolicy:
    rules_file = tmp_path / "handoff.yml"
    rules_file.write_text(textwrap.dedent(rules), encoding="utf-8")
    full = {
        **HandoffPolicy.get_default_config(),
        # The small domains here leave out most plugin slots and responses on purpose;
        # test_policy_training.py holds the check itself.
        "check_domain": False,
        "rules_file": str(rules_file),
        "credentials_file": str(tmp_path / "credentials.yml"),
        **config,
    }
    policy = HandoffPolicy.create(full, storage, Resource("handoff"), context())
    policy.train([], domain)
    return HandoffPolicy.load(full, storage, Resource("handoff"), context())


def tracker(domain: Domain, events: list[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("customer-1", events, domain.slots)


def predicted(policy: HandoffPolicy, domain: Domain, events: list[Event]) -> str | None:
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    if prediction.max_confidence == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


HISTORY_DOMAIN = DOMAIN.replace(
    "slots:\n",
    "slots:\n  handoff_history: {type: any, influence_conversation: false, "
    "mappings: [{type: custom}]}\n",
)
