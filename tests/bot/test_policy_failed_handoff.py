"""HandoffPolicy when `action_handoff` could not run (action server down, action crashed).

Rasa logs the error, records the action with none of its events and asks for the next action.
The customer must hear an honest answer rather than silence, and asking again once the action
server is back must hand over: the failed attempt holds no cooldown back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet

from tests.bot.policy_support import (
    DOMAIN,
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

FAILURE_RESPONSE = '  utter_handoff_failed: [{text: "sorry, try again later"}]\n'


def with_failure_response(domain_yaml: str) -> Domain:
    return Domain.from_yaml(domain_yaml.replace("responses:\n", "responses:\n" + FAILURE_RESPONSE))


@pytest.fixture()
def storage(tmp_path: Path) -> LocalModelStorage:
    (tmp_path / "storage").mkdir()
    return LocalModelStorage(tmp_path / "storage")


def failed_handoff(at: float = 0.0) -> list:
    """What Rasa's processor leaves when the action server is down: the policy's slots, then
    the action event, and nothing the action would have returned."""
    return [
        user("a human", "request_human", at),
        SlotSet("handoff_rule", "explicit_request", timestamp=T0 + at + 0.1),
        action("action_handoff", at + 0.2, metadata={"handoff_rule": "explicit_request"}),
    ]


def told_to_retry(at: float = 0.0) -> list:
    return [
        action("utter_handoff_failed", at + 0.3),
        BotUttered("sorry, try again later", timestamp=T0 + at + 0.4),
        action("action_listen", at + 0.5),
    ]


def test_a_handoff_action_that_returned_nothing_is_followed_by_the_failure_response(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = with_failure_response(DOMAIN)
    policy = trained(tmp_path, domain, storage)

    assert predicted(policy, domain, [*start(), *failed_handoff()]) == "utter_handoff_failed"


def test_after_the_failure_response_the_bot_listens(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = with_failure_response(DOMAIN)
    policy = trained(tmp_path, domain, storage)
    events = [*start(), *failed_handoff(), action("utter_handoff_failed", 0.3)]
    events.append(BotUttered("sorry, try again later", timestamp=T0 + 0.4))

    assert predicted(policy, domain, events) == "action_listen"


def test_a_handoff_action_that_worked_is_not_a_failure(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = with_failure_response(DOMAIN)
    policy = trained(tmp_path, domain, storage)
    events = [*start(), *failed_handoff(), SlotSet("handoff_active", True, timestamp=T0 + 0.3)]

    assert predicted(policy, domain, events) is None


def test_asking_again_after_a_failed_attempt_hands_over_despite_the_cooldown(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = with_failure_response(DOMAIN)
    policy = trained(tmp_path, domain, storage)
    events = [*start(), *failed_handoff(0), *told_to_retry(0), user("a human", "request_human", 60)]

    assert predicted(policy, domain, events) == "action_handoff"


def test_a_successful_handoff_still_holds_its_cooldown(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = with_failure_response(DOMAIN)
    policy = trained(tmp_path, domain, storage)
    events = [
        *start(),
        *failed_handoff(0),
        *answered(0, "utter_handoff"),
        user("a human", "request_human", 60),
    ]

    assert predicted(policy, domain, events) is None


def test_the_failed_rule_leaves_the_history_slot(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = with_failure_response(HISTORY_DOMAIN)
    policy = trained(tmp_path, domain, storage)
    history = SlotSet("handoff_history", {"explicit_request": T0, "angry": T0 - 10})
    *asked, handoff_action = failed_handoff()
    events = [*start(), *asked, history, handoff_action]

    prediction = policy.predict_action_probabilities(tracker(domain, events), domain)

    slots = {e.key: e.value for e in prediction.optional_events if isinstance(e, SlotSet)}
    assert slots == {"handoff_history": {"angry": T0 - 10}}


def test_without_the_response_in_the_domain_nothing_changes(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(DOMAIN)
    policy = trained(tmp_path, domain, storage)

    assert predicted(policy, domain, [*start(), *failed_handoff()]) is None


def test_after_a_handoff_that_did_not_pause_the_bot_listens_without_a_fallback(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    # auto_pause: false: the action returned its slots and the alert, and no pause. No story
    # continues after it; without a prediction here Rasa's fallback ran and its rewind undid
    # the ticket's slots.
    domain = Domain.from_yaml(DOMAIN)
    policy = trained(tmp_path, domain, storage)
    events = [
        *start(),
        user("a human", "request_human", 0.0),
        SlotSet("handoff_rule", "explicit_request", timestamp=T0 + 0.1),
        action("action_handoff", 0.2, metadata={"handoff_rule": "explicit_request"}),
        BotUttered("I've also asked a colleague", timestamp=T0 + 0.3),
        SlotSet("handoff_active", False, timestamp=T0 + 0.3),
    ]

    assert predicted(policy, domain, events) == "action_listen"
    assert predicted(policy, domain, [*events, action("action_listen", 0.4)]) is None
