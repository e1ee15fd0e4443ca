"""When HandoffPolicy must not act: answered or rewound messages, pauses, restarts, cooldowns."""

from __future__ import annotations

from pathlib import Path

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    BotUttered,
    ConversationPaused,
    Event,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)

from handoff_component.bot.policy import HandoffPolicy
from tests.bot.policy_support import (
    HISTORY_DOMAIN,
    T0,
    action,
    answered,
    predicted,
    start,
    tracker,
    trained,
    user,
)


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
