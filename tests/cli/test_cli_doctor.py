"""`python -m handoff_component doctor`: each trap of a bot written before the plugin, and where.

The fixture under tests/data/bots/helpdesk is such a bot (its README lists the traps); the project's
own example bot is the one that passes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from handoff_component.cli.doctor import Finding, diagnose
from handoff_component.contract.domain import PLUGIN_RESPONSES
from tests.shared_secret import SHARED_SECRET

PROJECT_DIR = Path(__file__).resolve().parents[2]
FIXTURE = PROJECT_DIR / "tests" / "data" / "bots" / "helpdesk"


@pytest.fixture
def helpdesk_bot(tmp_path: Path) -> Path:
    """The fixture bot in a git repository of its own, whose .gitignore lists credentials.yml."""
    bot = tmp_path / "helpdesk"
    shutil.copytree(FIXTURE, bot)
    (bot / "gitignore").rename(bot / ".gitignore")
    subprocess.run(["git", "init", "-q", str(bot)], check=True)
    return bot


def _doctor(bot: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "handoff_component", "doctor", str(bot)],
        capture_output=True,
        text=True,
        cwd=PROJECT_DIR,
        timeout=120,
        check=False,
    )


def _find(findings: list[Finding], file: str, text: str) -> Finding:
    matching = [f for f in findings if f.file.name == file and text in f.message]
    assert matching, f"no finding in {file} about {text!r}: {[f.message for f in findings]}"
    return matching[0]


def test_the_example_bot_is_ready_for_the_plugin() -> None:
    done = _doctor(PROJECT_DIR)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ready for the handoff plugin (0 errors, 0 warnings" in done.stdout


def test_a_bot_with_every_trap_fails_with_each_one_named(helpdesk_bot: Path) -> None:
    done = _doctor(helpdesk_bot)
    assert done.returncode == 1
    assert "problems found" in done.stdout
    # Each finding names its file and line, then the fix on the next line.
    assert "actions/actions.py:9: error: the bot's own class ActionHandoff" in done.stdout
    assert "    fix: name the plugin's action otherwise in handoff.yml" in done.stdout


def test_the_bots_own_action_handoff_is_named_with_its_line(helpdesk_bot: Path) -> None:
    finding = _find(diagnose(helpdesk_bot), "actions.py", "registers action_handoff")
    assert (finding.severity, finding.line) == ("error", 9)
    assert "refuses to start" in finding.message
    assert "action_name: action_handoff_to_human" in finding.fix


def test_naming_the_plugins_action_otherwise_clears_the_collision(helpdesk_bot: Path) -> None:
    (helpdesk_bot / "handoff.yml").write_text(
        "settings: {action_name: action_handoff_to_human}\n"
        "rules: [{name: asked, when: {intent: talk_to_agent}}]\n"
    )
    findings = diagnose(helpdesk_bot)
    assert not [f for f in findings if "registers action_handoff" in f.message]
    assert _find(findings, "domain.yml", "action action_handoff_to_human is not listed")


def test_the_plugin_actions_not_imported_by_the_action_package_is_an_error(
    helpdesk_bot: Path,
) -> None:
    finding = _find(diagnose(helpdesk_bot), "__init__.py", "does not import the plugin's actions")
    assert finding.severity == "error"


def test_each_missing_response_and_the_missing_slots_are_errors(helpdesk_bot: Path) -> None:
    findings = diagnose(helpdesk_bot)
    for name in PLUGIN_RESPONSES:
        if name == "utter_handoff":  # the bot has its own
            assert not [f for f in findings if f"response {name} is missing" in f.message]
        else:
            assert _find(findings, "domain.yml", f"response {name} is missing").severity == "error"
    slots = _find(findings, "domain.yml", "the plugin's slots are missing")
    assert "handoff_history" in slots.message and slots.line == 7
    # HandoffPolicy re-pauses a new session itself: no custom action_session_start is needed.
    assert not [f for f in findings if "action_session_start" in f.message]


def test_a_catch_all_the_rules_do_not_count_is_a_warning_without_a_fallback_classifier(
    helpdesk_bot: Path,
) -> None:
    # out_of_scope is a failed attempt by default ...
    assert not [f for f in diagnose(helpdesk_bot) if "intent out_of_scope" in f.message]
    # ... unless the rules file narrows the list.
    (helpdesk_bot / "handoff.yml").write_text(
        "settings: {fallback_intents: [nlu_fallback]}\n"
        "rules: [{name: asked, when: {intent: talk_to_agent}}]\n"
    )
    finding = _find(diagnose(helpdesk_bot), "domain.yml", "intent out_of_scope")
    assert (finding.severity, finding.line) == ("warning", 6)
    assert "settings.fallback_intents" in finding.fix


def test_a_human_request_intent_the_rules_do_not_know_is_a_warning(helpdesk_bot: Path) -> None:
    findings = diagnose(helpdesk_bot)
    finding = _find(findings, "domain.yml", "intent talk_to_agent asks for a person")
    assert (finding.severity, finding.line) == ("warning", 5)


def test_scorer_and_rules_disagreeing_on_human_request_intents_is_a_warning(
    helpdesk_bot: Path,
) -> None:
    finding = _find(diagnose(helpdesk_bot), "config.yml", "human_request_intents (talk_to_agent)")
    assert finding.severity == "warning"


def test_missing_scorer_policy_rules_file_connector_and_broker_are_errors(
    helpdesk_bot: Path,
) -> None:
    findings = diagnose(helpdesk_bot)
    assert _find(findings, "config.yml", "HandoffPolicy is not among the policies").line == 11
    assert _find(findings, "handoff.yml", "cannot read the rules file").severity == "error"
    assert _find(findings, "credentials.yml", "HandoffConnector is not in credentials.yml")
    broker = _find(findings, "endpoints.yml", "the event broker is 'kafka'")
    assert "forward_to" in broker.fix and broker.line == 3


def test_the_in_memory_tracker_store_is_a_warning(helpdesk_bot: Path) -> None:
    finding = _find(diagnose(helpdesk_bot), "endpoints.yml", "in-memory one")
    assert finding.severity == "warning"
    assert "cooldowns" in finding.message


def test_stories_and_test_stories_that_compete_with_the_trigger_rules_are_named(
    helpdesk_bot: Path,
) -> None:
    (helpdesk_bot / "handoff.yml").write_text(
        "settings:\n  human_request_intents: [talk_to_agent]\n"
        "rules:\n  - name: asked\n    when:\n      intent: talk_to_agent\n",
        encoding="utf-8",
    )
    findings = diagnose(helpdesk_bot)
    test_story = _find(findings, "test_stories.yml", "answers talk_to_agent with utter_handoff")
    assert test_story.line == 8
    # The bot's story predicts action_handoff first: that is the plugin's action, not a rival.
    assert not [f for f in findings if f.file.name == "stories.yml"]


def test_a_credentials_file_that_git_ignores_is_a_warning(helpdesk_bot: Path) -> None:
    finding = _find(diagnose(helpdesk_bot), "credentials.yml", "git ignores credentials.yml")
    assert finding.severity == "warning"
    (helpdesk_bot / ".gitignore").write_text("models/\n", encoding="utf-8")
    assert not [f for f in diagnose(helpdesk_bot) if "git ignores" in f.message]


def test_variables_rasa_will_need_are_notes_naming_their_line(tmp_path: Path) -> None:
    bot = tmp_path / "bot"
    shutil.copytree(PROJECT_DIR, bot, ignore=shutil.ignore_patterns(".*", "models", "tests"))
    findings = diagnose(bot, environ={"HANDOFF_SECRET": SHARED_SECRET})
    outbox = _find(findings, "endpoints.yml", "${HANDOFF_OUTBOX}")
    assert outbox.severity == "note" and outbox.line == 22
    assert not [f for f in findings if "HANDOFF_SECRET" in f.message]


def test_a_handoff_secret_rasa_would_refuse_is_an_error_on_each_line_reading_it(
    tmp_path: Path,
) -> None:
    """What the connector, the broker and the action server refuse at start (a placeholder of
    deploy/production.env.example here), doctor says before anything is started."""
    bot = tmp_path / "bot"
    shutil.copytree(PROJECT_DIR, bot, ignore=shutil.ignore_patterns(".*", "models", "tests"))

    findings = diagnose(bot, environ={"HANDOFF_SECRET": "change-me-shared-hmac-secret"})

    refused = [f for f in findings if f.message.startswith("HANDOFF_SECRET is a placeholder")]
    assert [(f.severity, f.file.name) for f in refused] == [
        ("error", "credentials.yml"),
        ("error", "endpoints.yml"),
    ]
    assert "refuse to start" in refused[0].message


def test_a_test_story_expecting_the_handoff_without_its_slot_is_a_warning(
    helpdesk_bot: Path,
) -> None:
    """`rasa test` runs no action, so the policy reads a bare handoff action as failed."""
    test_stories = helpdesk_bot / "tests" / "test_stories.yml"
    test_stories.write_text(
        test_stories.read_text().replace("- action: utter_handoff", "- action: action_handoff")
    )
    finding = _find(diagnose(helpdesk_bot), "test_stories.yml", "without the slot it sets")
    assert (finding.severity, finding.line) == ("warning", 8)
    assert "slot_was_set: [handoff_active: true]" in finding.fix
    test_stories.write_text(
        test_stories.read_text() + "      - slot_was_set:\n          - handoff_active: true\n"
    )
    assert not [f for f in diagnose(helpdesk_bot) if "without the slot" in f.message]
