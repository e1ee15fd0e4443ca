"""HandoffPolicy at training and loading: a broken rules file, the domain, the fingerprint."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain

from handoff_component.bot.policy import HandoffPolicy, HandoffRulesError
from tests.bot.policy_support import (
    DOMAIN,
    RULES,
    context,
    predicted,
    start,
    trained,
    user,
)


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


def test_training_fails_naming_every_missing_slot_and_response(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(
        "version: '3.1'\nintents: [request_human, complaint]\nactions: [action_handoff]\n"
        "responses:\n  utter_handoff: [{text: hi}]\n"
    )
    with pytest.raises(HandoffRulesError) as caught:
        trained(
            tmp_path,
            domain,
            storage,
            "rules: [{name: r, when: {intent: complaint}}]",
            check_domain=True,
        )
    message = str(caught.value)
    assert "handoff_rule, handoff_reason" in message and "handoff_history" in message
    assert "utter_handoff_unclaimed" in message and "utter_handoff_failed" in message
    assert "utter_handoff," not in message


def test_training_only_warns_about_the_domain_when_told_to(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(
        "version: '3.1'\nintents: [request_human, complaint]\nactions: [action_handoff]\n"
    )
    with pytest.warns(UserWarning, match="handoff_rule, handoff_reason"):
        trained(tmp_path, domain, storage, "rules: [{name: r, when: {intent: complaint}}]")


def test_the_action_name_comes_from_the_rules_file(
    tmp_path: Path, storage: LocalModelStorage
) -> None:
    domain = Domain.from_yaml(
        DOMAIN.replace(
            "actions: [action_handoff]", "actions: [action_handoff, action_handoff_to_human]"
        )
    )
    rules = "settings: {action_name: action_handoff_to_human}\n" + RULES
    policy = trained(tmp_path, domain, storage, rules)
    events = [*start(), user("I want a human", "request_human", at=1)]
    assert predicted(policy, domain, events) == "action_handoff_to_human"
    with pytest.raises(HandoffRulesError, match=r"differs from settings\.action_name"):
        trained(tmp_path, domain, storage, rules, action_name="action_handoff")


def test_a_broken_rules_file_fails_at_fingerprinting(tmp_path: Path) -> None:
    """Rasa fingerprints every node before it trains one: the check runs before any training."""
    rules_file = tmp_path / "handoff.yml"
    rules_file.write_text("rules:\n  - name: r\n    when: {sentiment: '=< 1'}\n")
    config = {"rules_file": str(rules_file), "credentials_file": str(tmp_path / "c.yml")}
    with pytest.raises(HandoffRulesError, match=r"handoff.yml:3: rule 'r': bad comparison"):
        HandoffPolicy.fingerprint_addon(config)
    with pytest.raises(HandoffRulesError, match="does not exist"):
        HandoffPolicy.fingerprint_addon({**config, "rules_file": str(tmp_path / "no.yml")})


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


def _rasa_train_core(tmp_path: Path, rules: str) -> tuple[int, str, float]:
    """The real `rasa train core` command in a tiny project with the given handoff.yml: its exit
    status, its output and how long it took."""
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
              - name: TEDPolicy
                epochs: 1
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
    (tmp_path / "handoff.yml").write_text(rules, encoding="utf-8")
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
    return result.returncode, result.stdout + result.stderr, time.monotonic() - started


def _stopped_before_training(tmp_path: Path, output: str, seconds: float) -> None:
    """Stopped while Rasa fingerprints the graph, before it trains any component."""
    assert "Traceback" not in output, output
    assert "Starting to train component" not in output, output
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
    assert seconds < 120


def test_rasa_train_fails_naming_the_rules_file_and_line(tmp_path: Path) -> None:
    status, output, seconds = _rasa_train_core(
        tmp_path,
        "rules:\n  - name: angry\n    when: {sentiment: '<= -0.6'}\n    chanels: [socketio]\n",
    )
    assert status != 0, output
    assert "handoff.yml:4: rule 'angry': unknown field 'chanels'" in output, output
    _stopped_before_training(tmp_path, output, seconds)


def test_rasa_train_names_an_intent_the_domain_lacks_before_any_component_trains(
    tmp_path: Path,
) -> None:
    """The domain is on Rasa's command line (`--domain`, default domain.yml): the rules are
    checked against it while Rasa fingerprints the graph, not only in HandoffPolicy.train."""
    status, output, seconds = _rasa_train_core(
        tmp_path, "rules:\n  - name: asked\n    when: {intent: talk_to_human}\n"
    )
    assert status != 0, output
    assert "handoff.yml:3: rule 'asked': intent 'talk_to_human' is not in the domain" in output
    _stopped_before_training(tmp_path, output, seconds)


def test_rasa_train_names_the_plugins_missing_responses_before_any_component_trains(
    tmp_path: Path,
) -> None:
    status, output, seconds = _rasa_train_core(
        tmp_path, "rules:\n  - name: asked\n    when: {intent: request_human}\n"
    )
    assert status != 0, output
    assert "The domain lacks what the handoff plugin uses: slots handoff_auto_pause," in output
    assert "; responses utter_handoff, utter_handoff_with_wait," in output
    _stopped_before_training(tmp_path, output, seconds)
