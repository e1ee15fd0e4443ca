"""HandoffPolicy inside Rasa: real trackers, a real domain, the real ensemble, and `rasa train`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from handoff_component.bot.policy import HandoffPolicy, HandoffRulesError

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


@pytest.fixture()
def domain() -> Domain:
    return Domain.from_yaml(DOMAIN)


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


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
        "rules_file": str(rules_file),
        "credentials_file": str(tmp_path / "credentials.yml"),
        **config,
    }
    policy = HandoffPolicy.create(full, storage, Resource("handoff"), context())
    policy.train([], domain)
    return HandoffPolicy.load(full, storage, Resource("handoff"), context())


@pytest.fixture()
def policy(tmp_path: Path, domain: Domain, storage: LocalModelStorage) -> HandoffPolicy:
    return trained(tmp_path, domain, storage)


def tracker(domain: Domain, events: list[Event]) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("customer-1", events, domain.slots)


def predicted(policy: HandoffPolicy, domain: Domain, events: list[Event]) -> str | None:
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    if prediction.max_confidence == 0:
        return None
    return domain.action_names_or_texts[prediction.max_confidence_index]


# --- predicting -----------------------------------------------------------------------------------


def test_a_fired_rule_predicts_action_handoff_with_slots_and_metadata(
    policy: HandoffPolicy, domain: Domain
) -> None:
    events = [
        *start(),
        user("hi", "greet", 0),
        *answered(0),
        user("a person please", "request_human", 30, human_request=0.3),
    ]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)

    assert prediction.max_confidence == 1.0
    assert domain.action_names_or_texts[prediction.max_confidence_index] == "action_handoff"
    assert prediction.policy_priority == 7
    slots = {e.key: e.value for e in prediction.optional_events if isinstance(e, SlotSet)}
    assert slots == {
        "handoff_rule": "explicit_request",
        "handoff_reason": "Asked for a person: intent request_human (0.95)",
        "handoff_score": 0.95,
        "handoff_team": "support",
        "handoff_priority": "high",
    }
    assert prediction.action_metadata == {
        **slots,
        "handoff_channel": "socketio",
        "handoff_safety_net": {
            "channel": "default",
            "auto_pause": True,
            "cooldown": 0.0,
            "unclaimed_timeout": 600.0,
        },
        "handoff_also_fired": [],
    }
    assert prediction.events == []  # nothing is applied unless the prediction wins


def test_no_rule_fired_is_no_opinion(policy: HandoffPolicy, domain: Domain) -> None:
    events = [*start(), user("hi", "greet", 0, sentiment=0.5)]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert prediction.probabilities == [0.0] * domain.num_actions
    assert prediction.optional_events == []
    assert not prediction.is_no_user_prediction


def test_the_most_urgent_rule_wins_and_the_others_are_listed(
    policy: HandoffPolicy, domain: Domain
) -> None:
    events = [*start(), user("get me a person or my lawyer", "request_human", 0)]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert prediction.action_metadata["handoff_rule"] == "legal"
    assert prediction.action_metadata["handoff_also_fired"] == ["explicit_request"]


def test_scores_come_from_each_message_parse_data(policy: HandoffPolicy, domain: Domain) -> None:
    calm = [*start(), user("hm", "complaint", 0, sentiment=-0.2), *answered(0)]
    assert predicted(policy, domain, [*calm, user("awful", "complaint", 30, sentiment=-0.8)]) == (
        "action_handoff"
    )
    assert predicted(policy, domain, [*calm, user("meh", "complaint", 30, sentiment=-0.5)]) is None


def test_a_button_payload_without_scores_counts_as_a_human_request(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    policy = trained(
        tmp_path, domain, storage, "rules: [{name: asked, when: {human_request: '>= 0.7'}}]"
    )
    events = [*start(), user("/request_human", "request_human", 0)]
    assert predicted(policy, domain, events) == "action_handoff"
    events = [*start(), user("/complaint", "complaint", 0)]
    assert predicted(policy, domain, events) is None


def test_rules_follow_the_conversation_channel(policy: HandoffPolicy, domain: Domain) -> None:
    def angry(channel: str) -> list[Event]:
        return [
            *start(),
            user("hm", "complaint", 0, channel, sentiment=-0.2),
            *answered(0),
            user("awful", "complaint", 30, channel, sentiment=-0.9),
        ]

    assert predicted(policy, domain, angry("facebook")) == "action_handoff"
    assert predicted(policy, domain, angry("rest")) is None


def test_the_channel_safety_net_reaches_the_metadata_and_optional_slots(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(
        DOMAIN.replace(
            "slots:\n",
            "slots:\n  handoff_auto_pause: {type: bool, influence_conversation: false, "
            "mappings: [{type: custom}]}\n  handoff_unclaimed_timeout: {type: float, "
            "influence_conversation: false, mappings: [{type: custom}]}\n",
        )
    )
    policy = trained(tmp_path, domain, storage)
    events = [*start(), user("a human", "request_human", 0, channel="rest")]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    slots = {e.key: e.value for e in prediction.optional_events}
    assert slots["handoff_auto_pause"] is False
    assert slots["handoff_unclaimed_timeout"] == 1800.0
    assert prediction.action_metadata["handoff_safety_net"]["channel"] == "rest"


# --- when the policy must stay quiet --------------------------------------------------------------


def test_it_acts_only_before_anything_answered_the_message(
    policy: HandoffPolicy, domain: Domain
) -> None:
    asked = [*start(), user("a human", "request_human", 0)]
    assert predicted(policy, domain, asked) == "action_handoff"
    assert predicted(policy, domain, [*asked, action("utter_greet", 1)]) is None
    slots_only = [*asked, SlotSet("order_id", "1", timestamp=T0 + 0.1)]
    assert predicted(policy, domain, slots_only) == "action_handoff"


def test_a_rewound_fallback_does_not_retrigger_from_a_stale_message(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    """After UserUtteranceReverted, tracker.latest_message is the older "a human" message."""
    policy = trained(tmp_path, domain, storage, "rules: [{name: r, when: {intent: request_human}}]")
    earlier = [*start(), user("a human", "request_human", 0), *answered(0)]
    after_fallback = [
        *earlier,
        user("blorp", "nlu_fallback", 30),
        action("action_default_fallback", 30.2),
        BotUttered("sorry?", timestamp=T0 + 30.3),
        UserUtteranceReverted(timestamp=T0 + 30.4),
    ]
    stale = tracker(domain, after_fallback)
    assert stale.latest_message.text == "a human"
    assert predicted(policy, domain, after_fallback) is None
    reverted_only = [
        *earlier,
        user("blorp", "nlu_fallback", 30),
        UserUtteranceReverted(timestamp=T0 + 31),
    ]
    assert predicted(policy, domain, reverted_only) is None


def test_a_paused_conversation_gets_no_prediction(policy: HandoffPolicy, domain: Domain) -> None:
    events = [*start(), ConversationPaused(timestamp=T0), user("a human", "request_human", 1)]
    assert predicted(policy, domain, events) is None


def test_restart_is_never_taken_over(policy: HandoffPolicy, domain: Domain) -> None:
    events = [*start(), user("/restart", "restart", 0, human_request=1.0)]
    assert predicted(policy, domain, events) is None


def handed_off() -> list[Event]:
    return [
        *start(),
        user("a human", "request_human", 0),
        action("action_handoff", 0.2, metadata={"handoff_rule": "explicit_request"}),
        SlotSet("handoff_active", True, timestamp=T0 + 0.3),
        ConversationPaused(timestamp=T0 + 0.3),
        action("action_listen", 0.4),
    ]


def test_restart_during_a_handoff_keeps_the_customer_with_the_attendant(
    policy: HandoffPolicy, domain: Domain
) -> None:
    events = [*handed_off(), user("/restart", "restart", 60)]
    conversation = tracker(domain, events)
    ours = policy.predict_action_probabilities(conversation, domain)
    rasa_restart = PolicyPrediction(
        confidence_scores_for("action_restart", 1.0, domain), "RulePolicy", 6
    )
    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [rasa_restart, ours], conversation, domain
    )
    assert domain.action_names_or_texts[winner.max_confidence_index] == "action_listen"


def test_restart_of_a_conversation_paused_for_another_reason_is_left_to_rasa(
    policy: HandoffPolicy, domain: Domain
) -> None:
    events = [*start(), ConversationPaused(timestamp=T0), user("/restart", "restart", 60)]
    assert predicted(policy, domain, events) is None


def test_keeping_the_handoff_on_restart_can_be_switched_off(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    policy = trained(tmp_path, domain, storage, keep_handoff_on_restart=False)
    assert predicted(policy, domain, [*handed_off(), user("/restart", "restart", 60)]) is None


def test_the_rule_cooldown_reads_earlier_handoffs_from_the_tracker(
    policy: HandoffPolicy, domain: Domain
) -> None:
    handed_off = [
        *start(),
        user("a human", "request_human", 0),
        SlotSet("handoff_rule", "explicit_request", timestamp=T0 + 0.1),
        action("action_handoff", 0.2, metadata={"handoff_rule": "explicit_request"}),
        action("action_listen", 0.3),
    ]
    assert predicted(policy, domain, [*handed_off, user("a human!", "request_human", 120)]) is None
    assert predicted(policy, domain, [*handed_off, user("a human!", "request_human", 301)]) == (
        "action_handoff"
    )


def test_handoff_slots_carried_into_a_new_session_are_not_a_firing(
    policy: HandoffPolicy, domain: Domain
) -> None:
    """action_session_start carries `handoff_rule` over: that is not a handoff happening now."""
    events = [
        *start(),
        SlotSet("handoff_rule", "explicit_request", timestamp=T0),
        user("a human", "request_human", 60),
    ]
    assert predicted(policy, domain, events) == "action_handoff"


HISTORY_DOMAIN = DOMAIN.replace(
    "slots:\n",
    "slots:\n  handoff_history: {type: any, influence_conversation: false, "
    "mappings: [{type: custom}]}\n",
)


def test_the_history_slot_carries_cooldowns_across_sessions(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(HISTORY_DOMAIN)
    policy = trained(tmp_path, domain, storage)
    carried = SlotSet("handoff_history", {"explicit_request": T0 - 100}, timestamp=T0)
    events = [*start(), carried, user("a human", "request_human", 0)]
    assert predicted(policy, domain, events) is None  # 100 s into its 5 min cooldown
    events = [*start(), carried, user("a human", "request_human", 201)]
    assert predicted(policy, domain, events) == "action_handoff"


def test_a_firing_is_recorded_in_the_history_slot(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(HISTORY_DOMAIN)
    policy = trained(tmp_path, domain, storage)
    history = {"angry": T0 - 10, "forgotten": T0 - 3600}
    events = [
        *start(),
        SlotSet("handoff_history", history, timestamp=T0 - 1),
        user("a human", "request_human", 0),
    ]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    slots = {e.key: e.value for e in prediction.optional_events}
    # The longest cooldown is 5 minutes: an hour-old firing can hold nothing back any more.
    assert slots["handoff_history"] == {"angry": T0 - 10, "explicit_request": T0}


def test_a_story_handoff_counts_for_the_channel_safety_net(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    rules = "safety_net: {default: {cooldown: 10m}}\nrules: [{name: r, when: {intent: complaint}}]"
    policy = trained(tmp_path, domain, storage, rules)
    by_story = [
        *start(),
        user("x", "complaint", 0),
        action("action_handoff", 0.2),
        action("action_listen", 1),
    ]
    assert predicted(policy, domain, [*by_story, user("y", "complaint", 300)]) is None
    assert predicted(policy, domain, [*by_story, user("y", "complaint", 601)]) == "action_handoff"


def test_failed_attempts_count_fallbacks_even_when_rewound(
    policy: HandoffPolicy, domain: Domain
) -> None:
    events = [*start()]
    for i, text in enumerate(["blorp", "flurp", "qwerty"]):
        at = 30.0 * i
        events += [
            user(text, "nlu_fallback" if i == 2 else "greet", at, confidence=0.2),
            action("action_default_fallback", at + 0.2),
            BotUttered("sorry?", timestamp=T0 + at + 0.3),
            UserUtteranceReverted(timestamp=T0 + at + 0.4),
            action("action_listen", at + 0.5),
        ]
    events = events[:-4]  # the last message awaits its prediction
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert prediction.action_metadata["handoff_rule"] == "three_failed_attempts"
    assert "3 fallbacks" in prediction.action_metadata["handoff_reason"]


def test_a_new_session_starts_the_counts_again_but_keeps_the_cooldowns(
    policy: HandoffPolicy, domain: Domain
) -> None:
    previous = [
        *start(),
        user("hm", "complaint", 0, sentiment=-0.9),
        *answered(0),
        user("a human", "request_human", 30),
        action("action_handoff", 30.2, metadata={"handoff_rule": "explicit_request"}),
    ]
    new_session = [
        action("action_session_start", 60),
        SessionStarted(timestamp=T0 + 60),
        action("action_listen", 60),
    ]
    events = [*previous, *new_session, user("awful", "complaint", 90, sentiment=-0.9)]
    assert predicted(policy, domain, events) is None  # message count 1 in this session
    events = [*previous, *new_session, user("a human", "request_human", 90)]
    assert predicted(policy, domain, events) is None  # explicit_request in its 5 min cooldown


# --- against the other policies -------------------------------------------------------------------


def loop_prediction(domain: Domain) -> PolicyPrediction:
    """What RulePolicy predicts inside an active form: the form, as a no-user prediction."""
    return PolicyPrediction(
        confidence_scores_for("order_form", 1.0, domain),
        "RulePolicy",
        6,
        is_no_user_prediction=True,
    )


def in_form(domain: Domain) -> DialogueStateTracker:
    return tracker(
        domain,
        [
            *start(),
            user("where is my order", "order_status", 0),
            action("order_form", 0.1),
            ActiveLoop("order_form", timestamp=T0 + 0.1),
            SlotSet("requested_slot", "order_id", timestamp=T0 + 0.1),
            action("action_listen", 0.2),
            user("this is useless, get me a human", "request_human", 30),
        ],
    )


def test_it_outranks_an_active_form_by_default(policy: HandoffPolicy, domain: Domain) -> None:
    conversation = in_form(domain)
    ours = policy.predict_action_probabilities(conversation, domain)
    assert ours.is_no_user_prediction
    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [loop_prediction(domain), ours], conversation, domain
    )
    assert domain.action_names_or_texts[winner.max_confidence_index] == "action_handoff"
    assert any(isinstance(e, SlotSet) and e.key == "handoff_rule" for e in winner.events)
    assert winner.action_metadata["handoff_rule"] == "explicit_request"


def test_with_outrank_forms_off_the_form_finishes_first(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    policy = trained(tmp_path, domain, storage, outrank_forms=False)
    conversation = in_form(domain)
    ours = policy.predict_action_probabilities(conversation, domain)
    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [loop_prediction(domain), ours], conversation, domain
    )
    assert domain.action_names_or_texts[winner.max_confidence_index] == "order_form"
    assert not any(isinstance(e, SlotSet) and e.key == "handoff_rule" for e in winner.events)


def test_it_beats_a_rule_from_data_on_priority(policy: HandoffPolicy, domain: Domain) -> None:
    """A story or rule in data/ predicting action_handoff too: ours wins and fills the slots."""
    conversation = tracker(domain, [*start(), user("a human", "request_human", 0)])
    from_data = PolicyPrediction(confidence_scores_for("utter_greet", 1.0, domain), "RulePolicy", 6)
    ours = policy.predict_action_probabilities(conversation, domain)
    winner = DefaultPolicyPredictionEnsemble().combine_predictions(
        [from_data, ours], conversation, domain
    )
    assert winner.policy_name == "HandoffPolicy"


def test_priority_is_configurable(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    policy = trained(tmp_path, domain, storage, priority=9)
    events = [*start(), user("a human", "request_human", 0)]
    assert policy.predict_action_probabilities(tracker(domain, events), domain).policy_priority == 9


# --- training and loading -------------------------------------------------------------------------


def test_training_fails_on_a_broken_rules_file_naming_file_line_and_rule(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    with pytest.raises(HandoffRulesError) as caught:
        trained(tmp_path, domain, storage, "rules:\n  - name: r\n    when: {sentiment: '=< 1'}\n")
    assert f"{tmp_path / 'handoff.yml'}:3: rule 'r': bad comparison" in str(caught.value)


def test_training_fails_on_intents_the_domain_lacks(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    with pytest.raises(HandoffRulesError, match=r"handoff.yml:3: rule 'r': intent 'talk_to_human'"):
        trained(
            tmp_path, domain, storage, "rules:\n  - name: r\n    when: {intent: talk_to_human}\n"
        )


def test_training_fails_without_action_handoff_in_the_domain(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(DOMAIN.replace("actions: [action_handoff]", "actions: []"))
    with pytest.raises(HandoffRulesError, match="'action_handoff', which is not in the domain"):
        trained(tmp_path, domain, storage)


def test_training_fails_when_the_rules_file_is_missing(
    domain: Domain, storage: LocalModelStorage, tmp_path: Path
) -> None:
    config = {**HandoffPolicy.get_default_config(), "rules_file": str(tmp_path / "nope.yml")}
    policy = HandoffPolicy.create(config, storage, Resource("handoff"), context())
    with pytest.raises(HandoffRulesError, match=r"nope\.yml: cannot read the handoff rules file"):
        policy.train([], domain)


def test_training_warns_about_missing_slots(tmp_path: Path, storage: LocalModelStorage) -> None:
    domain = Domain.from_yaml(
        "version: '3.1'\nintents: [request_human, complaint]\nactions: [action_handoff]\n"
    )
    with pytest.warns(UserWarning, match="handoff_rule, handoff_reason"):
        trained(tmp_path, domain, storage, "rules: [{name: r, when: {intent: complaint}}]")


def test_the_model_carries_the_rules_it_was_trained_with(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    policy = trained(tmp_path, domain, storage)
    (tmp_path / "handoff.yml").unlink()
    reloaded = HandoffPolicy.load(
        {**HandoffPolicy.get_default_config()}, storage, Resource("handoff"), context()
    )
    assert [r.name for r in reloaded.ruleset.rules] == [r.name for r in policy.ruleset.rules]


def test_a_changed_rules_file_changes_the_fingerprint(tmp_path: Path) -> None:
    rules_file = tmp_path / "handoff.yml"
    rules_file.write_text("rules: []\n")
    config = {"rules_file": str(rules_file), "credentials_file": str(tmp_path / "c.yml")}
    before = HandoffPolicy.fingerprint_addon(config)
    assert HandoffPolicy.fingerprint_addon(config) == before
    rules_file.write_text("rules: [{name: r, when: {intent: x}}]\n")
    assert HandoffPolicy.fingerprint_addon(config) != before


def test_loading_a_model_without_rules_says_to_retrain(storage: LocalModelStorage) -> None:
    with pytest.raises(HandoffRulesError, match="retrain"):
        HandoffPolicy.load(
            {**HandoffPolicy.get_default_config()}, storage, Resource("nothing"), context()
        )


def test_rasa_train_fails_naming_the_rules_file_and_line(tmp_path: Path) -> None:
    """The real `rasa train core` command, in a tiny project whose handoff.yml is broken."""
    (tmp_path / "data").mkdir()
    (tmp_path / "domain.yml").write_text(DOMAIN, encoding="utf-8")
    (tmp_path / "config.yml").write_text(
        textwrap.dedent(
            """
            recipe: default.v1
            assistant_id: handoff-policy-test
            language: en
            pipeline: []
            policies:
              - name: RulePolicy
              - name: handoff_component.HandoffPolicy
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "data" / "rules.yml").write_text(
        'version: "3.1"\nrules:\n- rule: greet\n  steps:\n'
        "  - intent: greet\n  - action: utter_greet\n",
        encoding="utf-8",
    )
    (tmp_path / "handoff.yml").write_text(
        "rules:\n  - name: angry\n    when: {sentiment: '<= -0.6'}\n    chanels: [socketio]\n",
        encoding="utf-8",
    )
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "train", "core", "--out", str(tmp_path / "models")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "handoff.yml:4: rule 'angry': unknown field 'chanels'" in output, output
    assert "Traceback" not in output, output
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
    assert time.monotonic() - started < 120
