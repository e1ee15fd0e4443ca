"""HandoffPolicy in Rasa's ensemble: against an active form and rules from data, by priority."""

from __future__ import annotations

from pathlib import Path

from rasa.core.policies.ensemble import DefaultPolicyPredictionEnsemble
from rasa.core.policies.policy import PolicyPrediction, confidence_scores_for
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActiveLoop,
    SlotSet,
)
from rasa.shared.core.trackers import DialogueStateTracker

from handoff_component.bot.policy import HandoffPolicy
from tests.bot.policy_support import (
    T0,
    action,
    start,
    tracker,
    trained,
    user,
)


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
