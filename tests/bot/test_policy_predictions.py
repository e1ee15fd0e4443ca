"""HandoffPolicy's predictions: the rule that fires, its slots and metadata, scores and channels."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    Event,
    SlotSet,
)

from handoff_component.bot.policy import HandoffPolicy
from tests.bot.policy_support import (
    DOMAIN,
    answered,
    predicted,
    start,
    tracker,
    trained,
    user,
)


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
