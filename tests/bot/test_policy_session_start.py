"""A new session while a human has the conversation: the policy pauses again, so Rasa's own
action_session_start suffices and a new conversation never waits on the action server."""

from __future__ import annotations

from pathlib import Path

from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ConversationPaused, SessionStarted, SlotSet

from handoff_component.bot.policy import HandoffPolicy
from tests.bot.policy_support import action, predicted, tracker, trained, user


def test_a_session_started_during_a_handoff_is_paused_again(
    policy: HandoffPolicy, domain: Domain
) -> None:
    events = [
        action("action_session_start", 100),
        SessionStarted(timestamp=100.0),
        SlotSet("handoff_active", True),
        action("action_listen", 100),
        user("hello? anyone there", "greet", at=101),
    ]
    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)
    assert domain.action_names_or_texts[prediction.max_confidence_index] == "action_listen"
    assert prediction.is_no_user_prediction
    assert any(isinstance(e, ConversationPaused) for e in prediction.optional_events)


def test_after_a_hand_back_the_bot_answers(policy: HandoffPolicy, domain: Domain) -> None:
    events = [
        action("action_session_start", 100),
        SessionStarted(timestamp=100.0),
        SlotSet("handoff_active", False),
        action("action_listen", 100),
        user("I want a human", "request_human", at=101),
    ]
    assert predicted(policy, domain, events) == "action_handoff"


def test_a_new_conversation_needs_no_custom_session_start(
    tmp_path: Path, domain: Domain, storage: LocalModelStorage
) -> None:
    """The example bot leaves action_session_start to Rasa (its domain does not list it)."""
    project = Path(__file__).resolve().parents[2]
    example = Domain.load(project / "domain.yml")
    assert "action_session_start" not in example.user_actions
    policy = trained(tmp_path, domain, storage)
    assert predicted(policy, domain, [user("hi", "greet", at=1)]) is None
